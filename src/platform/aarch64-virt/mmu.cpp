#include "platform/aarch64-virt/mmu.hpp"

#include <cstdint>

#include "platform/aarch64-virt/hw.hpp"

namespace rvm::bm {

namespace {

// 1 GiB blocks at level 1 (T0SZ = 32: four entries cover 4 GiB).
alignas(4096) std::uint64_t el2_l1[512];

constexpr std::uint64_t kBlock = 0b01;
constexpr std::uint64_t kAttrDevice = 0ull << 2;  // MAIR index 0
constexpr std::uint64_t kAttrNormal = 1ull << 2;  // MAIR index 1
constexpr std::uint64_t kApRw = 1ull << 6;        // AP[1] is RES1 in the EL2 regime
constexpr std::uint64_t kShInner = 3ull << 8;
constexpr std::uint64_t kAf = 1ull << 10;
constexpr std::uint64_t kXn = 1ull << 54;

constexpr std::uint64_t kMair = 0x00ull | (0xffull << 8);  // Device-nGnRnE, Normal WB RW-allocate
// T0SZ 32, inner/outer WB WA, inner shareable, 4K granule, 32-bit PA; RES1 23, 31.
constexpr std::uint64_t kTcr = 32u | (1u << 8) | (1u << 10) | (3u << 12) | (1u << 23) | (1u << 31);
constexpr std::uint64_t kSctlrM = 1u << 0, kSctlrC = 1u << 2, kSctlrI = 1u << 12;
// RES1 bits of SCTLR_EL2 without VHE.
constexpr std::uint64_t kSctlrRes1 = (3u << 4) | (1u << 11) | (1u << 16) | (1u << 18) | (3u << 22) | (3u << 28);

}  // namespace

void mmu_enable() {
    el2_l1[0] = 0x0000'0000ull | kBlock | kAttrDevice | kApRw | kAf | kXn;       // GIC, UART, flash
    el2_l1[1] = 0x4000'0000ull | kBlock | kAttrNormal | kApRw | kShInner | kAf;  // RAM
    el2_l1[2] = 0x8000'0000ull | kBlock | kAttrDevice | kApRw | kAf | kXn;
    el2_l1[3] = 0xc000'0000ull | kBlock | kAttrDevice | kApRw | kAf | kXn;
    dsb_sy();
    RVM_MSR(mair_el2, kMair);
    RVM_MSR(tcr_el2, kTcr);
    RVM_MSR(ttbr0_el2, reinterpret_cast<std::uint64_t>(&el2_l1[0]));
    isb();
    asm volatile("tlbi alle2\n dsb sy" ::: "memory");
    isb();
    RVM_MSR(sctlr_el2, kSctlrRes1 | kSctlrM | kSctlrC | kSctlrI);
    isb();
}

}  // namespace rvm::bm
