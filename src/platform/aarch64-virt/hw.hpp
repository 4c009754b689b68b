// Register access for the EL2 platform: system registers by name and MMIO
// by physical address (identity-mapped, see mmu.cpp).
#pragma once

#include <cstdint>

// __extension__: a GNU statement expression, so that the register name
// stays a string literal inside the asm.
#define RVM_MRS(reg)                                        \
    __extension__({                                         \
        std::uint64_t v_;                                   \
        asm volatile("mrs %0, " #reg : "=r"(v_)::"memory"); \
        v_;                                                 \
    })
#define RVM_MSR(reg, val) asm volatile("msr " #reg ", %0" ::"r"(static_cast<std::uint64_t>(val)) : "memory")

namespace rvm::bm {

inline void isb() { asm volatile("isb" ::: "memory"); }
inline void dsb_sy() { asm volatile("dsb sy" ::: "memory"); }

// A physical address as a pointer. EL2 runs on an identity map of the low
// 4 GiB (mmu.cpp), so every physical address the platform owns -- device
// registers, partition memory, page tables -- is also its virtual address.
// The one integer-to-pointer conversion of the platform.
template <typename T>
T* phys(std::uint64_t pa) {
    // SAFETY: identity map (above); callers pass addresses of memory or
    // registers the platform owns, aligned for T.
    return reinterpret_cast<T*>(pa);  // NOLINT(performance-no-int-to-ptr): deviations.md#baremetal-phys
}

// SAFETY: `pa` is a device register of QEMU virt, mapped Device-nGnRnE in
// the EL2 identity map; volatile keeps every access as written.
inline std::uint32_t mmio_read32(std::uint64_t pa) { return *phys<volatile std::uint32_t>(pa); }
inline void mmio_write32(std::uint64_t pa, std::uint32_t v) { *phys<volatile std::uint32_t>(pa) = v; }

}  // namespace rvm::bm
