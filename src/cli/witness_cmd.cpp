#include "cli/witness_cmd.hpp"

#include <fmt/format.h>
#include <sodium.h>
#include <time.h>
#include <CLI/CLI.hpp>

#include <cerrno>
#include <cstdio>
#include <filesystem>
#include <optional>
#include <span>
#include <vector>

#include "host/posix/posix_io.hpp"
#include "host/witness/forward_secure.hpp"
#include "host/witness/signing_key.hpp"
#include "host/witness/sodium_hash.hpp"
#include "host/witness/witness_audit.hpp"
#include "host/witness/witness_reader.hpp"

namespace rvm::cli {

namespace {

using host::to_hex;

std::string kind_label(std::uint8_t kind) {
    const char* name = witness_kind_name(kind);
    return name != nullptr ? std::string(name) : fmt::format("unknown_{:#04x}", kind);
}

std::string record_text(std::uint64_t index, const WitnessRecord& r) {
    return fmt::format(
        "record {}: seq={} time_ns={} kind={} tier={} subject={:#x} object={:#x} aux={:#x} flags={:#010x} "
        "chain_before={:016x} hash={:016x}",
        index, r.sequence(), r.timestamp_ns(), kind_label(r.kind()), r.proof_tier(), r.subject(), r.object(), r.aux(),
        r.flags(), r.chain_hash_before(), r.record_hash());
}

std::string record_json(std::uint64_t index, std::uint64_t offset, const WitnessRecord& r) {
    return fmt::format(
        R"({{"type":"record","index":{},"offset":{},"sequence":{},"time_ns":{},"kind":"{}","kind_code":{},"tier":{},)"
        R"("subject":"{:#x}","object":"{:#x}","aux":"{:#x}","flags":{},"chain_hash_before":"{:016x}","record_hash":"{:016x}"}})",
        index, offset, r.sequence(), r.timestamp_ns(), kind_label(r.kind()), r.kind(), r.proof_tier(), r.subject(),
        r.object(), r.aux(), r.flags(), r.chain_hash_before(), r.record_hash());
}

std::string seal_text(std::uint64_t segment, const host::WitnessSeal& s) {
    return fmt::format(
        "seal {}: segment={} first_sequence={} records={}{} epoch={} prev_digest={} digest={} key={} signature={}",
        segment, s.segment, s.first_sequence, s.record_count, (s.flags & host::kSealEnd) != 0 ? " END" : "", s.epoch,
        to_hex(s.prev_digest), to_hex(s.digest), to_hex(s.disclosed_key), to_hex(s.signature));
}

std::string seal_json(std::uint64_t segment, std::uint64_t offset, const host::WitnessSeal& s) {
    return fmt::format(
        R"({{"type":"seal","segment_position":{},"offset":{},"segment":{},"first_sequence":{},"record_count":{},)"
        R"("end":{},"forward_secure":{},"epoch":{},"clock_offset_ns":{},"prev_digest":"{}","digest":"{}",)"
        R"("disclosed_key":"{}","epoch_mac":"{}","signature":"{}"}})",
        segment, offset, s.segment, s.first_sequence, s.record_count, (s.flags & host::kSealEnd) != 0,
        (s.flags & host::kSealForwardSecure) != 0, s.epoch, s.clock_offset_ns, to_hex(s.prev_digest), to_hex(s.digest),
        to_hex(s.disclosed_key), to_hex(s.epoch_mac), to_hex(s.signature));
}

// Reads a regular file under the size limit or says why not (exit code 2).
std::optional<std::vector<std::uint8_t>> read_or_complain(const char* cmd, const std::string& path) {
    auto bytes = host::read_regular_file(path, host::kWitnessMaxFileBytes);
    if (!bytes) {
        const host::IoError& e = bytes.error();
        if (e.code == host::IoErrc::kOpen && e.sys_errno == EINVAL) {
            fmt::print(stderr, "rvm witness {}: {} is not a regular file (FIFOs and devices are refused)\n", cmd, path);
        } else {
            fmt::print(stderr, "rvm witness {}: cannot read {}: {}\n", cmd, path, host::describe(e));
        }
        return std::nullopt;
    }
    return std::move(bytes.value());
}

int verdict_exit(host::WitnessVerdict v, bool require_complete) {
    switch (v) {
        case host::WitnessVerdict::kComplete: return kExitIntact;
        case host::WitnessVerdict::kUnfinished: return require_complete ? kExitTampered : kExitUnfinished;
        case host::WitnessVerdict::kTampered: return kExitTampered;
        case host::WitnessVerdict::kNotWitness: return kExitUsage;
    }
    return kExitTampered;
}

}  // namespace

WitnessCommand::WitnessCommand(CLI::App& app) {
    CLI::App* witness = app.add_subcommand("witness", "Inspect and verify sealed witness logs");
    witness->require_subcommand(1);

    CLI::App* verify = witness->add_subcommand(
        "verify",
        "Check every record and seal. Exit 0 complete (closed with the sealed end marker), 1 tampered or corrupt, "
        "2 not a witness file or usage/I/O error, 3 unfinished (verified up to the last seal; the tail is "
        "unauthenticated)");
    verify->add_option("FILE", file_, "witness log (a regular file)")->required();
    verify->add_option("--key", key_file_,
                       "file holding the trusted Ed25519 public key (64 hex digits, as `rvm keygen` writes to "
                       "KEY.pub); default FILE.pub, which whoever can rewrite the log can replace too");
    verify->add_option("--fss-key", fss_key_file_,
                       "forward-secure verification key (KEY.fss-verify from `rvm keygen --forward-secure`): "
                       "check every seal's epoch MAC");
    verify->add_flag("--require-complete", require_complete_,
                     "treat a log without the end marker (unfinished or truncated) as tampered: exit 1, not 3");
    verify->callback([this] { exit_code_ = this->verify(); });

    CLI::App* show = witness->add_subcommand("show", "Print records and seals (decodes; does not verify)");
    show->add_option("FILE", file_, "witness log")->required();
    show->add_option("--from", from_, "first record index");
    show->add_option("--count", count_, "number of records");
    show->add_flag("--json", json_, "one JSON object per line");
    show->callback([this] { exit_code_ = this->show(); });
}

int WitnessCommand::verify() const {
    if (!host::sodium_ready()) {
        fmt::print(stderr, "rvm witness verify: libsodium cannot be initialized\n");
        return kExitUsage;
    }
    const auto bytes = read_or_complain("verify", file_);
    if (!bytes) return kExitUsage;
    host::AuditOptions options;
    std::string key_path = key_file_;
    std::error_code ec;
    if (key_path.empty() && std::filesystem::exists(file_ + ".pub", ec)) key_path = file_ + ".pub";
    if (!key_path.empty()) {
        auto key = host::load_public_key(key_path);
        if (!key) {
            fmt::print(stderr, "rvm witness verify: cannot use key {}: {}\n", key_path, host::describe(key.error()));
            return kExitUsage;
        }
        options.trusted_key = key.value();
        if (key_file_.empty()) {
            fmt::print(stderr, "note: trusting {} next to the log; pass --key with the key from `rvm keygen`\n",
                       key_path);
        }
    } else {
        fmt::print(stderr,
                   "WARNING: no trusted public key ({}.pub not found, no --key given).\n"
                   "WARNING: checking seals against the key stored in the file itself, which whoever\n"
                   "WARNING: altered the file could have replaced: AUTHENTICITY IS NOT VERIFIED.\n",
                   file_);
    }
    if (!fss_key_file_.empty()) {
        auto fss = host::load_fss_verify_key(fss_key_file_);
        if (!fss) {
            fmt::print(stderr, "rvm witness verify: cannot use forward-secure key {}: {}\n", fss_key_file_,
                       host::describe(fss.error()));
            return kExitUsage;
        }
        options.forward_secure = fss.value();
    }
    const host::AuditReport report = host::audit_witness(*bytes, options);
    fmt::print("{}: {}\n", file_, host::describe(report));
    const int code = verdict_exit(report.verdict(), require_complete_);
    if (report.intact()) return code;

    // Show the offending entry as it stands in the file, when it is complete.
    if (auto reader = host::WitnessReader::open(*bytes); reader) {
        const auto& r = reader.value();
        const auto& f = report.fault;
        const auto site = host::problem_site(f.problem);
        if (site == host::WitnessSite::kRecord && f.index < r.record_count()) {
            fmt::print("  {}\n", record_text(f.index, r.record(f.index)));
        } else if (site == host::WitnessSite::kSeal && f.index < r.sealed_segments()) {
            for (const auto& v : r.segments()) {
                if (v.sealed && r.seal(v).segment == f.index && v.seal_offset == f.offset) {
                    fmt::print("  {}\n", seal_text(f.index, r.seal(v)));
                }
            }
        }
    }
    return code;
}

int WitnessCommand::show() const {
    const auto bytes = read_or_complain("show", file_);
    if (!bytes) return kExitUsage;
    auto opened = host::WitnessReader::open(*bytes);
    if (!opened) {
        fmt::print(stderr, "rvm witness show: {} is not a readable witness file: {}: {}\n", file_,
                   host::describe_site(opened.error()), host::problem_text(opened.error().problem));
        const auto p = opened.error().problem;
        return p == host::WitnessProblem::kNotWitness || p == host::WitnessProblem::kBadVersion ? kExitUsage
                                                                                                : kExitTampered;
    }
    const host::WitnessReader& r = opened.value();
    const std::string key = to_hex(r.header().public_key);
    const bool fs = (r.header().flags & host::kHeaderForwardSecure) != 0;
    if (json_) {
        fmt::print(
            R"({{"type":"header","version":{},"records":{},"sealed_segments":{},"forward_secure":{},"public_key":"{}"}})"
            "\n",
            r.header().version, r.record_count(), r.sealed_segments(), fs, key);
    } else {
        fmt::print("header: version {}, {} records, {} sealed segments, {}public key {}\n", r.header().version,
                   r.record_count(), r.sealed_segments(), fs ? "forward-secure, " : "", key);
    }
    const std::uint64_t end =
        count_ >= r.record_count() - std::min(from_, r.record_count()) ? r.record_count() : from_ + count_;
    std::uint64_t position = 0;
    for (const host::SegmentView& v : r.segments()) {
        const std::uint64_t last = v.first_record + v.record_count;
        for (std::uint64_t i = std::max(from_, v.first_record); i < std::min(end, last); ++i) {
            const WitnessRecord rec = r.record(i);
            fmt::print("{}\n", json_ ? record_json(i, r.record_offset(i), rec) : record_text(i, rec));
        }
        // A seal is shown when the range reaches into its segment (or it is an empty end marker at the end).
        const bool in_range = v.record_count == 0 ? end == r.record_count() : from_ < last && end > v.first_record;
        if (v.sealed && in_range) {
            const host::WitnessSeal seal = r.seal(v);
            fmt::print("{}\n", json_ ? seal_json(position, v.seal_offset, seal) : seal_text(position, seal));
        }
        if (v.sealed) ++position;
    }
    if (end == r.record_count() && r.partial_bytes() > 0) {
        fmt::print(stderr, "rvm witness show: {} ends with a cut-off entry of {} bytes at byte {}\n", file_,
                   r.partial_bytes(), r.partial_offset());
        return kExitTampered;
    }
    return kExitIntact;
}

KeygenCommand::KeygenCommand(CLI::App& app) {
    CLI::App* keygen = app.add_subcommand(
        "keygen",
        "Make an Ed25519 signing key pair for witness seals: FILE (secret seed as hex, mode 0600) and FILE.pub. "
        "Never overwrites. Use it with `rvm run --signing-key FILE` and `rvm witness verify --key FILE.pub`");
    keygen->add_option("FILE", file_, "secret key file to create")->required();
    keygen->add_flag("--forward-secure", forward_secure_,
                     "also make FILE.fss-verify (the verifier's key: move it off this host) and FILE.fss (the "
                     "host's evolving sealing state, for `rvm run --fss-state`)");
    keygen->add_option("--interval", interval_s_, "forward-secure epoch length in seconds (default 900)")
        ->check(CLI::Range(0.01, 1e7));
    keygen->callback([this] { exit_code_ = run(); });
}

int KeygenCommand::run() const {
    if (!host::sodium_ready()) {
        fmt::print(stderr, "rvm keygen: libsodium cannot be initialized\n");
        return kExitUsage;
    }
    // Check every name first, so a refusal leaves nothing half made.
    std::vector<std::string> names = {file_, file_ + ".pub"};
    if (forward_secure_) {
        names.push_back(file_ + ".fss");
        names.push_back(file_ + ".fss-verify");
    }
    for (const std::string& n : names) {
        std::error_code ec;
        if (std::filesystem::symlink_status(n, ec).type() != std::filesystem::file_type::not_found) {
            fmt::print(stderr, "rvm keygen: {} exists; refusing to overwrite it\n", n);
            return kExitUsage;
        }
    }
    auto keys = host::SigningKeyPair::generate();
    if (!keys) return kExitUsage;
    if (auto s = keys.value().save(file_); !s) {
        fmt::print(stderr, "rvm keygen: cannot write {}: {}\n", file_, host::describe(s.error()));
        return kExitUsage;
    }
    if (auto p = host::save_public_key(file_ + ".pub", keys.value().public_key()); !p) {
        fmt::print(stderr, "rvm keygen: cannot write {}.pub: {}\n", file_, host::describe(p.error()));
        return kExitUsage;
    }
    fmt::print("rvm keygen: signing key {} (mode 0600), public key {}.pub\n", file_, file_);
    if (!forward_secure_) return 0;
    timespec now{};
    (void)::clock_gettime(CLOCK_REALTIME, &now);
    host::FssVerifyKey v;
    randombytes_buf(v.seed.data(), v.seed.size());
    v.params.start_ns = static_cast<std::uint64_t>(now.tv_sec) * 1'000'000'000u;  // whole second: readable
    v.params.interval_ns = static_cast<std::uint64_t>(interval_s_ * 1e9);
    const auto verify_ok = host::save_fss_verify_key(file_ + ".fss-verify", v);
    const auto state = verify_ok ? host::FssSealingState::create(file_ + ".fss", v)
                                 : Result<host::FssSealingState, host::IoError>(err(verify_ok.error()));
    sodium_memzero(v.seed.data(), v.seed.size());
    if (!state) {
        fmt::print(stderr, "rvm keygen: cannot write the forward-secure keys: {}\n", host::describe(state.error()));
        return kExitUsage;
    }
    fmt::print(
        "rvm keygen: forward-secure sealing state {}.fss (for the host: rvm run --fss-state), epoch {} s\n"
        "rvm keygen: verification key {}.fss-verify: MOVE IT OFF THIS HOST (it can re-derive every sealing key);\n"
        "            verify with: rvm witness verify LOG --key {}.pub --fss-key {}.fss-verify\n",
        file_, interval_s_, file_, file_, file_);
    return 0;
}

}  // namespace rvm::cli
