// GICv3 of QEMU virt, core 0 only: the distributor, this core's
// redistributor and the system-register CPU interface at EL2. Physical
// interrupts are routed to EL2 (HCR_EL2.IMO), so the hypervisor's timer
// preempts a partition whatever the partition masks.
#pragma once

#include <cstdint>

namespace rvm::bm {

inline constexpr std::uint32_t kSpuriousIntid = 1023;

void gic_init();
void gic_enable_ppi(std::uint32_t intid);
// A shared peripheral interrupt (INTID 32..1019): group 1, routed to core
// 0, enabled or disabled in the distributor.
void gic_spi_enable(std::uint32_t intid, bool enable);
// Acknowledges the highest-priority pending interrupt (kSpuriousIntid: none).
std::uint32_t gic_ack();
// EOImode 1: the end of an interrupt is two steps, so that one injected into
// a partition with the HW bit stays active until the partition ends it.
void gic_priority_drop(std::uint32_t intid);
void gic_deactivate(std::uint32_t intid);

}  // namespace rvm::bm
