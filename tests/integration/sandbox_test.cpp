// Agents under the sandbox (label kvm): a forked child builds a runtime,
// enters the sandbox, and runs a blocking pipeline and an agent that spawns
// tasks -- every hypercall, edge wait, kick and thread spawn under the
// seccomp filters. The parent asserts the child's verdict.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>

#include "integration/kvm_support.hpp"

namespace rvm::test {
namespace {

class SandboxRun : public KvmTest {};

// 0: everything as expected; else the first check that failed.
int sandboxed_run(const kvm::KvmSystem& sys) {
    AgentWorld w(sys);
    constexpr std::uint64_t kN = 2'000;
    const auto src = w.runner.add(edge_node("source", kSource, kN, true));
    const auto sink = w.runner.add(edge_node("sink", kSink, kN, true));
    auto spawn = agent_spec("spawn", RVM_AGENT_SPAWN_ELF);
    spawn.max_tasks = 4;
    const auto spawner = w.runner.add(spawn);
    if (!src || !sink || !spawner) return 1;
    if (!w.runner.connect(src.value(), sink.value(), 8192)) return 2;
    const auto s = w.runner.enter_sandbox();
    if (!s) {
        std::fprintf(stderr, "sandbox: %s\n", s.error().c_str());
        return 3;
    }
    w.runner.start();
    w.runner.wait();
    for (const auto& r : w.runner.reports()) {
        if (r.outcome != host::Outcome::Exited || r.exit_code != 0) {
            std::fprintf(stderr, "%s: %s %s\n", r.name.c_str(), host::outcome_name(r.outcome), r.fault.c_str());
            return 4;
        }
    }
    if (!w.logged("sink", "sink received 2000 in order")) return 5;
    w.runner.destroy_all();
    return 0;
}

TEST_F(SandboxRun, AgentsRunNormallyUnderTheFilters) {
    std::fflush(nullptr);
    const pid_t pid = fork();
    if (pid == 0) _exit(sandboxed_run(sys()));
    int status = 0;
    ASSERT_EQ(waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(WIFEXITED(status)) << "killed by signal " << WTERMSIG(status) << " (SIGSYS = " << SIGSYS
                                   << ": a call the filter does not allow)";
    EXPECT_EQ(WEXITSTATUS(status), 0);
}

}  // namespace
}  // namespace rvm::test
