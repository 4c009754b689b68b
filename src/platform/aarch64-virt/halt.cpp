#include "platform/aarch64-virt/halt.hpp"

#include <cstdint>

#include "platform/aarch64-virt/console.hpp"

namespace rvm::bm {

void power_off() {
    // PSCI 0.2 SYSTEM_OFF. QEMU virt with virtualization=on and no EL3
    // serves PSCI through SMC, which from EL2 reaches the emulated firmware.
    // x0 is not declared clobbered: nothing runs after this but the loop.
    asm volatile("movz x0, #0x0008\n movk x0, #0x8400, lsl #16\n smc #0" ::: "memory");
    for (;;) asm volatile("wfe");
}

void halt(const char* why) {
    con() << "rvm-bm: HALT " << why << '\n';
    power_off();
}

}  // namespace rvm::bm
