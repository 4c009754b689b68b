// Scheduler policy: one pick_next decision (charge the running task, release
// due jobs, choose, size the quantum) at 4 / 64 / 256 runnable tasks on one
// CPU, in Flow (formula of seed 002 5.2 per task) and Reflex (EDF). Seed 002
// target: a decision well under 50 µs. Baselines in the same run, over the
// same task keys:
//   SchedBaselineHeapRebuild  std::priority_queue: push all n keys, pop the top
//                             (a scheduler that rebuilds its order per decision;
//                             one allocation per decision included)
//   SchedBaselineHeapUpdate   std::priority_queue of n keys: pop the top, push
//                             it back with its new key (an incremental heap)
#include <benchmark/benchmark.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <queue>
#include <random>
#include <vector>

#include "nucleus/scheduler.hpp"

namespace {

using rvm::FlowSignals;
using rvm::SchedTaskId;
using rvm::Scheduler;
using rvm::TaskParams;

constexpr std::uint64_t kMs = 1'000'000;
constexpr std::uint64_t kStepNs = 10'000;  // simulated time between decisions

std::unique_ptr<Scheduler> loaded(std::size_t n, bool reflex) {
    auto s = std::make_unique<Scheduler>();
    if (!s->configure(rvm::SchedConfig{})) return nullptr;
    std::mt19937_64 rng(0x5c4e);
    for (std::size_t i = 0; i < n; ++i) {
        const auto id = static_cast<SchedTaskId>(i);
        TaskParams p{.partition = static_cast<std::uint32_t>(i % 8)};
        if (reflex || i % 4 == 0) {  // Flow: a quarter of the tasks carry deadlines (urgency divides)
            p.period_ns = (5 + rng() % 50) * kMs;
            p.deadline_ns = p.period_ns;
            p.budget_ns = p.period_ns / 100;
            p.critical = reflex;
        }
        if (!s->enqueue(0, id, p, 0)) return nullptr;
        const FlowSignals sig{.psi_ppm = static_cast<std::uint32_t>(rng() % 1'000'000),
                              .psi_boost = static_cast<std::uint8_t>(rng() % 3),
                              .cpu_permille = 1000};
        if (!s->set_signals(0, id, sig)) return nullptr;
    }
    return s;
}

void run_picks(benchmark::State& state, bool reflex) {
    const auto n = static_cast<std::size_t>(state.range(0));
    auto s = loaded(n, reflex);
    if (s == nullptr) {
        state.SkipWithError("could not load the scheduler");
        return;
    }
    std::uint64_t now = 0;
    for (auto _ : state) {
        (void)_;  // the loop variable only drives the iterations
        now += kStepNs;
        auto p = s->pick_next(0, now);
        benchmark::DoNotOptimize(p);
    }
    state.counters["tasks"] = static_cast<double>(n);
}

void SchedPickNextFlow(benchmark::State& state) { run_picks(state, false); }
void SchedPickNextReflex(benchmark::State& state) { run_picks(state, true); }

struct Key {
    std::int64_t prio;
    std::uint64_t vruntime;
    SchedTaskId id;
    friend bool operator<(const Key& a, const Key& b) {
        if (a.prio != b.prio) return a.prio < b.prio;
        if (a.vruntime != b.vruntime) return a.vruntime > b.vruntime;
        return a.id > b.id;
    }
};

std::vector<Key> keys(std::size_t n) {
    std::mt19937_64 rng(0x5c4e);
    std::vector<Key> k(n);
    for (std::size_t i = 0; i < n; ++i) {
        k[i] = Key{static_cast<std::int64_t>(rng() % 1'000'000), rng() % 1000, static_cast<SchedTaskId>(i)};
    }
    return k;
}

void SchedBaselineHeapRebuild(benchmark::State& state) {
    const auto n = static_cast<std::size_t>(state.range(0));
    std::vector<Key> k = keys(n);
    std::uint64_t tick = 0;
    for (auto _ : state) {
        (void)_;  // the loop variable only drives the iterations
        std::vector<Key> storage;
        storage.reserve(n);  // one allocation per decision, as a fresh queue needs
        std::priority_queue<Key> q(std::less<Key>(), std::move(storage));
        for (const Key& key : k) q.push(key);
        const Key top = q.top();
        q.pop();
        benchmark::DoNotOptimize(top);
        k[top.id].vruntime += ++tick;  // the chosen task used CPU time
    }
    state.counters["tasks"] = static_cast<double>(n);
}

void SchedBaselineHeapUpdate(benchmark::State& state) {
    const auto n = static_cast<std::size_t>(state.range(0));
    std::priority_queue<Key> q;
    for (const Key& key : keys(n)) q.push(key);
    for (auto _ : state) {
        (void)_;  // the loop variable only drives the iterations
        Key top = q.top();
        q.pop();
        benchmark::DoNotOptimize(top);
        top.vruntime += kStepNs;
        q.push(top);
    }
    state.counters["tasks"] = static_cast<double>(n);
}

BENCHMARK(SchedPickNextFlow)->Arg(4)->Arg(64)->Arg(256);
BENCHMARK(SchedPickNextReflex)->Arg(4)->Arg(64)->Arg(256);
BENCHMARK(SchedBaselineHeapRebuild)->Arg(4)->Arg(64)->Arg(256);
BENCHMARK(SchedBaselineHeapUpdate)->Arg(4)->Arg(64)->Arg(256);

}  // namespace
