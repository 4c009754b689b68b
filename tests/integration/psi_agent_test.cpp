// The seed-001 Ψ ABI from a real CPL3 agent on KVM (label kvm):
// guest/examples/psi.c registers, reports, queries back, hibernates C0 / C1,
// checks the refusals, then registers a shared Ψ page, reports through it
// without hypercalls, and sleeps in C1 (psi_page_checks.c). It exits 0 only
// if every check passed; the host side is checked here.
#include <string>

#include "integration/kvm_support.hpp"

namespace rvm::test {
namespace {

class PsiAgent : public KvmTest {};

TEST_F(PsiAgent, AllChecksPass) {
    AgentWorld w(sys());
    (void)w.add(agent_spec("psi", RVM_AGENT_PSI_ELF));
    w.runner.start();
    w.runner.wait();
    const auto reps = w.runner.reports();
    ASSERT_EQ(reps.size(), 1u);
    for (const auto& l : w.lines_of("psi")) EXPECT_EQ(l.find("FAIL"), std::string::npos) << l;
    EXPECT_EQ(reps[0].outcome, host::Outcome::Exited) << reps[0].fault;
    EXPECT_EQ(reps[0].exit_code, 0u);
    EXPECT_TRUE(w.logged("psi", "psi: all checks passed"));
    const PartitionId pid = w.runner.partition(0).id;
    // The last report came through the shared page, not a hypercall.
    const auto v = w.runner.psi().partition_view(pid);
    ASSERT_TRUE(v.ok());
    EXPECT_TRUE(v.value().guest_registered);
    EXPECT_EQ(v.value().guest.ratio_ppm, 12'345u);
    EXPECT_GE(reps[0].psi_page_reads, 2u);
    // C1 (the hypercall's and the 20 ms one) really suspended the partition,
    // and each suspension and resumption is witnessed.
    EXPECT_EQ(reps[0].c1_suspends, 2u);
    const auto recs = w.records();
    EXPECT_EQ(transitions_to(recs, pid, PartitionState::Suspended), 2u);
    EXPECT_EQ(transitions_to(recs, pid, PartitionState::Active), 2u);
}

}  // namespace
}  // namespace rvm::test
