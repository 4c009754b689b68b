#include "cli/witness_cmd.hpp"

#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include <cstdio>
#include <filesystem>
#include <optional>
#include <span>
#include <vector>

#include "host/posix/posix_io.hpp"
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

std::string record_json(std::uint64_t index, const WitnessRecord& r) {
    return fmt::format(
        R"({{"type":"record","index":{},"offset":{},"sequence":{},"time_ns":{},"kind":"{}","kind_code":{},"tier":{},)"
        R"("subject":"{:#x}","object":"{:#x}","aux":"{:#x}","flags":{},"chain_hash_before":"{:016x}","record_hash":"{:016x}"}})",
        index, host::record_offset(index), r.sequence(), r.timestamp_ns(), kind_label(r.kind()), r.kind(),
        r.proof_tier(), r.subject(), r.object(), r.aux(), r.flags(), r.chain_hash_before(), r.record_hash());
}

std::string seal_text(std::uint64_t segment, const host::WitnessSeal& s) {
    return fmt::format("seal {}: segment={} first_sequence={} records={} prev_digest={} digest={} key={} signature={}",
                       segment, s.segment, s.first_sequence, s.record_count, to_hex(s.prev_digest), to_hex(s.digest),
                       to_hex(s.disclosed_key), to_hex(s.signature));
}

std::string seal_json(std::uint64_t segment, const host::WitnessSeal& s) {
    return fmt::format(
        R"({{"type":"seal","segment_position":{},"offset":{},"segment":{},"first_sequence":{},"record_count":{},)"
        R"("prev_digest":"{}","digest":"{}","disclosed_key":"{}","signature":"{}"}})",
        segment, host::seal_offset(segment), s.segment, s.first_sequence, s.record_count, to_hex(s.prev_digest),
        to_hex(s.digest), to_hex(s.disclosed_key), to_hex(s.signature));
}

// Reads the file or says why not (exit code 2 territory).
std::optional<std::vector<std::uint8_t>> read_or_complain(const char* cmd, const std::string& path) {
    auto bytes = host::read_file(path, host::kWitnessMaxFileBytes);
    if (!bytes) {
        fmt::print(stderr, "rvm witness {}: cannot read {}: {}\n", cmd, path, host::describe(bytes.error()));
        return std::nullopt;
    }
    return std::move(bytes.value());
}

}  // namespace

WitnessCommand::WitnessCommand(CLI::App& app) {
    CLI::App* witness = app.add_subcommand("witness", "Inspect and verify sealed witness logs");
    witness->require_subcommand(1);

    CLI::App* verify = witness->add_subcommand("verify", "Check every record and seal; exit 0 only if intact");
    verify->add_option("FILE", file_, "witness log")->required();
    verify->add_option("--key", key_file_, "trusted public key (hex); default FILE.pub");
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
    } else {
        fmt::print(stderr,
                   "WARNING: no trusted public key ({}.pub not found, no --key given).\n"
                   "WARNING: checking seals against the key stored in the file itself, which whoever\n"
                   "WARNING: altered the file could have replaced: AUTHENTICITY IS NOT VERIFIED.\n",
                   file_);
    }
    const host::AuditReport report = host::audit_witness(*bytes, options);
    fmt::print("{}: {}\n", file_, host::describe(report));
    if (report.intact()) return kExitIntact;

    // Show the offending entry as it stands in the file, when it is complete.
    if (auto reader = host::WitnessReader::open(*bytes); reader) {
        const auto& r = reader.value();
        const auto& f = report.fault;
        const auto site = host::problem_site(f.problem);
        if (site == host::WitnessSite::kRecord && f.index < r.record_count()) {
            fmt::print("  {}\n", record_text(f.index, r.record(f.index)));
        } else if (site == host::WitnessSite::kSeal && f.index < r.sealed_segments()) {
            fmt::print("  {}\n", seal_text(f.index, r.seal(f.index)));
        }
    }
    return kExitTampered;
}

int WitnessCommand::show() const {
    const auto bytes = read_or_complain("show", file_);
    if (!bytes) return kExitUsage;
    auto opened = host::WitnessReader::open(*bytes);
    if (!opened) {
        fmt::print(stderr, "rvm witness show: {} is not a readable witness file: {}: {}\n", file_,
                   host::describe_site(opened.error()), host::problem_text(opened.error().problem));
        return kExitTampered;
    }
    const host::WitnessReader& r = opened.value();
    const std::string key = to_hex(r.header().public_key);
    if (json_) {
        fmt::print(R"({{"type":"header","version":{},"records":{},"sealed_segments":{},"public_key":"{}"}})"
                   "\n",
                   r.header().version, r.record_count(), r.sealed_segments(), key);
    } else {
        fmt::print("header: version {}, {} records, {} sealed segments, public key {}\n", r.header().version,
                   r.record_count(), r.sealed_segments(), key);
    }
    const std::uint64_t end =
        count_ >= r.record_count() - std::min(from_, r.record_count()) ? r.record_count() : from_ + count_;
    for (std::uint64_t i = from_; i < end; ++i) {
        const WitnessRecord rec = r.record(i);
        fmt::print("{}\n", json_ ? record_json(i, rec) : record_text(i, rec));
        const std::uint64_t segment = i / kWitnessSegmentRecords;
        if ((i + 1) % kWitnessSegmentRecords != 0 || segment >= r.sealed_segments()) continue;
        const host::WitnessSeal seal = r.seal(segment);
        if (seal.magic != host::kWitnessSealMagic) {
            fmt::print(stderr, "rvm witness show: {} is corrupt: {}: {}\n", file_,
                       host::describe_site({host::WitnessProblem::kSealBadMagic, segment, host::seal_offset(segment)}),
                       host::problem_text(host::WitnessProblem::kSealBadMagic));
            return kExitTampered;
        }
        fmt::print("{}\n", json_ ? seal_json(segment, seal) : seal_text(segment, seal));
    }
    const host::WitnessFault tail = r.end_fault();
    if (end == r.record_count() && tail.problem != host::WitnessProblem::kNone) {
        fmt::print(stderr, "rvm witness show: {} is corrupt: {}: {}\n", file_, host::describe_site(tail),
                   host::problem_text(tail.problem));
        return kExitTampered;
    }
    return kExitIntact;
}

}  // namespace rvm::cli
