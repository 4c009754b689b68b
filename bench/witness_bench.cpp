// Witness append: target < 50 ns (seed 002 12.4). Baseline in the same run:
// copying the same 64-byte record into a preallocated ring without the chain.
#include <benchmark/benchmark.h>

#include <vector>

#include "host/posix/monotonic_clock.hpp"
#include "host/witness/sodium_hash.hpp"
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

}  // namespace
