// The start state of an agent or kernel-profile vCPU (DESIGN.md section 4):
// segments, control registers and EFER for KVM_SET_SREGS, and the general
// registers in KVM's layout. Internal to the KVM backend (kvm_vcpu.cpp).
#pragma once

#include <linux/kvm.h>

#include "backend/kvm/kvm_vcpu.hpp"
#include "backend/vcpu.hpp"

namespace rvm::kvm {

// Overwrites what `start` decides in `s` (KVM_GET_SREGS's answer): the
// profile's flat 64-bit segments, a busy TSS, no LDT/GDT/IDT, paging on.
void apply_start_sregs(kvm_sregs& s, const AgentStart& start);

// start.regs with the start rflags (IOPL 3, interrupts off).
[[nodiscard]] kvm_regs start_regs(const AgentStart& start);

[[nodiscard]] backend::Regs from_kvm(const kvm_regs& r);
[[nodiscard]] kvm_regs to_kvm(const backend::Regs& r);

}  // namespace rvm::kvm
