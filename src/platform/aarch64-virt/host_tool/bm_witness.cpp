// rvm-bm-witness: turns the witness lines a bare-metal RVM image printed on
// its console into a sealed witness file (docs/witness-format.md) that
// `rvm witness verify` checks.
//
//   rvm-bm-witness CONSOLE_LOG OUT.witness
//   rvm-bm-witness --bench-append CONSOLE_LOG
//   rvm-bm-witness --replay CONSOLE_LOG
//
// The second form times the same WitnessLog append on the host (SipHash
// from libsodium, the monotonic clock, no sink: what the image timed at
// EL2) and prints it beside the image's figure as a ratio. The third
// replays the records into a hosted nucleus (Kernel::apply, the replay that
// rebuilds state from the log, DESIGN.md 5): the bare-metal log must
// re-execute record for record on the hosted build of the same nucleus.
//
// The records are taken byte for byte as the image's nucleus chained them
// ("rvm-bm: W <hex>"); segment keys are the ones the image disclosed when it
// closed each segment ("rvm-bm: K <s> <hex>"). This tool only adds the
// host's Ed25519 seals over what it received, so any change to a record in
// transit fails that record's keyed hash, and a dropped or reordered record
// fails its sequence. The image's final head ("witness head records=N
// last_hash=H") is compared with the last record: a cut-off log is refused.
// The image also discloses the key of its last, open segment once it will
// append nothing more ("rvm-bm: T <s> <hex>"): the unsealed tail's keyed
// hashes are checked here, since `rvm witness verify` cannot check them
// without the chain master.
// Exit: 0 written, 1 the log is malformed or incomplete, 2 usage or I/O.
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>
#include <utility>
#include <vector>

#include "host/posix/monotonic_clock.hpp"
#include "host/witness/signing_key.hpp"
#include "host/witness/sodium_hash.hpp"
#include "host/witness/witness_file.hpp"
#include "nucleus/kernel.hpp"

