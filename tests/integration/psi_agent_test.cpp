// The seed-001 Ψ hypercalls from a real CPL3 agent on KVM (label kvm):
// guest/examples/psi.c registers, reports, queries back, hibernates C0 / C1
// and checks the refusals; it exits 0 only if every check passed.
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
    // The partition's report reached the host's engine.
    const auto v = w.runner.psi().partition_view(w.runner.partition(0).id);
    ASSERT_TRUE(v.ok());
    EXPECT_TRUE(v.value().guest_registered);
    EXPECT_EQ(v.value().guest.ratio_ppm, 600'000u);
}

}  // namespace
}  // namespace rvm::test
