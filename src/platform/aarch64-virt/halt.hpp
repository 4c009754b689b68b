// Ending the image: PSCI SYSTEM_OFF (QEMU exits), or parking the core.
#pragma once

namespace rvm::bm {

[[noreturn]] void power_off();
// Prints "rvm-bm: HALT <why>" and powers off.
[[noreturn]] void halt(const char* why);

}  // namespace rvm::bm
