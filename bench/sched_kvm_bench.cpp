// RVM's scheduler driving real partitions (issue 5 (d)): the time the policy
// takes per decision on a live run, and the partition switch -- from the
// grant of a CPU to the granted vCPU thread leaving the gate for KVM_RUN
// while the previous holder is kicked out. Three spinning partitions share
// one CPU with 1 ms quanta for ~0.5 s. Baseline in the same run: handing a
// CPU between two host threads through a mutex + condition variable (the
// cheapest user-space handoff).
#include <benchmark/benchmark.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "host/runtime/agent_runner.hpp"
#include "kvm_bench_env.hpp"

namespace {

using namespace rvm;
using bench::skip_without;

void BM_Sched_PartitionSwitch(benchmark::State& state) {
    static bench::KvmBenchEnv env;
#if defined(RVM_AGENT_SPIN_ELF)
    const auto elf = env.error.empty() ? env.agent(RVM_AGENT_SPIN_ELF) : std::vector<std::uint8_t>{};
#else
    const std::vector<std::uint8_t> elf;
    if (env.error.empty()) env.error = "agent_spin was not built";
#endif
    if (skip_without(state, env.error)) return;
    host::AgentRunner::SchedStats total;
    for (auto _ : state) {
        host::AgentRunner runner(*env.kernel, env.clock, *env.sys, {});
        SchedConfig cfg;
        cfg.cpus = 1;
        if (!runner.enable_scheduler(cfg)) {
            state.SkipWithError("scheduler refused");
            return;
        }
        for (int i = 0; i < 3; ++i) {
            host::PartitionSpec s;
            s.name = "spin" + std::to_string(i);
            s.elf = elf;
            s.wall_time_ns = static_cast<std::uint64_t>(state.range(0)) * 1'000'000;
            if (!runner.add(s)) {
                state.SkipWithError("partition refused");
                return;
            }
        }
        runner.start();
        runner.wait();
        runner.destroy_all();
        const auto st = runner.sched_stats();
        total.decisions += st.decisions;
        total.decision_ns += st.decision_ns;
        total.handoffs += st.handoffs;
        total.handoff_ns += st.handoff_ns;
        state.SetIterationTime(
            st.handoffs != 0 ? static_cast<double>(st.handoff_ns) / 1e9 / static_cast<double>(st.handoffs) : 0);
    }
    state.counters["decisions"] = static_cast<double>(total.decisions);
    state.counters["decision_ns"] =
        total.decisions != 0 ? static_cast<double>(total.decision_ns) / static_cast<double>(total.decisions) : 0;
    state.counters["switches"] = static_cast<double>(total.handoffs);
    state.counters["switch_ns"] =
        total.handoffs != 0 ? static_cast<double>(total.handoff_ns) / static_cast<double>(total.handoffs) : 0;
}
BENCHMARK(BM_Sched_PartitionSwitch)->Arg(500)->Unit(benchmark::kMicrosecond)->UseManualTime()->Iterations(1);

// Two host threads passing a token through a mutex + condition variable: the
// time from one's notify to the other's wake-up, per handoff.
void BM_Baseline_CondvarHandoff(benchmark::State& state) {
    std::mutex mu;
    std::condition_variable cv;
    int turn = 0;
    std::atomic<bool> done{false};
    std::thread other([&] {
        std::unique_lock<std::mutex> g(mu);
        while (!done) {
            cv.wait(g, [&] { return turn == 1 || done.load(); });
            turn = 0;
            cv.notify_all();
        }
    });
    for (auto _ : state) {
        std::unique_lock<std::mutex> g(mu);
        turn = 1;
        cv.notify_all();
        cv.wait(g, [&] { return turn == 0; });
    }
    {
        std::lock_guard<std::mutex> g(mu);
        done = true;
    }
    cv.notify_all();
    other.join();
    state.counters["ns_per_handoff"] = benchmark::Counter(static_cast<double>(state.iterations()) * 2,
                                                          benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}
BENCHMARK(BM_Baseline_CondvarHandoff)->UseRealTime();

}  // namespace
