// The Ψ policy (AgentRunner::set_psi_policy, seed 001's bands, DESIGN.md 6) on
// a mixed workload in one AgentRunner: 2 steady compute agents (agent_loop)
// and 2 bursty ones (agent_psi_stress in latency mode: back-to-back
// RVM_HC_CLOCK calls, each timed inside the guest as the difference of two
// consecutive clock values, i.e. one full round trip per sample). Run once with
// the policy off, once on, in the same benchmark iteration.
//
// Counters (per configuration, `_off` / `_on`, and `_ratio` = on / off):
//   steady_Miter_per_s  agent_loop's dec/jnz loop: iterations / its own
//                       rvm_clock_ns time, summed over the 2 steady agents
//   bursty_p50_us, bursty_p99_us  per-hypercall latency from the guest's
//                       histogram (1 us buckets, upper bounds), the worse of
//                       the 2 bursty agents
//   bursty_mean_us      total time / calls, averaged over the 2 bursty agents
//   bursty_throttled_ms time the policy held the bursty agents out of the guest
// The manual time is the wall time of both runs. Without /dev/kvm it skips
// with an error that says "KVM".
#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "host/posix/monotonic_clock.hpp"
#include "host/posix/posix_io.hpp"
#include "host/runtime/agent_runner.hpp"
#include "host/witness/sodium_hash.hpp"
#include "kvm_bench_env.hpp"
#include "nucleus/witness_log.hpp"

namespace {

using namespace rvm;
using bench::number_after;
using bench::skip_without;

constexpr std::uint64_t kLoopIterations = 1ull << 29;  // ~0.2-0.5 s of dec/jnz alone on this class of machine
constexpr std::uint64_t kBurstyCalls = 15'000;         // ~0.4 s alone at PVM's ~25 us a round trip
constexpr std::uint64_t kLatencyMode = 1ull << 63;     // psi_stress.c's PSI_STRESS_LATENCY_MODE

struct PolicyEnv : bench::KvmBenchEnv {
    std::vector<std::uint8_t> loop_elf;
    std::vector<std::uint8_t> stress_elf;

    PolicyEnv() {
        if (!error.empty()) return;
#if defined(RVM_AGENT_LOOP_ELF) && defined(RVM_AGENT_PSI_STRESS_ELF)
        loop_elf = agent(RVM_AGENT_LOOP_ELF);
        stress_elf = agent(RVM_AGENT_PSI_STRESS_ELF);
#else
        error = "agent ELFs were not built (KVM benchmarks)";
#endif
    }

    static PolicyEnv& get() {
        static PolicyEnv env;
        return env;
    }
};

struct MixedResult {
    double steady_iter_per_s = 0;  // summed over the steady agents
    double p50_us = 0;             // worst bursty agent
    double p99_us = 0;
    double mean_us = 0;  // averaged over the bursty agents
    double throttled_ms = 0;
    double wall_s = 0;
    std::string error;
};

MixedResult run_mixed(PolicyEnv& env, bool policy) {
    MixedResult out;
    std::mutex mu;
    std::vector<std::pair<std::string, std::string>> lines;
    host::AgentRunner runner(*env.kernel, env.clock, *env.sys, [&](const std::string& p, const std::string& line) {
        std::lock_guard<std::mutex> g(mu);
        lines.emplace_back(p, line);
    });
    runner.set_psi_policy(policy);
    const char* names[] = {"steady0", "steady1", "bursty0", "bursty1"};
    for (int i = 0; i < 4; ++i) {
        host::PartitionSpec s;
        s.name = names[i];
        const bool steady = i < 2;
        s.elf = steady ? env.loop_elf : env.stress_elf;
        s.arg = steady ? kLoopIterations : (kLatencyMode | kBurstyCalls);
        s.wall_time_ns = 30'000'000'000;
        if (!runner.add(s)) {
            out.error = "AgentRunner::add failed";
            return out;
        }
    }
    const auto t0 = std::chrono::steady_clock::now();
    runner.start();
    runner.wait();
    out.wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    const auto reps = runner.reports();
    runner.destroy_all();
    for (const auto& r : reps) {
        if (r.outcome != host::Outcome::Exited || r.exit_code != 0) {
            out.error = r.name + " did not exit 0: " + r.fault;
            return out;
        }
        if (r.name.starts_with("bursty")) out.throttled_ms += static_cast<double>(r.throttled_ns) / 1e6;
    }
    int steady = 0, bursty = 0;
    for (const auto& [p, line] : lines) {
        if (line.find("kind=decjnz") != std::string::npos) {
            const auto it = number_after(line, "iterations=");
            const auto ns = number_after(line, " ns=");
            if (it && ns && *ns > 0) {
                out.steady_iter_per_s += static_cast<double>(*it) * 1e9 / static_cast<double>(*ns);
                ++steady;
            }
        } else if (line.find("psi_stress: latency") != std::string::npos) {
            const auto calls = number_after(line, "calls=");
            const auto total = number_after(line, "total_ns=");
            const auto p50 = number_after(line, "p50_ns=");
            const auto p99 = number_after(line, "p99_ns=");
            if (calls && total && p50 && p99 && *calls > 0) {
                out.p50_us = std::max(out.p50_us, static_cast<double>(*p50) / 1e3);
                out.p99_us = std::max(out.p99_us, static_cast<double>(*p99) / 1e3);
                out.mean_us += static_cast<double>(*total) / static_cast<double>(*calls) / 1e3;
                ++bursty;
            }
        }
    }
    if (steady != 2 || bursty != 2) {
        out.error = "missing agent log lines";
        return out;
    }
    out.mean_us /= bursty;
    return out;
}

void BM_PsiPolicy_Mixed(benchmark::State& state) {
    PolicyEnv& env = PolicyEnv::get();
    if (skip_without(state, env.error)) return;
    MixedResult off, on;
    for (auto _ : state) {
        off = run_mixed(env, false);
        if (off.error.empty()) on = run_mixed(env, true);
        const std::string& e = off.error.empty() ? on.error : off.error;
        if (!e.empty()) {
            state.SkipWithError(e.c_str());
            return;
        }
        state.SetIterationTime(off.wall_s + on.wall_s);
    }
    auto ratio = [](double a, double b) { return b > 0 ? a / b : 0.0; };
    state.counters["steady_Miter_per_s_off"] = off.steady_iter_per_s / 1e6;
    state.counters["steady_Miter_per_s_on"] = on.steady_iter_per_s / 1e6;
    state.counters["steady_ratio"] = ratio(on.steady_iter_per_s, off.steady_iter_per_s);
    state.counters["bursty_p50_us_off"] = off.p50_us;
    state.counters["bursty_p50_us_on"] = on.p50_us;
    state.counters["bursty_p50_ratio"] = ratio(on.p50_us, off.p50_us);
    state.counters["bursty_p99_us_off"] = off.p99_us;
    state.counters["bursty_p99_us_on"] = on.p99_us;
    state.counters["bursty_p99_ratio"] = ratio(on.p99_us, off.p99_us);
    state.counters["bursty_mean_us_off"] = off.mean_us;
    state.counters["bursty_mean_us_on"] = on.mean_us;
    state.counters["bursty_mean_ratio"] = ratio(on.mean_us, off.mean_us);
    state.counters["bursty_throttled_ms_off"] = off.throttled_ms;
    state.counters["bursty_throttled_ms_on"] = on.throttled_ms;
}
BENCHMARK(BM_PsiPolicy_Mixed)->Unit(benchmark::kMillisecond)->UseManualTime()->Iterations(1);

}  // namespace
