// Ψ (transition intensity) classification of real agents (label kvm): a
// compute loop is active, not transitioning, and a hypercall storm spends most
// epochs transitioning, as sampled from KVM's per-vCPU statistics every 10 ms.
#include <string>

#include "integration/kvm_support.hpp"

namespace rvm::test {
namespace {

class PsiClassification : public KvmTest {};

// The indices of the two partitions add_storm_and_spin adds.
struct StormAndSpin {
    std::size_t storm;
    std::size_t spin;
};

// A hypercall storm ("storm") and a compute loop ("spin"), in that order.
StormAndSpin add_storm_and_spin(AgentWorld& w) {
    host::PartitionSpec storm = agent_spec("storm", RVM_AGENT_NULL_ELF);
    storm.arg = 20'000;  // ~0.5 s of back-to-back hypercalls on PVM, far less on VT-x
    const std::size_t s = w.add(storm);
    host::PartitionSpec spin = agent_spec("spin", RVM_AGENT_SPIN_ELF);
    spin.wall_time_ns = 300'000'000;  // a pure compute loop with no exits but the host's own
    const std::size_t c = w.add(spin);
    return {s, c};
}

TEST_F(PsiClassification, ComputeIsActiveAndAHypercallStormIsTransitioning) {
    AgentWorld w(sys());
    const auto [s, c] = add_storm_and_spin(w);
    w.runner.start();
    w.runner.wait();
    const auto reps = w.runner.reports();
    ASSERT_EQ(reps.size(), 2u);

    EXPECT_EQ(reps[s].outcome, host::Outcome::Exited);
    EXPECT_GE(reps[s].psi.epochs, 1u) << "the storm was never sampled";
    // The ratio, not the last epoch's state: on a loaded 2-core machine a
    // single epoch can see the vCPU thread descheduled.
    EXPECT_GT(reps[s].psi.ratio_percent, 50.0);

    EXPECT_EQ(reps[c].outcome, host::Outcome::TimedOut);
    EXPECT_GE(reps[c].psi.epochs, 10u);
    EXPECT_NE(reps[c].psi.state, PsiState::Psi);
    EXPECT_LT(reps[c].psi.ratio_percent, 10.0);
    // Both are inside the policy's bands: the storm is throttled, compute is not.
    EXPECT_EQ(reps[c].psi.cpu_permille, 1000u);
    EXPECT_LT(reps[s].psi.cpu_permille, 1000u);
}

TEST_F(PsiClassification, PolicyHoldsBackTheStormNotTheComputeLoop) {
    AgentWorld w(sys());
    w.runner.set_psi_policy(true);
    const auto [s, c] = add_storm_and_spin(w);
    w.runner.start();
    w.runner.wait();
    const auto reps = w.runner.reports();
    ASSERT_EQ(reps.size(), 2u);
    EXPECT_EQ(reps[s].outcome, host::Outcome::Exited);
    // Held out of the guest for part of its epochs (50 % band while transitioning).
    EXPECT_GT(reps[s].throttled_ns, 0u);
    EXPECT_EQ(reps[c].throttled_ns, 0u);
    EXPECT_EQ(reps[c].psi.cpu_permille, 1000u);
    // Seed 000's short-term boost: the storm started transitioning, so it ran
    // boosted for a few epochs (default 3 per onset); the compute loop never.
    EXPECT_GE(reps[s].boosted_epochs, 1u);
    EXPECT_EQ(reps[c].boosted_epochs, 0u);
}

}  // namespace
}  // namespace rvm::test
