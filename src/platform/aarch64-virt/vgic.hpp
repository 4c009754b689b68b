// The GICv3 virtual CPU interface: list registers through which EL2 makes
// interrupts pending in the running partition, and the per-partition state
// (virtual interface and virtual timer) swapped with it. The partition's
// virtual timer (CNTV, PPI 27) reaches EL2 as a physical interrupt and is
// injected with the HW bit, so the partition's own EOI deactivates it.
#pragma once

#include <array>
#include <cstdint>

namespace rvm::bm {

inline constexpr std::uint32_t kVirtTimerIntid = 27;
inline constexpr std::uint32_t kUartIntid = 33;  // the PL011, SPI 1 on QEMU virt
inline constexpr std::size_t kVgicLrs = 4;       // what QEMU's GICv3 implements

struct VgicState {
    std::uint64_t vmcr = 0;
    std::array<std::uint64_t, kVgicLrs> lr{};
    std::uint64_t cntv_ctl = 0;  // the partition's virtual timer
    std::uint64_t cntv_cval = 0;
    void save();
    void load() const;
};

// Enables the virtual CPU interface (ICH_HCR_EL2.En).
void vgic_init();
// Makes physical `intid` pending as the same virtual INTID in the loaded
// partition (HW = 1). False if every list register is in use.
[[nodiscard]] bool vgic_inject_hw(std::uint32_t intid);
// Removes `intid` from the list registers: the loaded ones (saved ==
// nullptr) or a switched-out partition's saved copy.
void vgic_forget(std::uint32_t intid, VgicState* saved);

}  // namespace rvm::bm
