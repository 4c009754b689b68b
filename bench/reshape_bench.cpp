// Live reshaping on KVM: the time of a migrate, a merge and a split of a
// running partition (agent_spin, which never exits on its own), each measured
// by AgentRunner::Reshape::ns (checks, proof, hold, memslots, vCPU move,
// witness). The baseline is BM_Spawn in the same run (kvm_bench.cpp): what
// building a fresh partition costs -- the alternative to moving one is
// restarting it elsewhere, losing its state. Seed targets: split < 50 ms,
// migration < 100 ms.
#include <benchmark/benchmark.h>

#include <chrono>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "host/runtime/agent_runner.hpp"
#include "kvm_bench_env.hpp"

namespace rvm {
namespace {

enum Op : std::int64_t { kMigrate = 0, kMerge = 1, kSplit = 2 };

host::PartitionSpec spin_spec(std::string name, const std::vector<std::uint8_t>& elf) {
    host::PartitionSpec s;
    s.name = std::move(name);
    s.elf = elf;
    s.memory = 8u << 20;
    s.max_tasks = 1;
    return s;
}

void BM_Reshape(benchmark::State& state) {
    static bench::KvmBenchEnv env;
    if (bench::skip_without(state, env.error)) return;
#if defined(RVM_AGENT_SPIN_ELF)
    static const std::vector<std::uint8_t> spin = env.agent(RVM_AGENT_SPIN_ELF);
#else
    static const std::vector<std::uint8_t> spin;
    if (env.error.empty()) env.error = "agent_spin was not built";
#endif
    if (bench::skip_without(state, env.error)) return;
    host::AgentRunner runner(*env.kernel, env.clock, *env.sys, {});
    const auto a = runner.add(spin_spec("a", spin));
    const auto b = runner.add(spin_spec("b", spin));
    if (!a || !b) {
        state.SkipWithError("cannot build the partitions");
        return;
    }
    runner.start();
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
    const auto op = static_cast<Op>(state.range(0));
    for (auto _ : state) {
        // Measured: the op; then undone so the next iteration starts alike
        // (a and b in cells of their own).
        const auto run_op = [&]() -> Result<host::AgentRunner::Reshape, std::string> {
            if (op == kMigrate) return runner.migrate(b.value(), a.value());
            if (op == kMerge) return runner.merge(a.value(), b.value());
            const auto m = runner.migrate(b.value(), a.value());
            if (!m) return err(m.error());
            return runner.split({b.value()});
        };
        const auto r = run_op();
        if (!r) {
            state.SkipWithError(r.error().c_str());
            break;
        }
        state.SetIterationTime(static_cast<double>(r.value().ns) / 1e9);
        if (op != kSplit) {
            const auto undo = runner.split({b.value()});
            if (!undo) {
                state.SkipWithError(undo.error().c_str());
                break;
            }
        }
    }
    runner.stop(a.value());
    runner.stop(b.value());
    runner.wait();
    runner.destroy_all();
}
BENCHMARK(BM_Reshape)
    ->ArgName("op(0 migrate,1 merge,2 split)")
    ->Arg(kMigrate)
    ->Arg(kMerge)
    ->Arg(kSplit)
    ->Unit(benchmark::kMillisecond)
    ->UseManualTime()
    ->Iterations(20);

}  // namespace
}  // namespace rvm
