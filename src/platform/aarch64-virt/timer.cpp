#include "platform/aarch64-virt/timer.hpp"

#include "platform/aarch64-virt/hw.hpp"

namespace rvm::bm {

std::uint64_t counter() {
    isb();
    return RVM_MRS(cntpct_el0);
}

std::uint64_t counter_hz() { return RVM_MRS(cntfrq_el0); }

std::uint64_t ticks_to_ns(std::uint64_t ticks) {
    const std::uint64_t hz = counter_hz();
    return (ticks / hz) * 1'000'000'000ull + (ticks % hz) * 1'000'000'000ull / hz;
}

void hyp_timer_arm_ns(std::uint64_t ns) {
    const std::uint64_t ticks = ns * counter_hz() / 1'000'000'000ull;
    RVM_MSR(cnthp_tval_el2, ticks == 0 ? 1 : ticks);
    RVM_MSR(cnthp_ctl_el2, 1);  // ENABLE, not masked
    isb();
}

void hyp_timer_disarm() {
    RVM_MSR(cnthp_ctl_el2, 0);
    isb();
}

std::uint64_t CounterClock::now_ns() const { return ticks_to_ns(counter()); }

}  // namespace rvm::bm
