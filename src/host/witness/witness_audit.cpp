#include "host/witness/witness_audit.hpp"

#include <fmt/format.h>
#include <time.h>

#include "host/witness/sodium_hash.hpp"
#include "host/witness/witness_seal.hpp"

namespace rvm::host {

namespace {

std::uint64_t realtime_now_ns() {
    timespec ts{};
    (void)::clock_gettime(CLOCK_REALTIME, &ts);
    return static_cast<std::uint64_t>(ts.tv_sec) * 1'000'000'000u + static_cast<std::uint64_t>(ts.tv_nsec);
}

class Auditor {
public:
    Auditor(const WitnessReader& reader, const AuditOptions& options, AuditReport& report)
        : reader_(reader), options_(options), report_(report) {
        if (options_.forward_secure) chain_.emplace(FssKeyChain::from_seed(options_.forward_secure->seed));
    }

    // Walks the file in order; returns false at the first problem (recorded in report_).
    bool run() {
        const bool header_fs = (reader_.header().flags & kHeaderForwardSecure) != 0;
        report_.forward_secure = header_fs;
        if (options_.forward_secure && !header_fs) return fail(WitnessProblem::kNotForwardSecure, 0, 28);
        prev_digest_ = head_digest(reader_.header_bytes());
        const PublicKey trusted = report_.authenticity_verified ? *options_.trusted_key : report_.header_key;
        std::uint64_t s = 0;
        for (const SegmentView& v : reader_.segments()) {
            if (ended_) return fail(WitnessProblem::kDataAfterEnd, v.first_record, v.records_offset);
            if (v.record_count > kWitnessSegmentRecords) {
                const std::uint64_t i = v.first_record + kWitnessSegmentRecords;
                return fail(WitnessProblem::kSegmentTooLong, i, v.records_offset + kWitnessSegmentBytes());
            }
            if (!v.sealed) {
                std::optional<MacKey> tail_key;
                if (options_.chain_master) tail_key = segment_key(hash_, *options_.chain_master, s);
                report_.tail_hashes_checked = tail_key.has_value();
                report_.tail_records = v.record_count;
                if (!check_records(v, tail_key)) return false;
                continue;
            }
            const WitnessSeal seal = reader_.seal(v);
            // Record hashes are checked only with a key whose seal verifies:
            // a forged key would blame an innocent record for the seal's fault.
            const bool signed_ok = seal_signed_by(seal, trusted);
            std::optional<MacKey> key;
            if (signed_ok) key = MacKey{seal.disclosed_key};
            if (!check_records(v, key)) return false;
            if (!check_seal(s, v, seal, signed_ok, trusted)) return false;
            ++s;
            report_.sealed_segments = s;
            report_.sealed_records += v.record_count;
            ended_ = (seal.flags & kSealEnd) != 0;
        }
        report_.partial_bytes = reader_.partial_bytes();
        if (ended_ && report_.partial_bytes > 0) {
            return fail(WitnessProblem::kDataAfterEnd, reader_.record_count(), reader_.partial_offset());
        }
        report_.complete = ended_;
        report_.epochs_verified = header_fs && chain_.has_value() && s > 0;
        return true;
    }

private:
    static constexpr std::uint64_t kWitnessSegmentBytes() { return kWitnessSegmentRecords * kWitnessRecordBytes; }

    bool fail(WitnessProblem p, std::uint64_t index, std::uint64_t offset, std::uint64_t expected = 0,
              std::uint64_t found = 0) {
        report_.fault = WitnessFault{p, index, offset};
        report_.expected = expected;
        report_.found = found;
        return false;
    }

