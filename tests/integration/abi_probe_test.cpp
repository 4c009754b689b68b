// The CPL0 kernel-profile probe (guest/probe/abi_probe.c) on KVM (label kvm):
// CPUID leaves, the four Ψ MSRs, the Ψ hypercalls, the shared page and C1
// from guest kernel mode; then each hostile MSR access, one run per case,
// must raise #GP in the guest, fail nothing but that partition, and change
// no Ψ state.
#include <cinttypes>
#include <cstdio>
#include <string>

#include "integration/kvm_support.hpp"

namespace rvm::test {
namespace {

constexpr std::uint64_t kGpExit = 0x47;  // RVM_PROBE_GP_EXIT
constexpr std::uint64_t kCases = 9;      // RVM_PROBE_CASES

class AbiProbe : public KvmTest {
protected:
    host::PartitionSpec probe(std::uint64_t arg) {
        host::PartitionSpec s = agent_spec("probe", RVM_AGENT_RVM_ABI_PROBE_ELF);
        s.profile = host::Profile::Kernel;
        s.arg = arg;
        return s;
    }
};

TEST_F(AbiProbe, EveryAbiCheckPassesAtCpl0) {
    if (!sys().msr_exits()) GTEST_SKIP() << "this host's KVM lacks user-space MSR exits (kernel profile refused)";
    AgentWorld w(sys());
    (void)w.add(probe(0));
    w.runner.start();
    w.runner.wait();
    const auto reps = w.runner.reports();
    ASSERT_EQ(reps.size(), 1u);
    for (const auto& l : w.lines_of("probe")) EXPECT_EQ(l.find("FAIL"), std::string::npos) << l;
    EXPECT_EQ(reps[0].outcome, host::Outcome::Exited) << reps[0].fault;
    EXPECT_EQ(reps[0].exit_code, 0u);
    EXPECT_TRUE(w.logged("probe", "probe: all checks passed"));
    EXPECT_GE(reps[0].psi_page_reads, 2u);
    EXPECT_EQ(reps[0].c1_suspends, 1u);
    const auto v = w.runner.psi().partition_view(w.runner.partition(0).id);
    ASSERT_TRUE(v.ok());
    EXPECT_FALSE(v.value().guest_registered) << "the probe unregisters through PSI_CTRL at the end";
}

// An agent (CPL3) cannot reach the MSRs at all: RDMSR is privileged, the CPU
// raises #GP before any exit, and the agent fails alone.
TEST_F(AbiProbe, TheAgentProfileCannotExecuteTheProbe) {
    AgentWorld w(sys());
    (void)w.add(agent_spec("probe", RVM_AGENT_RVM_ABI_PROBE_ELF));
    w.runner.start();
    w.runner.wait();
    const auto reps = w.runner.reports();
    ASSERT_EQ(reps.size(), 1u);
    EXPECT_EQ(reps[0].outcome, host::Outcome::Failed);
}

TEST_F(AbiProbe, HostileMsrAccessesRaiseGpInTheGuestOnly) {
    if (!sys().msr_exits()) GTEST_SKIP() << "this host's KVM lacks user-space MSR exits (kernel profile refused)";
    for (std::uint64_t k = 1; k <= kCases; ++k) {
        SCOPED_TRACE("hostile case " + std::to_string(k));
        AgentWorld w(sys());
        (void)w.add(probe(k));
        (void)w.add(agent_spec("bystander", RVM_AGENT_HELLO_ELF));
        w.runner.start();
        w.runner.wait();
        const auto reps = w.runner.reports();
        ASSERT_EQ(reps.size(), 2u);
        const auto at = w.wait_for_line("probe", "probe: case", std::chrono::milliseconds(50));
        ASSERT_TRUE(at.has_value()) << "the probe reached its hostile access";
        const std::string rip = at->substr(at->find(" at ") + 4);
        if (reps[0].outcome == host::Outcome::Exited) {
            // VT-x / AMD-V: the guest's IDT took the #GP.
            EXPECT_EQ(reps[0].exit_code, kGpExit);
            EXPECT_TRUE(w.logged("probe", "#GP caught"));
            EXPECT_TRUE(w.logged("probe", rip)) << "the #GP is at the hostile instruction";
        } else {
            // PVM: no PVM event entry in the probe, so the injected #GP is a
            // triple fault at exactly the hostile instruction.
            EXPECT_EQ(reps[0].outcome, host::Outcome::Failed);
            EXPECT_NE(reps[0].fault.find("triple fault"), std::string::npos) << reps[0].fault;
            EXPECT_NE(reps[0].fault.find("rip " + rip), std::string::npos) << reps[0].fault << " vs " << rip;
        }
        EXPECT_FALSE(w.logged("probe", "did not raise")) << "the access must not succeed";
        EXPECT_EQ(reps[1].outcome, host::Outcome::Exited) << "another partition is untouched";
        const auto v = w.runner.psi().partition_view(w.runner.partition(0).id);
        ASSERT_TRUE(v.ok());
        if (k == 1 || k == 2) {
            EXPECT_EQ(v.value().guest.ratio_ppm, 100'000u) << "the refused write changed nothing";
        } else {
            EXPECT_FALSE(v.value().guest_registered);
        }
    }
}

}  // namespace
}  // namespace rvm::test
