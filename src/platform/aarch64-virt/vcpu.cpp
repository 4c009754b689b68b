#include "platform/aarch64-virt/vcpu.hpp"

#include "platform/aarch64-virt/hw.hpp"

namespace rvm::bm {

void El1State::save() {
    sctlr = RVM_MRS(sctlr_el1);
    vbar = RVM_MRS(vbar_el1);
    ttbr0 = RVM_MRS(ttbr0_el1);
    ttbr1 = RVM_MRS(ttbr1_el1);
    tcr = RVM_MRS(tcr_el1);
    mair = RVM_MRS(mair_el1);
    amair = RVM_MRS(amair_el1);
    sp_el0 = RVM_MRS(sp_el0);
    elr = RVM_MRS(elr_el1);
    spsr = RVM_MRS(spsr_el1);
    esr = RVM_MRS(esr_el1);
    far = RVM_MRS(far_el1);
    par = RVM_MRS(par_el1);
    afsr0 = RVM_MRS(afsr0_el1);
    afsr1 = RVM_MRS(afsr1_el1);
    tpidr_el1 = RVM_MRS(tpidr_el1);
    tpidr_el0 = RVM_MRS(tpidr_el0);
    tpidrro_el0 = RVM_MRS(tpidrro_el0);
    contextidr = RVM_MRS(contextidr_el1);
    cpacr = RVM_MRS(cpacr_el1);
    cntkctl = RVM_MRS(cntkctl_el1);
}

void El1State::load() const {
    RVM_MSR(sctlr_el1, sctlr);
    RVM_MSR(vbar_el1, vbar);
    RVM_MSR(ttbr0_el1, ttbr0);
    RVM_MSR(ttbr1_el1, ttbr1);
    RVM_MSR(tcr_el1, tcr);
    RVM_MSR(mair_el1, mair);
    RVM_MSR(amair_el1, amair);
    RVM_MSR(sp_el0, sp_el0);
    RVM_MSR(elr_el1, elr);
    RVM_MSR(spsr_el1, spsr);
    RVM_MSR(esr_el1, esr);
    RVM_MSR(far_el1, far);
    RVM_MSR(par_el1, par);
    RVM_MSR(afsr0_el1, afsr0);
    RVM_MSR(afsr1_el1, afsr1);
    RVM_MSR(tpidr_el1, tpidr_el1);
    RVM_MSR(tpidr_el0, tpidr_el0);
    RVM_MSR(tpidrro_el0, tpidrro_el0);
    RVM_MSR(contextidr_el1, contextidr);
    RVM_MSR(cpacr_el1, cpacr);
    RVM_MSR(cntkctl_el1, cntkctl);
    isb();
}

}  // namespace rvm::bm
