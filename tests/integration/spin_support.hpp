// agent_spin in an AgentWorld (label kvm): a started spin partition, where
// its counter lives in guest memory, and checks that it advances or stands
// still. Shared by preemption_test.cpp and vcpu_move_test.cpp.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <thread>

#include "integration/kvm_support.hpp"

namespace rvm::test {

using namespace std::chrono_literals;

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
    // Polls until the counter passes `from`; fails if it is ever below it.
    [[nodiscard]] ::testing::AssertionResult advances_past(std::uint64_t from,
                                                           std::chrono::milliseconds timeout = 2000ms) const {
        const auto deadline = std::chrono::steady_clock::now() + timeout;
        while (std::chrono::steady_clock::now() < deadline) {
            const std::uint64_t c = counter();
            if (c < from) return ::testing::AssertionFailure() << "counter went back: " << c << " < " << from;
            if (c > from) return ::testing::AssertionSuccess();
            std::this_thread::sleep_for(1ms);
        }
        return ::testing::AssertionFailure() << "counter stuck at " << from;
    }
    [[nodiscard]] host::AgentTask& task() const { return *w->runner.partition(index).tasks[0]; }
};

// Starts agent_spin and waits for its "counter at 0x..." line.
inline void start_spin(const kvm::KvmSystem& sys, Spin& s, std::uint64_t wall_time_ns = 20'000'000'000) {
    s.w = std::make_unique<AgentWorld>(sys);
    host::PartitionSpec spec = agent_spec("spin", RVM_AGENT_SPIN_ELF);
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

}  // namespace rvm::test
