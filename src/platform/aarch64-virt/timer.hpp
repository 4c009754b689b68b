// The generic timer: the system counter as the nucleus's clock, and the EL2
// physical timer (CNTHP, PPI 26) as the preemption tick.
#pragma once

#include <cstdint>

#include "nucleus/clock.hpp"

namespace rvm::bm {

inline constexpr std::uint32_t kHypTimerIntid = 26;

std::uint64_t counter();
std::uint64_t counter_hz();
// Fires the EL2 timer interrupt `ns` from now (replaces any earlier deadline).
void hyp_timer_arm_ns(std::uint64_t ns);
void hyp_timer_disarm();

// The counter in nanoseconds since boot.
class CounterClock final : public Clock {
public:
    [[nodiscard]] std::uint64_t now_ns() const override;
};

[[nodiscard]] std::uint64_t ticks_to_ns(std::uint64_t ticks);

}  // namespace rvm::bm
