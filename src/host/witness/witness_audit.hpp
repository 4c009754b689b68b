// audit_witness: verifies a sealed witness file and names its first problem.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>

#include "host/posix/posix_io.hpp"
#include "host/witness/signing_key.hpp"
#include "host/witness/witness_reader.hpp"
#include "nucleus/keyed_hash.hpp"

namespace rvm::host {

struct AuditOptions {
    // The key the seals must be signed with. Without it the header's key is
    // used and the report says authenticity is unverified.
    std::optional<PublicKey> trusted_key;
    // The log's master chain key (secret, kept by the host that wrote it).
    // With it every segment key is derived: the unsealed tail's record hashes
    // are checked, and each seal's disclosed key must be its segment's key.
    std::optional<MacKey> chain_master;
    std::uint64_t max_bytes = kWitnessMaxFileBytes;
};

struct AuditReport {
    WitnessFault fault;                  // the first problem; kNone if intact
    std::uint64_t expected = 0;          // for sequence, timestamp and chain faults:
    std::uint64_t found = 0;             //   the value wanted and the value read
    std::uint64_t records = 0;           // complete records in the file
    std::uint64_t sealed_segments = 0;   // segments followed by a seal
    std::uint64_t tail_records = 0;      // records after the last seal (not sealed)
    bool authenticity_verified = false;  // seals checked against a trusted key
    bool tail_hashes_checked = false;    // a chain key for the tail was known
    PublicKey header_key{};

    [[nodiscard]] bool intact() const { return fault.problem == WitnessProblem::kNone; }
};

[[nodiscard]] AuditReport audit_witness(std::span<const std::uint8_t> file, const AuditOptions& options);
// IoError only when the file cannot be read at all (or is above the limit).
[[nodiscard]] Result<AuditReport, IoError> audit_witness_file(const std::string& path, const AuditOptions& options);

// The one-line verdict: "INTACT: ..." or "TAMPERED OR CORRUPT: <where>: <what>".
[[nodiscard]] std::string describe(const AuditReport& report);
// "record 70 (byte 4736)", "seal of segment 1 (byte 8448)", "header", "file".
[[nodiscard]] std::string describe_site(const WitnessFault& fault);

}  // namespace rvm::host
