// Ψ (transition intensity): per vCPU per epoch, classification (observe) and
// the policy decision, against seed 000's targets (detection < 100 µs,
// decision < 50 µs). Baselines in the same run: reading one counter, and a
// plain loop computing the same deltas, activity and state without the engine
// (no handle check, window or aggregates). The counter increments mix idle,
// compute and hypercall-storm epochs (fixed seed); `vcpus` vCPUs are spread
// over 64 partitions and observed round-robin, one epoch per round.
#include <benchmark/benchmark.h>

#include <array>
#include <cstdint>
#include <memory>
#include <random>
#include <vector>

#include "abi/psi.h"
#include "host/psi/psi_page.hpp"
#include "nucleus/psi.hpp"
#include "nucleus/psi_engine.hpp"

namespace {

using rvm::kPsiMaxPartitions;
using rvm::kPsiMaxVcpus;
using rvm::PartitionId;
using rvm::PsiEngine;
using rvm::PsiEpoch;
using rvm::PsiSample;
using rvm::PsiThresholds;
using rvm::TaskId;

constexpr std::size_t kSteps = 1024;  // a power of two: index with & (kSteps - 1)
constexpr std::uint64_t kEpochNs = 100'000'000;

const std::array<PsiSample, kSteps>& increments() {
    static const std::array<PsiSample, kSteps> steps = [] {
        std::array<PsiSample, kSteps> out{};
        std::mt19937_64 rng(0x951);
        for (PsiSample& s : out) {
            switch (rng() % 3) {
                case 0: s = PsiSample{.exits = rng() % 10}; break;
                case 1: s = PsiSample{.exits = 10 + rng() % 200, .irq_injections = rng() % 50}; break;
                default: {
                    const std::uint64_t calls = 500 + rng() % 5000;
                    s = PsiSample{.exits = calls, .io_exits = calls, .hypercalls = calls};
                }
            }
        }
        return out;
    }();
    return steps;
}

void advance(PsiSample& c, const PsiSample& d) {
    c.exits += d.exits;
    c.io_exits += d.io_exits;
    c.mmio_exits += d.mmio_exits;
    c.irq_injections += d.irq_injections;
    c.hypercalls += d.hypercalls;
}

// Per-vCPU cumulative counters for `rounds` epochs, precomputed so that the
// timed loop only reads them.
struct Feed {
    std::size_t vcpus;
    std::size_t rounds;
    std::vector<PsiSample> samples;  // [round * vcpus + vcpu]
    Feed(std::size_t v, std::size_t r) : vcpus(v), rounds(r), samples(v * r) {
        std::vector<PsiSample> cur(v);
        for (std::size_t round = 0; round < r; ++round) {
            for (std::size_t i = 0; i < v; ++i) {
                advance(cur[i], increments()[(round * 7 + i * 13) & (kSteps - 1)]);
                samples[round * v + i] = cur[i];
            }
        }
    }
    [[nodiscard]] const PsiSample& at(std::size_t round, std::size_t vcpu) const {
        return samples[(round % rounds) * vcpus + vcpu];
    }
};

constexpr std::size_t kRounds = 256;

TaskId vcpu_id(std::size_t i) { return TaskId{static_cast<std::uint32_t>(i), 1}; }
PartitionId partition_of(std::size_t i) { return PartitionId{static_cast<std::uint32_t>(i % kPsiMaxPartitions), 1}; }

std::unique_ptr<PsiEngine> make_engine(std::size_t vcpus) {
    auto e = std::make_unique<PsiEngine>();
    for (std::size_t p = 0; p < kPsiMaxPartitions; ++p) {
        if (!e->attach_partition(PartitionId{static_cast<std::uint32_t>(p), 1}).ok()) return nullptr;
    }
    for (std::size_t i = 0; i < vcpus; ++i) {
        if (!e->attach_vcpu(vcpu_id(i), partition_of(i)).ok()) return nullptr;
    }
    return e;
}

void BM_Baseline_PsiReadCounter(benchmark::State& state) {
    const auto vcpus = static_cast<std::size_t>(state.range(0));
    const Feed feed(vcpus, kRounds);
    std::size_t n = 0;
    for (auto _ : state) {
        benchmark::DoNotOptimize(feed.at(n / vcpus, n % vcpus).exits);
        ++n;
    }
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Baseline_PsiReadCounter)->Arg(1)->Arg(256);

// The same deltas, activity sum and three-way comparison, on a flat array of
// previous samples: what any classifier must do at minimum.
void BM_Baseline_PsiPlainDeltas(benchmark::State& state) {
    const auto vcpus = static_cast<std::size_t>(state.range(0));
    const Feed feed(vcpus, kRounds);
    std::vector<PsiSample> prev(vcpus);
    std::vector<std::uint8_t> states(vcpus);
    const PsiThresholds t;
    std::size_t n = 0;
    for (auto _ : state) {
        const std::size_t i = n % vcpus;
        const PsiSample& cur = feed.at(n / vcpus, i);
        const PsiSample& p = prev[i];
        const std::uint64_t exits = cur.exits >= p.exits ? cur.exits - p.exits : cur.exits;
        const std::uint64_t activity =
            exits + (cur.io_exits >= p.io_exits ? cur.io_exits - p.io_exits : cur.io_exits) +
            (cur.mmio_exits >= p.mmio_exits ? cur.mmio_exits - p.mmio_exits : cur.mmio_exits) +
            (cur.irq_injections >= p.irq_injections ? cur.irq_injections - p.irq_injections : cur.irq_injections);
        states[i] = activity > t.psi_threshold ? 2 : exits < t.idle_exits ? 0 : 1;
        prev[i] = cur;
        benchmark::DoNotOptimize(states[i]);
        ++n;
    }
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Baseline_PsiPlainDeltas)->Arg(1)->Arg(256);

// Detection: one observe (handle check, deltas, classification, window,
// partition and host aggregates, boost clock).
void BM_PsiObserve(benchmark::State& state) {
    const auto vcpus = static_cast<std::size_t>(state.range(0));
    const Feed feed(vcpus, kRounds);
    auto e = make_engine(vcpus);
    if (!e) {
        state.SkipWithError("setup failed");
        return;
    }
    std::size_t n = 0;
    for (auto _ : state) {
        const std::size_t i = n % vcpus, round = n / vcpus;
        auto r = e->observe(vcpu_id(i), feed.at(round, i), PsiEpoch{round + 1, kEpochNs});
        benchmark::DoNotOptimize(r);
        ++n;
    }
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_PsiObserve)->Arg(1)->Arg(256);

// Decision alone: policy() of one partition (bands, guest report, boost).
void BM_PsiPolicy(benchmark::State& state) {
    auto e = make_engine(kPsiMaxVcpus);
    const Feed feed(kPsiMaxVcpus, kRounds);
    if (!e) {
        state.SkipWithError("setup failed");
        return;
    }
    for (std::size_t round = 0; round < 16; ++round) {
        for (std::size_t i = 0; i < kPsiMaxVcpus; ++i) {
            if (!e->observe(vcpu_id(i), feed.at(round, i), PsiEpoch{round + 1, kEpochNs}).ok()) {
                state.SkipWithError("observe failed");
                return;
            }
        }
    }
    std::size_t n = 0;
    for (auto _ : state) {
        auto d = e->policy(partition_of(n++));
        benchmark::DoNotOptimize(d);
    }
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_PsiPolicy);

// Detection plus decision, per vCPU per epoch: what the host does each epoch.
void BM_PsiObserveAndDecide(benchmark::State& state) {
    const auto vcpus = static_cast<std::size_t>(state.range(0));
    const Feed feed(vcpus, kRounds);
    auto e = make_engine(vcpus);
    if (!e) {
        state.SkipWithError("setup failed");
        return;
    }
    std::size_t n = 0;
    for (auto _ : state) {
        const std::size_t i = n % vcpus, round = n / vcpus;
        auto r = e->observe(vcpu_id(i), feed.at(round, i), PsiEpoch{round + 1, kEpochNs});
        auto d = e->policy(partition_of(i));
        benchmark::DoNotOptimize(r);
        benchmark::DoNotOptimize(d);
        ++n;
    }
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_PsiObserveAndDecide)->Arg(1)->Arg(256);

// One whole epoch of a full host: 256 observes, 64 decisions, one host view
// (the guests' weighted aggregate scans the partitions).
void BM_PsiFullEpoch(benchmark::State& state) {
    const Feed feed(kPsiMaxVcpus, kRounds);
    auto e = make_engine(kPsiMaxVcpus);
    if (!e) {
        state.SkipWithError("setup failed");
        return;
    }
    std::size_t round = 0;
    for (auto _ : state) {
        for (std::size_t i = 0; i < kPsiMaxVcpus; ++i) {
            auto r = e->observe(vcpu_id(i), feed.at(round, i), PsiEpoch{round + 1, kEpochNs});
            benchmark::DoNotOptimize(r);
        }
        for (std::size_t p = 0; p < kPsiMaxPartitions; ++p) {
            auto d = e->policy(partition_of(p));
            benchmark::DoNotOptimize(d);
        }
        auto h = e->host_view();
        benchmark::DoNotOptimize(h);
        ++round;
    }
    state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(kPsiMaxVcpus));
}
BENCHMARK(BM_PsiFullEpoch);

}  // namespace

