// Preemption of agent partitions on KVM (label kvm): agent_spin increments a
// counter in its data segment forever without a hypercall; the control plane
// must be able to suspend it (the counter stops), resume it (it advances
// again), stop it (TimedOut, every thread ends) and time it out.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <thread>

#include "integration/spin_support.hpp"

namespace rvm::test {
namespace {

using host::Outcome;
using namespace std::chrono_literals;

class Preemption : public KvmTest {};

void expect_all_threads_ended(AgentWorld& w, std::size_t i) {
    for (const auto& t : w.runner.partition(i).tasks) {
        EXPECT_TRUE(t->done.load());
        EXPECT_FALSE(t->thread.joinable());
    }
}

TEST_F(Preemption, SuspendStopsResumeContinuesStopEnds) {
    Spin s;
    ASSERT_NO_FATAL_FAILURE(start_spin(sys(), s));
    AgentWorld& w = *s.w;
    const PartitionId pid = w.runner.partition(s.index).id;
    EXPECT_TRUE(s.advances()) << "the spin loop does not run";

    ASSERT_TRUE(w.runner.suspend(s.index).ok());
    EXPECT_EQ(w.kernel.partition(pid)->state, PartitionState::Suspended);
    std::this_thread::sleep_for(20ms);  // the kick lands
    EXPECT_TRUE(s.still()) << "the counter advanced while suspended";
    EXPECT_TRUE(s.still()) << "the counter advanced while suspended";
    EXPECT_EQ(w.runner.reports()[s.index].outcome, Outcome::Running);

    ASSERT_TRUE(w.runner.resume(s.index).ok());
    EXPECT_EQ(w.kernel.partition(pid)->state, PartitionState::Active);
    EXPECT_TRUE(s.advances()) << "the counter did not advance after resume";

    // Suspend and resume again: the control plane is repeatable.
    ASSERT_TRUE(w.runner.suspend(s.index).ok());
    std::this_thread::sleep_for(20ms);
    EXPECT_TRUE(s.still());
    ASSERT_TRUE(w.runner.resume(s.index).ok());
    EXPECT_TRUE(s.advances());

    w.runner.stop(s.index);
    w.runner.wait();
    const auto rep = w.runner.reports()[s.index];
    EXPECT_EQ(rep.outcome, Outcome::TimedOut);
    expect_all_threads_ended(w, s.index);
    EXPECT_TRUE(s.still()) << "the counter advanced after stop";
    EXPECT_EQ(w.lines_of("spin").size(), 1u) << "spin made hypercalls in its loop";
}

TEST_F(Preemption, StopWhileSuspendedEnds) {
    Spin s;
    ASSERT_NO_FATAL_FAILURE(start_spin(sys(), s));
    ASSERT_TRUE(s.w->runner.suspend(s.index).ok());
    std::this_thread::sleep_for(20ms);
    s.w->runner.stop(s.index);
    s.w->runner.wait();
    EXPECT_EQ(s.w->runner.reports()[s.index].outcome, Outcome::TimedOut);
    expect_all_threads_ended(*s.w, s.index);
}

TEST_F(Preemption, SuspendOfAFailedPartitionIsRefused) {
    AgentWorld w(sys());
    const std::size_t i = w.add(agent_spec("fault", RVM_AGENT_FAULT_ELF));
    w.runner.start();
    w.runner.wait();
    ASSERT_EQ(w.runner.reports()[i].outcome, Outcome::Failed);
    EXPECT_FALSE(w.runner.suspend(i).ok());
    EXPECT_EQ(w.kernel.partition(w.runner.partition(i).id)->state, PartitionState::Failed);
}

TEST_F(Preemption, WallTimeEndsASpinningPartition) {
    Spin s;
    const auto t0 = std::chrono::steady_clock::now();
    ASSERT_NO_FATAL_FAILURE(start_spin(sys(), s, 200'000'000));
    s.w->runner.wait();
    const auto elapsed = std::chrono::steady_clock::now() - t0;
    const auto rep = s.w->runner.reports()[s.index];
    EXPECT_EQ(rep.outcome, Outcome::TimedOut);
    EXPECT_GE(rep.run_ns, 200'000'000u);
    EXPECT_LT(elapsed, 1000ms) << "wall time 200 ms took "
                               << std::chrono::duration_cast<std::chrono::milliseconds>(elapsed).count() << " ms";
    expect_all_threads_ended(*s.w, s.index);
}

}  // namespace
}  // namespace rvm::test