    bool check_records(const SegmentView& v, const std::optional<MacKey>& key) {
        for (std::uint64_t k = 0; k < v.record_count; ++k) {
            const std::uint64_t i = v.first_record + k;
            const std::uint64_t at = v.records_offset + k * kWitnessRecordBytes;
            const WitnessRecord r = reader_.record(i);
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
    bool check_seal(std::uint64_t s, const SegmentView& v, const WitnessSeal& seal, bool signed_ok,
                    const PublicKey& trusted) {
        const std::uint64_t at = v.seal_offset;
        if (!signed_ok) {
            const bool other = report_.header_key != trusted && seal_signed_by(seal, report_.header_key);
            return fail(other ? WitnessProblem::kSealUntrustedSigner : WitnessProblem::kSealBadSignature, s, at);
        }
        auto bad = [&](std::uint64_t expected, std::uint64_t found) {
            return fail(WitnessProblem::kSealBadField, s, at, expected, found);
        };
        if (seal.segment != s) return bad(s, seal.segment);
        if (seal.first_sequence != v.first_record) return bad(v.first_record, seal.first_sequence);
        if (seal.record_count != v.record_count) return bad(v.record_count, seal.record_count);
        if ((seal.flags & ~kSealKnownFlags) != 0) return bad(0, seal.flags);
        if (seal.record_count == 0 && (seal.flags & kSealEnd) == 0) return bad(1, 0);
        const bool fs = (seal.flags & kSealForwardSecure) != 0;
        if (fs != report_.forward_secure) return bad(report_.forward_secure ? 1 : 0, fs ? 1 : 0);
        if (!fs && (seal.epoch != 0 || seal.epoch_mac != decltype(seal.epoch_mac){})) return bad(0, seal.epoch);
        if (seal.reserved != decltype(seal.reserved){}) return bad(0, 1);
        if (s == 0) clock_offset_ = seal.clock_offset_ns;
        if (seal.clock_offset_ns != clock_offset_) {
            return bad(static_cast<std::uint64_t>(clock_offset_), static_cast<std::uint64_t>(seal.clock_offset_ns));
        }
        if (seal.prev_digest != prev_digest_) return fail(WitnessProblem::kSealWrongPrevDigest, s, at);
        SegmentDigest digest(prev_digest_, s);
        digest.add(reader_.record_bytes(v));
        if (seal.digest != digest.finish()) return fail(WitnessProblem::kSealBadDigest, s, at);
        if (options_.chain_master && segment_key(hash_, *options_.chain_master, s) != MacKey{seal.disclosed_key}) {
            return fail(WitnessProblem::kSealWrongKey, s, at);
        }
        if (fs && !check_epoch(s, v, seal)) return false;
        prev_digest_ = seal.digest;
        return true;
    }

    // The seal's epoch must be that of its first record's wall-clock time (so
    // a key of a later epoch can never re-seal earlier records), never go
    // back, never lie in the future, and its MAC must verify with that
    // epoch's key (journald's CVE-2023-31439 lacked the first check).
    bool check_epoch(std::uint64_t s, const SegmentView& v, const WitnessSeal& seal) {
        const std::uint64_t at = v.seal_offset;
        if (s > 0 && seal.epoch < report_.last_epoch) {
            return fail(WitnessProblem::kSealWrongEpoch, s, at, report_.last_epoch, seal.epoch);
        }
        if (s == 0) report_.first_epoch = seal.epoch;
        report_.last_epoch = seal.epoch;
        if (!chain_) return true;
        const FssParams& p = options_.forward_secure->params;
        if (v.record_count > 0) {
            const std::int64_t wall =
                static_cast<std::int64_t>(reader_.record(v.first_record).timestamp_ns()) + seal.clock_offset_ns;
            std::uint64_t epoch = 0;
            if (wall < 0 || !fss_epoch_of(p, static_cast<std::uint64_t>(wall), epoch) || epoch != seal.epoch) {
                return fail(WitnessProblem::kSealWrongEpoch, s, at, epoch, seal.epoch);
            }
        }
        std::uint64_t now_epoch = 0;
        const std::uint64_t now = options_.now_realtime_ns != 0 ? options_.now_realtime_ns : realtime_now_ns();
        if (!fss_epoch_of(p, now, now_epoch) || seal.epoch > now_epoch + 1 || seal.epoch > kFssMaxEpoch) {
            return fail(WitnessProblem::kSealWrongEpoch, s, at, now_epoch, seal.epoch);
        }
        chain_->evolve_to(seal.epoch);
        FssSecret key = chain_->epoch_key();
        const auto mac = seal_epoch_mac(key, seal);
        sodium_memzero(key.data(), key.size());
        if (sodium_memcmp(mac.data(), seal.epoch_mac.data(), mac.size()) != 0) {
            return fail(WitnessProblem::kSealBadEpochMac, s, at);
        }
        return true;
    }

    const WitnessReader& reader_;
    const AuditOptions& options_;
    AuditReport& report_;
    SodiumHash hash_;
    std::optional<FssKeyChain> chain_;
    std::uint64_t prev_hash_ = 0;
    std::uint64_t prev_time_ = 0;
    std::int64_t clock_offset_ = 0;
    bool ended_ = false;
    SealDigest prev_digest_{};
};

}  // namespace

WitnessVerdict AuditReport::verdict() const {
    switch (fault.problem) {
        case WitnessProblem::kNone: return complete ? WitnessVerdict::kComplete : WitnessVerdict::kUnfinished;
        case WitnessProblem::kNotWitness:
        case WitnessProblem::kBadVersion:
        case WitnessProblem::kTooLarge: return WitnessVerdict::kNotWitness;
        default: return WitnessVerdict::kTampered;
    }
}

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
    Auditor auditor(r, options, report);
    if (!auditor.run()) return report;
    // Every seal verified under the trusted key, yet the header names another
    // (an unsealed log has no seal to bind its header).
    if (report.authenticity_verified && report.header_key != *options.trusted_key) {
        report.fault = WitnessFault{WitnessProblem::kHeaderKeyNotTrusted, 0, 32};
    }
    return report;
}

Result<AuditReport, IoError> audit_witness_file(const std::string& path, const AuditOptions& options) {
    auto bytes = read_regular_file(path, options.max_bytes);
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

namespace {

std::string fault_line(const AuditReport& report) {
    const bool not_witness = report.verdict() == WitnessVerdict::kNotWitness;
    std::string line = fmt::format("{}: {}: {}", not_witness ? "NOT A WITNESS FILE" : "TAMPERED OR CORRUPT",
                                   describe_site(report.fault), problem_text(report.fault.problem));
    switch (report.fault.problem) {
        case WitnessProblem::kSequenceMismatch:
        case WitnessProblem::kTimestampBackwards:
        case WitnessProblem::kSealBadField:
        case WitnessProblem::kSealWrongEpoch:
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

}  // namespace

std::string describe(const AuditReport& report) {
    if (!report.intact()) return fault_line(report);
    std::string line;
    if (report.complete) {
        line = fmt::format("COMPLETE: {} records in {} sealed segments, closed with the end marker", report.records,
                           report.sealed_segments);
    } else {
        line = fmt::format(
            "UNFINISHED: {} records in {} sealed segments verify; no end marker (the log was not "
            "closed: still open, killed, or truncated)",
            report.sealed_records, report.sealed_segments);
        if (report.tail_records > 0 || report.partial_bytes > 0) {
            line += fmt::format("; {} trailing records{} after the last seal are unauthenticated", report.tail_records,
                                report.partial_bytes > 0
                                    ? fmt::format(" and a cut-off entry of {} bytes", report.partial_bytes)
                                    : std::string());
            if (report.tail_hashes_checked) line += " (their hashes verify under the chain master key)";
        }
    }
    if (report.sealed_segments == 0) {
        line += "; no seal: nothing in the file is authenticated";
    } else {
        line += report.authenticity_verified ? "; seals signed by the trusted key"
                                             : "; AUTHENTICITY UNVERIFIED (checked against the key inside the file)";
    }
    if (report.forward_secure && report.sealed_segments > 0) {
        line += report.epochs_verified ? fmt::format("; forward-secure seals verified, epochs {}..{}",
                                                     report.first_epoch, report.last_epoch)
                                       : std::string("; forward-secure MACs NOT checked (no verification key given)");
    }
    return line;
}

}  // namespace rvm::host
