// VcpuState: everything rehome carries from one vCPU to its successor in
// another VM -- registers, sregs, FPU/XSAVE, XCRs, pending events, debug
// registers, the MSRs below and the TSC offset -- with its save and restore
// (STYLE.md 12). Internal to the KVM backend (kvm_vcpu.cpp).
#pragma once

#include <linux/kvm.h>

#include <array>
#include <cstdint>
#include <optional>
#include <vector>

#include "backend/kvm/kvm_error.hpp"
#include "backend/kvm/kvm_layout.hpp"
#include "backend/kvm/kvm_vm.hpp"
#include "nucleus/result.hpp"

namespace rvm::kvm {

// The MSRs rehome carries, where KVM_GET_MSR_INDEX_LIST has them: the TSC
// (the guest's clock must not restart) and TSC_ADJUST, and what a
// kernel-profile guest programs that sregs do not hold (SYSENTER and SYSCALL
// entry, the swapgs base, TSC_AUX, PAT). An agent at CPL3 changes none but
// the TSC; the rest a new vCPU would have at reset values.
inline constexpr std::uint32_t kMsrTsc = 0x10;  // IA32_TSC
inline constexpr std::array<std::uint32_t, 12> kMovedMsrs{
    kMsrTsc,                                         // IA32_TSC
    0x3b,                                            // IA32_TSC_ADJUST
    0x174,      0x175,      0x176,                   // SYSENTER_CS / _ESP / _EIP
    0x277,                                           // IA32_PAT
    0xc0000081, 0xc0000082, 0xc0000083, 0xc0000084,  // STAR, LSTAR, CSTAR, SFMASK
    0xc0000102,                                      // KERNEL_GS_BASE
    0xc0000103,                                      // TSC_AUX
};
using MovedMsrs = MsrBlock<kMovedMsrs.size()>;

struct VcpuState {
    kvm_regs regs{};
    kvm_sregs sregs{};
    std::vector<std::uint32_t> xsave;  // a kvm_xsave of KVM_CAP_XSAVE2's size; empty: `fpu` instead
    kvm_fpu fpu{};
    std::optional<kvm_xcrs> xcrs;  // where KVM_CAP_XCRS
    kvm_vcpu_events events{};
    kvm_debugregs debugregs{};
    MovedMsrs msrs;
    // KVM_VCPU_TSC_OFFSET where KVM has it: the same offset makes the new
    // vCPU's TSC the old one's exactly (MSR_IA32_TSC alone stops the clock
    // for the length of the move).
    std::optional<std::int64_t> tsc_offset;

    // Reads the state of the vCPU `fd`; `caps` is a VM of the same
    // KvmSystem, for the capability checks.
    [[nodiscard]] static Result<VcpuState, KvmError> save(int fd, const KvmVm& caps);
    // Writes it into the (new) vCPU `fd`.
    [[nodiscard]] Result<void, KvmError> restore(int fd);
};

// MSR_IA32_TSC of the vCPU `fd`.
[[nodiscard]] Result<std::uint64_t, KvmError> read_tsc(int fd);

}  // namespace rvm::kvm
