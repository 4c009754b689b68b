// Witness file costs, each next to a baseline in the same run:
//  - sealing one 64-record segment (BLAKE2b + Ed25519) vs BLAKE2b alone;
//  - the writer's flush of one 64-record segment (copy, seal, write,
//    fdatasync) vs a plain write() + fdatasync of the same 4352 bytes;
//  - audit throughput in records/s vs BLAKE2b alone over the same file.
#include <benchmark/benchmark.h>
#include <fcntl.h>
#include <sodium.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "host/witness/sodium_hash.hpp"
#include "host/witness/witness_audit.hpp"
#include "host/witness/witness_file.hpp"
#include "host/witness/witness_seal.hpp"
#include "nucleus/clock.hpp"

namespace {

using namespace rvm;

host::SigningKeyPair bench_keys() {
    std::array<std::uint8_t, 32> seed{};
    seed.fill(0x42);
    return std::move(host::SigningKeyPair::from_seed(seed).value());
}

std::string bench_dir() {
    const char* base = std::getenv("TMPDIR");
    std::string tmpl = std::string(base != nullptr ? base : "/tmp") + "/rvm-wbench-XXXXXX";
    return ::mkdtemp(tmpl.data()) != nullptr ? tmpl : std::string{};
}

constexpr std::uint64_t kSegment = 64;  // records per benchmarked segment
constexpr std::size_t kGroupBytes = kSegment * host::kWitnessRecordBytes + host::kWitnessSealBytes;

std::vector<std::uint8_t> segment_records() {
    std::vector<std::uint8_t> seg(kSegment * host::kWitnessRecordBytes);
    for (std::size_t i = 0; i < seg.size(); ++i) seg[i] = static_cast<std::uint8_t>(i * 31);
    return seg;
}

void BM_Baseline_Blake2bSegment(benchmark::State& state) {
    (void)host::sodium_ready();
    const auto seg = segment_records();
    std::array<std::uint8_t, 32> out{};
    for (auto _ : state) {
        crypto_generichash(out.data(), out.size(), seg.data(), seg.size(), nullptr, 0);
        benchmark::DoNotOptimize(out);
    }
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Baseline_Blake2bSegment);

void BM_SealSegment(benchmark::State& state) {
    (void)host::sodium_ready();
    const auto keys = bench_keys();
    const auto seg = segment_records();
    host::SealDigest prev{};
    std::uint64_t s = 0;
    for (auto _ : state) {
        host::SegmentDigest digest(prev, s);
        digest.add(seg);
        host::SealContent c;
        c.segment = s;
        c.first_sequence = s * kSegment;
        c.record_count = kSegment;
        c.prev = prev;
        c.digest = digest.finish();
        const host::WitnessSeal seal = host::make_seal(keys, c, nullptr, 0);
        prev = seal.digest;
        ++s;
        benchmark::DoNotOptimize(seal);
    }
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_SealSegment);

void BM_Baseline_WriteSegment(benchmark::State& state) {
    const std::string dir = bench_dir();
    const std::string path = dir + "/plain";
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC, 0600);
    if (fd < 0) {
        state.SkipWithError("cannot create a file under $TMPDIR");
        return;
    }
    const std::vector<std::uint8_t> bytes(kGroupBytes, 0x5a);
    for (auto _ : state) {
        if (::write(fd, bytes.data(), bytes.size()) != static_cast<ssize_t>(bytes.size())) state.SkipWithError("write");
        if (::fdatasync(fd) != 0) state.SkipWithError("fdatasync");
    }
    ::close(fd);
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
    state.SetItemsProcessed(state.iterations());
    state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(bytes.size()));
}
BENCHMARK(BM_Baseline_WriteSegment);

void BM_WriterFlushSegment(benchmark::State& state) {
    (void)host::sodium_ready();
    const std::string dir = bench_dir();
    auto writer = host::WitnessFileWriter::create(dir + "/log.witness", bench_keys());
    if (!writer) {
        state.SkipWithError("cannot create the witness file under $TMPDIR");
        return;
    }
    host::SodiumHash hash;
    ManualClock clock;
    WitnessLog log(hash, clock, MacKey{}, writer.value().get());
    for (auto _ : state) {
        for (std::uint64_t i = 0; i < kSegment; ++i) (void)log.append({RVM_WK_ZERO_COPY_SEND, 0, i, i, i, 0});
        log.end_segment();
        if (!writer.value()->flush()) state.SkipWithError("flush");
    }
    writer.value()->attach(nullptr);
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
    state.SetItemsProcessed(state.iterations());
    state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(kGroupBytes));
}
BENCHMARK(BM_WriterFlushSegment);

// A closed 64 Ki-record log (1024 segments of 64), read once into memory.
const std::vector<std::uint8_t>& audit_file() {
    static const std::vector<std::uint8_t> bytes = [] {
        (void)host::sodium_ready();
        const std::string dir = bench_dir();
        const std::string path = dir + "/audit.witness";
        {
            host::WitnessWriterOptions o;
            o.capacity_records = 1 << 16;
            auto writer = host::WitnessFileWriter::create(path, bench_keys(), std::move(o));
            host::SodiumHash hash;
            ManualClock clock;
            WitnessLog log(hash, clock, MacKey{}, writer.value().get());
            for (std::uint64_t i = 0; i < (1u << 16); ++i) {
                (void)log.append({RVM_WK_ZERO_COPY_SEND, 0, i, i, i, 0});
                if ((i + 1) % kSegment == 0) log.end_segment();
            }
            (void)writer.value()->close();
        }
        auto b = host::read_file(path, host::kWitnessMaxFileBytes);
        std::error_code ec;
        std::filesystem::remove_all(dir, ec);
        return b ? b.value() : std::vector<std::uint8_t>{};
    }();
    return bytes;
}

void BM_Baseline_Blake2bFile(benchmark::State& state) {
    const auto& file = audit_file();
    std::array<std::uint8_t, 32> out{};
    for (auto _ : state) {
        crypto_generichash(out.data(), out.size(), file.data(), file.size(), nullptr, 0);
        benchmark::DoNotOptimize(out);
    }
    state.SetItemsProcessed(state.iterations() * (1 << 16));
    state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(file.size()));
}
BENCHMARK(BM_Baseline_Blake2bFile)->Unit(benchmark::kMillisecond);

void BM_AuditThroughput(benchmark::State& state) {
    const auto& file = audit_file();
    host::AuditOptions options;
    options.trusted_key = bench_keys().public_key();
    for (auto _ : state) {
        const host::AuditReport r = host::audit_witness(file, options);
        if (!r.complete || r.records != (1u << 16)) state.SkipWithError("audit failed");
        benchmark::DoNotOptimize(r);
    }
    state.SetItemsProcessed(state.iterations() * (1 << 16));
    state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(file.size()));
}
BENCHMARK(BM_AuditThroughput)->Unit(benchmark::kMillisecond);

}  // namespace
