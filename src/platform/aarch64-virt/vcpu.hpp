// Vcpu: the register state of one partition's single task. The general
// registers and the EL2 return state are saved by boot.S on every trap; the
// EL1 system registers are swapped only when another partition runs.
#pragma once

#include <cstddef>
#include <cstdint>

#include "platform/aarch64-virt/vcpu_layout.h"

namespace rvm::bm {

struct VcpuRegs {
    std::uint64_t x[31];     // x0..x30
    std::uint64_t sp_el1;    // the partition's stack pointer
    std::uint64_t elr;       // where the partition resumes (ELR_EL2)
    std::uint64_t spsr;      // its PSTATE (SPSR_EL2)
    std::uint64_t esr;       // of the last trap (ESR_EL2)
    std::uint64_t far;       // FAR_EL2
    std::uint64_t hpfar;     // HPFAR_EL2 (faulting IPA >> 12 << 4)
    std::uint64_t host[13];  // EL2's x19..x30 and sp while the partition runs
};
static_assert(offsetof(VcpuRegs, sp_el1) == VCPU_SP_EL1);
static_assert(offsetof(VcpuRegs, elr) == VCPU_ELR);
static_assert(offsetof(VcpuRegs, spsr) == VCPU_SPSR);
static_assert(offsetof(VcpuRegs, esr) == VCPU_ESR);
static_assert(offsetof(VcpuRegs, far) == VCPU_FAR);
static_assert(offsetof(VcpuRegs, hpfar) == VCPU_HPFAR);
static_assert(offsetof(VcpuRegs, host) == VCPU_HOST);
static_assert(sizeof(VcpuRegs) == VCPU_SIZE);

// EL1 system registers a partition owns.
struct El1State {
    std::uint64_t sctlr, vbar, ttbr0, ttbr1, tcr, mair, amair, sp_el0, elr, spsr, esr, far, par, afsr0, afsr1,
        tpidr_el1, tpidr_el0, tpidrro_el0, contextidr, cpacr, cntkctl;
    void save();
    void load() const;
};

}  // namespace rvm::bm

extern "C" unsigned vcpu_enter(rvm::bm::VcpuRegs* regs);
