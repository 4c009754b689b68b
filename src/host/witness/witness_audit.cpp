#include "host/witness/witness_audit.hpp"

#include <fmt/format.h>

#include "host/witness/sodium_hash.hpp"
#include "host/witness/witness_seal.hpp"

namespace rvm::host {

namespace {

class Auditor {
public:
    Auditor(const WitnessReader& reader, const AuditOptions& options, AuditReport& report)
        : reader_(reader), options_(options), report_(report) {}

    // Walks the file in order; returns false at the first problem (recorded in report_).
    bool run() {
        const PublicKey trusted = report_.authenticity_verified ? *options_.trusted_key : report_.header_key;
        for (std::uint64_t s = 0; s < reader_.sealed_segments(); ++s) {
            const WitnessSeal seal = reader_.seal(s);
            // Record hashes are checked only with a key whose seal verifies:
            // a forged key would blame an innocent record for the seal's fault.
            const bool signed_ok = seal.magic == kWitnessSealMagic && seal_signed_by(seal, trusted);
            std::optional<MacKey> key;
            if (signed_ok) key = MacKey{seal.disclosed_key};
            if (!check_records(s * kWitnessSegmentRecords, (s + 1) * kWitnessSegmentRecords, key)) return false;
            if (!check_seal(s, seal, signed_ok, trusted)) return false;
        }
        std::optional<MacKey> tail_key;
        if (options_.chain_master) tail_key = segment_key(hash_, *options_.chain_master, reader_.sealed_segments());
        report_.tail_hashes_checked = tail_key.has_value();
        return check_records(reader_.sealed_segments() * kWitnessSegmentRecords, reader_.record_count(), tail_key);
    }

private:
    bool fail(WitnessProblem p, std::uint64_t index, std::uint64_t offset, std::uint64_t expected = 0,
              std::uint64_t found = 0) {
        report_.fault = WitnessFault{p, index, offset};
        report_.expected = expected;
        report_.found = found;
        return false;
    }

    bool check_records(std::uint64_t first, std::uint64_t end, const std::optional<MacKey>& key) {
        for (std::uint64_t i = first; i < end; ++i) {
            const WitnessRecord r = reader_.record(i);
            const std::uint64_t at = record_offset(i);
            if (r.sequence() != i) return fail(WitnessProblem::kSequenceMismatch, i, at, i, r.sequence());
            if (!witness_kind_known(r.kind())) return fail(WitnessProblem::kUnknownKind, i, at, 0, r.kind());
            if (r.raw.reserved[0] != 0 || r.raw.reserved[1] != 0) return fail(WitnessProblem::kReservedNonZero, i, at);
            if (r.timestamp_ns() < prev_time_) {
                return fail(WitnessProblem::kTimestampBackwards, i, at, prev_time_, r.timestamp_ns());
            }
            if (r.chain_hash_before() != prev_hash_) {
                return fail(WitnessProblem::kChainBreak, i, at, prev_hash_, r.chain_hash_before());
            }
            if (key && compute_record_hash(hash_, *key, r) != r.record_hash()) {
                return fail(WitnessProblem::kRecordHashMismatch, i, at);
            }
            prev_time_ = r.timestamp_ns();
            prev_hash_ = r.record_hash();
        }
        return true;
    }

    // `signed_ok`: the seal verified under `trusted` (computed once by the caller).
    bool check_seal(std::uint64_t s, const WitnessSeal& seal, bool signed_ok, const PublicKey& trusted) {
        const std::uint64_t at = seal_offset(s);
        if (seal.magic != kWitnessSealMagic) return fail(WitnessProblem::kSealBadMagic, s, at);
        if (!signed_ok) {
            const bool other = report_.header_key != trusted && seal_signed_by(seal, report_.header_key);
            return fail(other ? WitnessProblem::kSealUntrustedSigner : WitnessProblem::kSealBadSignature, s, at);
        }
        if (seal.segment != s) return fail(WitnessProblem::kSealBadField, s, at, s, seal.segment);
        const std::uint64_t first = s * kWitnessSegmentRecords;
        if (seal.first_sequence != first) return fail(WitnessProblem::kSealBadField, s, at, first, seal.first_sequence);
        if (seal.record_count != kWitnessSegmentRecords) {
            return fail(WitnessProblem::kSealBadField, s, at, kWitnessSegmentRecords, seal.record_count);
        }
        const bool reserved_zero = seal.reserved0 == 0 && seal.reserved1 == decltype(seal.reserved1){};
        if (!reserved_zero) return fail(WitnessProblem::kSealBadField, s, at);
        if (seal.prev_digest != prev_digest_) return fail(WitnessProblem::kSealWrongPrevDigest, s, at);
        SegmentDigest digest(prev_digest_, s);
        digest.add(reader_.segment_bytes(s));
        if (seal.digest != digest.finish()) return fail(WitnessProblem::kSealBadDigest, s, at);
        if (options_.chain_master && segment_key(hash_, *options_.chain_master, s) != MacKey{seal.disclosed_key}) {
            return fail(WitnessProblem::kSealWrongKey, s, at);
        }
        prev_digest_ = seal.digest;
        return true;
    }

