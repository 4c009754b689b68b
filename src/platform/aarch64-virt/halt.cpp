#include "platform/aarch64-virt/halt.hpp"

#include <cstdint>

#include "platform/aarch64-virt/console.hpp"

namespace rvm::bm {

void power_off() {
    // PSCI 0.2 SYSTEM_OFF. QEMU virt with virtualization=on and no EL3
    // serves PSCI through SMC, which from EL2 reaches the emulated firmware.
    register std::uint64_t x0 asm("x0") = 0x8400'0008;
    asm volatile("smc #0" : "+r"(x0)::"memory");
    for (;;) asm volatile("wfe");
}

void halt(const char* why) {
    con() << "rvm-bm: HALT " << why << '\n';
    power_off();
}

}  // namespace rvm::bm