// The shared Ψ page (host/psi_page.hpp). The guest's report is a seqlock
// write of three fields (what rvm_psi_page_report does; guest code runs
// natively, so host code measures it), against three plain stores. The
// host's per-epoch exchange reads the guest's fields and publishes its own.
namespace {

alignas(64) rvm_psi_page g_page{RVM_PSI_PAGE_MAGIC, RVM_PSI_PAGE_VERSION, 0, 0, 0, 0, 0, 0, 0};

void BM_Baseline_PsiPagePlainStores(benchmark::State& state) {
    std::uint64_t i = 0;
    for (auto _ : state) {
        benchmark::DoNotOptimize(&g_page);
        g_page.guest_ratio_ppm = i % (RVM_PSI_RATIO_ONE + 1);
        g_page.committed = i;
        g_page.deferred = i;
        benchmark::ClobberMemory();
        ++i;
    }
}
BENCHMARK(BM_Baseline_PsiPagePlainStores);

void BM_PsiPage_GuestReport(benchmark::State& state) {
    std::uint64_t i = 0;
    for (auto _ : state) {
        const std::uint32_t s = __atomic_load_n(&g_page.guest_seq, __ATOMIC_RELAXED);
        __atomic_store_n(&g_page.guest_seq, s + 1u, __ATOMIC_RELAXED);
        __atomic_thread_fence(__ATOMIC_RELEASE);
        __atomic_store_n(&g_page.guest_ratio_ppm, i % (RVM_PSI_RATIO_ONE + 1), __ATOMIC_RELAXED);
        __atomic_store_n(&g_page.committed, i, __ATOMIC_RELAXED);
        __atomic_store_n(&g_page.deferred, i, __ATOMIC_RELAXED);
        __atomic_store_n(&g_page.guest_seq, s + 2u, __ATOMIC_RELEASE);
        ++i;
    }
}
BENCHMARK(BM_PsiPage_GuestReport);

void BM_PsiPage_HostExchange(benchmark::State& state) {
    const rvm::host::PsiPage page(reinterpret_cast<std::uint8_t*>(&g_page), 64);
    std::uint64_t t = 0;
    for (auto _ : state) {
        rvm::PsiGuestReport r;
        benchmark::DoNotOptimize(rvm::host::psi_page_read_guest(page, r));
        rvm::host::psi_page_publish_host(page, r.ratio_ppm, ++t);
    }
}
BENCHMARK(BM_PsiPage_HostExchange);

// Baseline for the exchange: the same five fields read and written with plain
// loads and stores (no counters, no retries, no checks).
void BM_Baseline_PsiPagePlainExchange(benchmark::State& state) {
    std::uint64_t t = 0;
    for (auto _ : state) {
        benchmark::DoNotOptimize(&g_page);
        const std::uint64_t r = g_page.guest_ratio_ppm, c = g_page.committed, d = g_page.deferred;
        benchmark::DoNotOptimize(r + c + d);
        g_page.host_ratio_ppm = r;
        g_page.timestamp_ns = ++t;
        benchmark::ClobberMemory();
    }
}
BENCHMARK(BM_Baseline_PsiPagePlainExchange);

}  // namespace
