// Witness append: target < 50 ns per record (seed 002 12.4). Baselines in
// the same run: copying the same 64-byte record into a preallocated ring
// without the chain, and a plain SipHash-2-4 of 80 bytes. The Sealed
// variants are the whole cost per record on one thread: the keyed chain, the
// writer's copy, the seal digest (BLAKE2b over every record), the Ed25519
// seals (every 4096 records or 100 ms), the optional forward-secure MAC, and
// write() to a file, as the supervisor loop drives it.
#include <benchmark/benchmark.h>

#include <sodium.h>
#include <time.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "host/posix/monotonic_clock.hpp"
#include "host/witness/sodium_hash.hpp"
#include "host/witness/witness_file.hpp"
#include "nucleus/witness_log.hpp"

namespace {

using namespace rvm;

// A sink like the host's: copy into a preallocated ring, never block.
class RingSink final : public WitnessSink {
public:
    RingSink() : ring_(4096) {}
    void accept(const WitnessRecord& r) override { ring_[pos_++ & 4095] = r; }
    void segment_closed(std::uint64_t, const MacKey&) override {}

private:
    std::vector<WitnessRecord> ring_;
    std::size_t pos_ = 0;
};

void BM_Baseline_RingCopy(benchmark::State& state) {
    RingSink sink;
    WitnessRecord r;
    std::uint64_t i = 0;
    for (auto _ : state) {
        r.raw.sequence = i++;
        sink.accept(r);
        benchmark::ClobberMemory();
    }
}
BENCHMARK(BM_Baseline_RingCopy);

void BM_WitnessAppend(benchmark::State& state) {
    static host::SodiumHash hash;
    static host::MonotonicClock clock;
    static RingSink sink;
    static WitnessLog* log = nullptr;
    if (state.thread_index() == 0) {
        (void)host::sodium_ready();
        log = new WitnessLog(hash, clock, host::random_mac_key(), &sink);
    }
    std::uint64_t i = 0;
    for (auto _ : state) {
        benchmark::DoNotOptimize(log->append({RVM_WK_REGION_CREATE, RVM_PROOF_NONE, i, i, i, 0}));
        ++i;
    }
    if (state.thread_index() == 0) {
        delete log;
        log = nullptr;
    }
}
BENCHMARK(BM_WitnessAppend)->Threads(1)->Threads(2)->UseRealTime();

// The parts of an append, to show where the time goes.
void BM_Part_MonotonicClock(benchmark::State& state) {
    host::MonotonicClock clock;
    for (auto _ : state) benchmark::DoNotOptimize(clock.now_ns());
}
BENCHMARK(BM_Part_MonotonicClock);

void BM_Part_RecordHash(benchmark::State& state) {
    (void)host::sodium_ready();
    host::SodiumHash hash;
    const MacKey key = host::random_mac_key();
    WitnessRecord r;
    for (auto _ : state) {
        benchmark::DoNotOptimize(compute_record_hash(hash, key, r));
        ++r.raw.sequence;
    }
}
BENCHMARK(BM_Part_RecordHash);

void BM_WitnessAppend_ManualClock(benchmark::State& state) {
    (void)host::sodium_ready();
    host::SodiumHash hash;
    ManualClock clock;
    RingSink sink;
    WitnessLog log(hash, clock, host::random_mac_key(), &sink);
    std::uint64_t i = 0;
    for (auto _ : state) {
        benchmark::DoNotOptimize(log.append({RVM_WK_REGION_CREATE, RVM_PROOF_NONE, i, i, i, 0}));
        ++i;
    }
}
BENCHMARK(BM_WitnessAppend_ManualClock);

void BM_Baseline_SipHash80(benchmark::State& state) {
    (void)host::sodium_ready();
    std::array<std::uint8_t, 80> msg{};
    std::array<std::uint8_t, crypto_shorthash_KEYBYTES> key{};
    std::array<std::uint8_t, crypto_shorthash_BYTES> out{};
    std::uint64_t i = 0;
    for (auto _ : state) {
        std::memcpy(msg.data(), &i, sizeof i);
        crypto_shorthash(out.data(), msg.data(), msg.size(), key.data());
        benchmark::DoNotOptimize(out);
        ++i;
    }
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Baseline_SipHash80);

// The seal digest's share: BLAKE2b over 4096 records, per record.
void BM_Part_Blake2bPerRecord(benchmark::State& state) {
    (void)host::sodium_ready();
    std::vector<std::uint8_t> seg(4096 * 64, 0x5a);
    std::array<std::uint8_t, 32> out{};
    for (auto _ : state) {
        crypto_generichash(out.data(), out.size(), seg.data(), seg.size(), nullptr, 0);
        benchmark::DoNotOptimize(out);
    }
    state.SetItemsProcessed(state.iterations() * 4096);
}
BENCHMARK(BM_Part_Blake2bPerRecord);

// Appends through the real writer; every 256 records the loop does what the
// supervisor does every few ms: flush() when wants_flush().
void sealed_append(benchmark::State& state, host::WitnessSync sync, bool forward_secure) {
    (void)host::sodium_ready();
    const char* base = std::getenv("TMPDIR");
    std::string dir = std::string(base != nullptr ? base : "/tmp") + "/rvm-wbench-XXXXXX";
    if (::mkdtemp(dir.data()) == nullptr) {
        state.SkipWithError("cannot create a directory under $TMPDIR");
        return;
    }
    std::array<std::uint8_t, 32> seed{};
    seed.fill(0x42);
    auto keys = host::SigningKeyPair::from_seed(seed);
    host::WitnessWriterOptions o;
    o.sync = sync;
    if (forward_secure) {
        host::FssVerifyKey v;
        v.seed.fill(7);
        // Epoch 0 starts now (a start in the distant past would cost one
        // BLAKE2b per elapsed epoch at create()).
        timespec now{};
        (void)::clock_gettime(CLOCK_REALTIME, &now);
        v.params = host::FssParams{static_cast<std::uint64_t>(now.tv_sec) * 1'000'000'000u, 100'000'000};
        auto st = host::FssSealingState::create(dir + "/state", v);
        if (!st) {
            state.SkipWithError("cannot create the sealing state");
            return;
        }
        o.forward_secure = std::make_unique<host::FssSealingState>(std::move(st.value()));
    }
    auto writer = host::WitnessFileWriter::create(dir + "/log.witness", keys.value(), std::move(o));
    if (!writer) {
        state.SkipWithError("cannot create the witness log");
        return;
    }
    {
        host::SodiumHash hash;
        host::MonotonicClock clock;
        WitnessLog log(hash, clock, host::random_mac_key(), writer.value().get());
        std::uint64_t i = 0;
        for (auto _ : state) {
            benchmark::DoNotOptimize(log.append({RVM_WK_REGION_CREATE, RVM_PROOF_NONE, i, i, i, 0}));
            if ((++i & 255) == 0 && writer.value()->wants_flush()) {
                if (!writer.value()->flush()) state.SkipWithError("flush failed");
            }
        }
        if (!writer.value()->close()) state.SkipWithError("close failed");
    }
    const auto stats = writer.value()->stats();
    state.counters["seals"] = static_cast<double>(stats.seals);
    state.counters["records_per_seal"] =
        stats.seals == 0 ? 0.0 : static_cast<double>(stats.records) / static_cast<double>(stats.seals);
    state.SetItemsProcessed(state.iterations());
    writer.value().reset();
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
}

void BM_WitnessAppend_Sealed(benchmark::State& state) { sealed_append(state, host::WitnessSync::kNone, false); }
BENCHMARK(BM_WitnessAppend_Sealed);
void BM_WitnessAppend_Sealed_ForwardSecure(benchmark::State& state) {
    sealed_append(state, host::WitnessSync::kNone, true);
}
BENCHMARK(BM_WitnessAppend_Sealed_ForwardSecure);
void BM_WitnessAppend_Sealed_SyncEverySeal(benchmark::State& state) {
    sealed_append(state, host::WitnessSync::kSeal, false);
}
BENCHMARK(BM_WitnessAppend_Sealed_SyncEverySeal);

}  // namespace
