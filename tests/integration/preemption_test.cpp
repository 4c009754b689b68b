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

#include "integration/kvm_support.hpp"

namespace rvm::test {
namespace {

using host::Outcome;
using namespace std::chrono_literals;

class Preemption : public KvmTest {};

// A started spin partition and where its counter lives.
struct Spin {
    std::unique_ptr<AgentWorld> w;
    std::size_t index = 0;
    std::uint64_t counter_va = 0;

    [[nodiscard]] std::uint64_t counter() const {
        auto ram = w->runner.partition(index).ram.bytes();
        // SAFETY: counter_va + 8 is inside guest RAM (checked in start_spin) and
        // 8-aligned; the guest writes it concurrently, so the read is atomic.
        return std::atomic_ref<std::uint64_t>(*reinterpret_cast<std::uint64_t*>(ram.data() + counter_va))
            .load(std::memory_order_relaxed);
    }
    // Does the counter change within `timeout`? (Polls: returns as soon as it does.)
    [[nodiscard]] bool advances(std::chrono::milliseconds timeout = 2000ms) const {
        const std::uint64_t a = counter();
        const auto deadline = std::chrono::steady_clock::now() + timeout;
        while (std::chrono::steady_clock::now() < deadline) {
            std::this_thread::sleep_for(1ms);
            if (counter() != a) return true;
        }
        return false;
    }
    // Is the counter the same after `window`?
    [[nodiscard]] bool still(std::chrono::milliseconds window = 50ms) const {
        const std::uint64_t a = counter();
        std::this_thread::sleep_for(window);
        return counter() == a;
    }
};

// Starts agent_spin and waits for its "counter at 0x..." line.
void start_spin(const kvm::KvmSystem& sys, Spin& s, std::uint64_t wall_time_ns = 20'000'000'000) {
    s.w = std::make_unique<AgentWorld>(sys);
    host::AgentSpec spec = agent_spec("spin", RVM_AGENT_SPIN_ELF);
    spec.wall_time_ns = wall_time_ns;
    s.index = s.w->add(spec);
    s.w->runner.start();
    const auto line = s.w->wait_for_line("spin", "spin: counter at 0x", 5000ms);
    ASSERT_TRUE(line.has_value()) << "agent_spin did not log its counter address";
    s.counter_va = std::strtoull(line->c_str() + line->find("0x") + 2, nullptr, 16);
    const auto& layout = s.w->runner.partition(s.index).layout;
    ASSERT_GE(s.counter_va, layout.image_start) << *line;
    ASSERT_LE(s.counter_va + 8, layout.image_end) << *line;
    ASSERT_EQ(s.counter_va % 8, 0u) << *line;
}

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