namespace {

using rvm::MacKey;
using rvm::WitnessRecord;

struct Parsed {
    std::vector<WitnessRecord> records;
    std::vector<std::pair<std::uint64_t, MacKey>> keys;  // in order of appearance
    std::vector<std::size_t> key_after;                  // records seen before each key
    bool tail_key_seen = false;
    std::uint64_t tail_segment = 0;
    MacKey tail_key{};
    bool head_seen = false;
    std::uint64_t head_records = 0;
    std::uint64_t head_hash = 0;
};

std::string trim(std::string s) {
    while (!s.empty() && (s.back() == '\r' || s.back() == '\n' || s.back() == ' ')) s.pop_back();
    return s;
}

// The records after the last full segment, against the disclosed tail key.
bool check_tail(const Parsed& p, std::string& why) {
    const std::uint64_t first = p.records.size() / rvm::kWitnessSegmentRecords * rvm::kWitnessSegmentRecords;
    if (first == p.records.size()) return true;
    if (!p.tail_key_seen || p.tail_segment != first / rvm::kWitnessSegmentRecords) {
        why = "no key for the unsealed tail (segment " + std::to_string(first / rvm::kWitnessSegmentRecords) + ")";
        return false;
    }
    const rvm::host::SodiumHash hash;
    for (std::uint64_t i = first; i < p.records.size(); ++i) {
        if (rvm::compute_record_hash(hash, p.tail_key, p.records[i]) != p.records[i].record_hash()) {
            why = "tail record " + std::to_string(i) + ": record hash mismatch";
            return false;
        }
    }
    return true;
}

bool parse(std::istream& in, Parsed& out, std::string& why) {
    std::string line;
    std::size_t n = 0;
    while (std::getline(in, line)) {
        ++n;
        line = trim(line);
        if (line.rfind("rvm-bm: W ", 0) == 0) {
            WitnessRecord r;
            std::uint8_t bytes[sizeof r.raw];
            if (!rvm::host::from_hex(line.substr(10), bytes)) {
                why = "line " + std::to_string(n) + ": bad record";
                return false;
            }
            std::memcpy(&r.raw, bytes, sizeof bytes);
            out.records.push_back(r);
        } else if (line.rfind("rvm-bm: K ", 0) == 0) {
            const std::string rest = line.substr(10);
            const std::size_t sp = rest.find(' ');
            MacKey k;
            if (sp == std::string::npos || !rvm::host::from_hex(rest.substr(sp + 1), k.bytes)) {
                why = "line " + std::to_string(n) + ": bad segment key";
                return false;
            }
            out.keys.emplace_back(std::stoull(rest.substr(0, sp)), k);
            out.key_after.push_back(out.records.size());
        } else if (line.rfind("rvm-bm: T ", 0) == 0) {
            const std::string rest = line.substr(10);
            const std::size_t sp = rest.find(' ');
            if (sp == std::string::npos || !rvm::host::from_hex(rest.substr(sp + 1), out.tail_key.bytes)) {
                why = "line " + std::to_string(n) + ": bad tail key";
                return false;
            }
            out.tail_segment = std::stoull(rest.substr(0, sp));
            out.tail_key_seen = true;
        } else if (line.rfind("rvm-bm: witness head records=", 0) == 0) {
            unsigned long long records = 0, hash = 0;
            if (std::sscanf(line.c_str(), "rvm-bm: witness head records=%llu last_hash=%llx", &records, &hash) != 2) {
                why = "line " + std::to_string(n) + ": bad head";
                return false;
            }
            out.head_seen = true;
            out.head_records = records;
            out.head_hash = hash;
        }
    }
    if (!out.head_seen) {
        why = "no 'witness head' line: the log is cut off";
        return false;
    }
    if (out.head_records != out.records.size()) {
        why = "the image reported " + std::to_string(out.head_records) + " records, the log has " +
              std::to_string(out.records.size());
        return false;
    }
    if (!out.records.empty() && out.records.back().record_hash() != out.head_hash) {
        why = "the last record's hash is not the head the image reported";
        return false;
    }
    return check_tail(out, why);
}

// Nanoseconds per append, fastest of three runs of `n`.
double hosted_append_ns(std::uint64_t n) {
    const rvm::host::SodiumHash hash;
    const rvm::host::MonotonicClock clock;
    double best = 0;
    for (int run = 0; run < 3; ++run) {
        rvm::WitnessLog log(hash, clock, MacKey{}, nullptr);
        const auto t0 = std::chrono::steady_clock::now();
        for (std::uint64_t i = 0; i < n; ++i)
            (void)log.append(rvm::WitnessEvent{RVM_WK_VECTOR_PUT, RVM_PROOF_NONE, i, i, i, 0});
        const std::chrono::duration<double, std::nano> d = std::chrono::steady_clock::now() - t0;
        const double per = d.count() / static_cast<double>(n);
        if (run == 0 || per < best) best = per;
    }
    return best;
}

int replay(const char* console) {
    std::ifstream in(console);
    Parsed p;
    std::string why;
    if (!in || !parse(in, p, why)) {
        std::fprintf(stderr, "rvm-bm-witness: %s\n", why.empty() ? "cannot read the log" : why.c_str());
        return 1;
    }
    const rvm::host::SodiumHash hash;
    rvm::ManualClock clock;
    // The replica witnesses nothing (log = null) and mints nothing: the
    // proof key only matters for minting and checking, not for replay.
    rvm::Kernel replica(rvm::KernelEnv{hash, clock, MacKey{}, rvm::ProofPolicy{}, nullptr});
    for (const WitnessRecord& r : p.records) {
        clock.set(r.timestamp_ns());
        if (auto ok = replica.apply(r); !ok) {
            std::fprintf(stderr, "rvm-bm-witness: record %llu (%s) does not replay: %s\n",
                         static_cast<unsigned long long>(r.sequence()), rvm::witness_kind_name(r.kind()),
                         rvm::status_name(ok.error().code));
            return 1;
        }
    }
    if (!replica.invariants_hold()) {
        std::fprintf(stderr, "rvm-bm-witness: replayed state breaks the nucleus invariants\n");
        return 1;
    }
    std::size_t partitions = 0, failed = 0;
    replica.state().partitions.for_each([&](rvm::PartitionId, const rvm::Partition& part) {
        ++partitions;
        if (part.state == rvm::PartitionState::Failed) ++failed;
    });
    std::printf(
        "rvm-bm-witness: replayed %zu records into the hosted nucleus: %zu partitions (%zu failed), "
        "invariants hold\n",
        p.records.size(), partitions, failed);
    return 0;
}

int bench_append(const char* console) {
    std::ifstream in(console);
    std::string line;
    unsigned long long ps = 0, appends = 0;
    while (std::getline(in, line))
        if (std::sscanf(line.c_str(), "rvm-bench: witness_append_ps=%llu appends=%llu", &ps, &appends) == 2) break;
    if (appends == 0) {
        std::fprintf(stderr, "rvm-bm-witness: no witness_append line in %s\n", console);
        return 1;
    }
    const double image_ns = static_cast<double>(ps) / 1000.0;
    const double hosted_ns = hosted_append_ns(appends);
    std::printf("rvm-bench: witness_append image_ns=%.1f (EL2 under TCG) hosted_ns=%.1f image/hosted = %.2f (TCG)\n",
                image_ns, hosted_ns, image_ns / hosted_ns);
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc == 3 && std::string(argv[1]) == "--bench-append") return bench_append(argv[2]);
    if (argc == 3 && std::string(argv[1]) == "--replay") return replay(argv[2]);
    if (argc != 3) {
        std::fprintf(
            stderr,
            "usage: rvm-bm-witness CONSOLE_LOG OUT.witness | --bench-append CONSOLE_LOG | --replay CONSOLE_LOG\n");
        return 2;
    }
    std::ifstream in(argv[1]);
    if (!in) {
        std::fprintf(stderr, "rvm-bm-witness: cannot read %s\n", argv[1]);
        return 2;
    }
    Parsed p;
    std::string why;
    if (!parse(in, p, why)) {
        std::fprintf(stderr, "rvm-bm-witness: %s\n", why.c_str());
        return 1;
    }
    auto keys = rvm::host::SigningKeyPair::generate();
    if (!keys) return 2;
    rvm::host::WitnessWriterOptions opt;
    opt.capacity_records = p.records.size() + 64;
    auto writer = rvm::host::WitnessFileWriter::create(argv[2], keys.value(), std::move(opt));
    if (!writer) {
        std::fprintf(stderr, "rvm-bm-witness: cannot create %s: %s\n", argv[2],
                     rvm::host::describe(writer.error()).c_str());
        return 2;
    }
    // The image's sealed segments, then its tail as the last one: the file
    // ends with a sealed end marker, like a log `rvm run` closed.
    std::size_t k = 0;
    std::uint64_t first = 0;
    for (std::size_t i = 0; i <= p.records.size(); ++i) {
        while (k < p.keys.size() && p.key_after[k] == i) {
            writer.value()->segment_ended(
                rvm::WitnessSegmentEnd{p.keys[k].first, first, i - first, p.keys[k].second, false});
            first = i;
            ++k;
        }
        if (i < p.records.size()) writer.value()->accept(p.records[i]);
    }
    writer.value()->segment_ended(rvm::WitnessSegmentEnd{p.tail_key_seen ? p.tail_segment : p.keys.size(), first,
                                                         p.records.size() - first, p.tail_key, true});
    if (auto r = writer.value()->close(); !r) {
        std::fprintf(stderr, "rvm-bm-witness: %s\n", rvm::host::describe(r.error()).c_str());
        return 2;
    }
    std::printf("rvm-bm-witness: %zu records, %zu sealed segments -> %s\n", p.records.size(), p.keys.size(), argv[2]);
    return 0;
}
