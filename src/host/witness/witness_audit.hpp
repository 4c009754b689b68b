// audit_witness: verifies a sealed witness file and names its first problem;
// tells a complete (closed) log from an unfinished or truncated one.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>

#include "host/posix/posix_io.hpp"
#include "host/witness/forward_secure.hpp"
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
    // The forward-secure verification key (kept off the host). With it every
    // seal's epoch MAC is checked with the key of the epoch its records are in.
    std::optional<FssVerifyKey> forward_secure = std::nullopt;
    // Wall-clock "now" for refusing seals from future epochs; 0: the real time.
    std::uint64_t now_realtime_ns = 0;
};

enum class WitnessVerdict : std::uint8_t {
    kComplete,    // every record sealed, closed with the end marker
    kUnfinished,  // no end marker: verified up to the last seal, the rest is unauthenticated
    kTampered,    // a problem was found
    kNotWitness,  // not an RVM witness file of this version
};

struct AuditReport {
    WitnessFault fault;                  // the first problem; kNone if none
    std::uint64_t expected = 0;          // for sequence, timestamp, chain and field faults:
    std::uint64_t found = 0;             //   the value wanted and the value read
    std::uint64_t records = 0;           // complete records in the file
    std::uint64_t sealed_segments = 0;   // seals verified
    std::uint64_t sealed_records = 0;    // records covered by verified seals
    std::uint64_t tail_records = 0;      // records after the last seal (unauthenticated)
    std::uint64_t partial_bytes = 0;     // a cut-off entry at the very end
    bool complete = false;               // the last seal is the end marker
    bool authenticity_verified = false;  // seals checked against a trusted key
    bool tail_hashes_checked = false;    // a chain key for the tail was known
    bool forward_secure = false;         // the header says seals carry epoch MACs
    bool epochs_verified = false;        // ... and they were checked with the verification key
    std::uint64_t first_epoch = 0;       // of the seals, when forward_secure
    std::uint64_t last_epoch = 0;
    PublicKey header_key{};

    [[nodiscard]] bool intact() const { return fault.problem == WitnessProblem::kNone; }
    [[nodiscard]] WitnessVerdict verdict() const;
};

[[nodiscard]] AuditReport audit_witness(std::span<const std::uint8_t> file, const AuditOptions& options);
// IoError when the file cannot be read at all, is not a regular file, or is
// above the limit (checked before reading).
[[nodiscard]] Result<AuditReport, IoError> audit_witness_file(const std::string& path, const AuditOptions& options);

// The one-line verdict: "COMPLETE: ...", "UNFINISHED: ...", "TAMPERED OR
// CORRUPT: <where>: <what>" or "NOT A WITNESS FILE: ...".
[[nodiscard]] std::string describe(const AuditReport& report);
// "record 70 (byte 4736)", "seal of segment 1 (byte 8448)", "header", "file".
[[nodiscard]] std::string describe_site(const WitnessFault& fault);

}  // namespace rvm::host