    const WitnessReader& reader_;
    const AuditOptions& options_;
    AuditReport& report_;
    SodiumHash hash_;
    std::uint64_t prev_hash_ = 0;
    std::uint64_t prev_time_ = 0;
    SealDigest prev_digest_{};
};

}  // namespace

AuditReport audit_witness(std::span<const std::uint8_t> file, const AuditOptions& options) {
    AuditReport report;
    report.authenticity_verified = options.trusted_key.has_value();
    // Verification uses only deterministic primitives (BLAKE2b, SipHash,
    // Ed25519 verify), which are correct even if sodium_init() could not pick
    // optimized implementations; init is still attempted for speed.
    (void)sodium_ready();
    auto reader = WitnessReader::open(file, options.max_bytes);
    if (!reader) {
        report.fault = reader.error();
        return report;
    }
    const WitnessReader& r = reader.value();
    report.header_key.bytes = r.header().public_key;
    report.records = r.record_count();
    report.sealed_segments = r.sealed_segments();
    report.tail_records = r.record_count() - r.sealed_segments() * kWitnessSegmentRecords;
    Auditor auditor(r, options, report);
    if (!auditor.run()) return report;
    // A clean body followed by a cut-off record or seal.
    if (const WitnessFault end = r.end_fault(); end.problem != WitnessProblem::kNone) {
        report.fault = end;
        return report;
    }
    // Every seal verified under the trusted key, yet the header names another.
    if (report.authenticity_verified && report.header_key != *options.trusted_key) {
        report.fault = WitnessFault{WitnessProblem::kHeaderKeyNotTrusted, 0, 32};
    }
    return report;
}

Result<AuditReport, IoError> audit_witness_file(const std::string& path, const AuditOptions& options) {
    auto bytes = read_file(path, options.max_bytes);
    if (!bytes) return err(bytes.error());
    return audit_witness(bytes.value(), options);
}

std::string describe_site(const WitnessFault& fault) {
    switch (problem_site(fault.problem)) {
        case WitnessSite::kNone: return "nowhere";
        case WitnessSite::kFile: return "file";
        case WitnessSite::kHeader: return fmt::format("header (byte {})", fault.offset);
        case WitnessSite::kRecord: return fmt::format("record {} (byte {})", fault.index, fault.offset);
        case WitnessSite::kSeal: return fmt::format("seal of segment {} (byte {})", fault.index, fault.offset);
    }
    return "nowhere";
}

std::string describe(const AuditReport& report) {
    if (!report.intact()) {
        std::string line =
            fmt::format("TAMPERED OR CORRUPT: {}: {}", describe_site(report.fault), problem_text(report.fault.problem));
        switch (report.fault.problem) {
            case WitnessProblem::kSequenceMismatch:
            case WitnessProblem::kTimestampBackwards:
            case WitnessProblem::kSealBadField:
                line += fmt::format(" (expected {}, found {})", report.expected, report.found);
                break;
            case WitnessProblem::kChainBreak:
                line += fmt::format(" (expected {:#018x}, found {:#018x})", report.expected, report.found);
                break;
            case WitnessProblem::kUnknownKind: line += fmt::format(" ({:#04x})", report.found); break;
            default: break;
        }
        return line;
    }
    std::string line = fmt::format("INTACT: {} records, {} sealed segments, {} unsealed tail records", report.records,
                                   report.sealed_segments, report.tail_records);
    line += report.authenticity_verified ? "; seals signed by the trusted key"
                                         : "; AUTHENTICITY UNVERIFIED (checked against the key inside the file)";
    if (report.tail_records > 0) {
        // The tail's chain key is derived from the host's secret master key:
        // with it, rewriting the tail is detected; removing its last records
        // cannot be, by anyone, until a seal covers them.
        line += fmt::format("; the {} tail records are unsealed: {}; removing the newest of them cannot be detected",
                            report.tail_records,
                            report.tail_hashes_checked ? "their hashes verify under the chain master key"
                                                       : "their hashes need the chain master key to verify");
    }
    return line;
}

}  // namespace rvm::host
