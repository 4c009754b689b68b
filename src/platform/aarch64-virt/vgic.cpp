#include "platform/aarch64-virt/vgic.hpp"

#include "platform/aarch64-virt/hw.hpp"

namespace rvm::bm {

namespace {

// ICH_LR<n>_EL2 by number (the register name must be a literal).
std::uint64_t read_lr(std::size_t n) {
    switch (n) {
        case 0: return RVM_MRS(S3_4_C12_C12_0);
        case 1: return RVM_MRS(S3_4_C12_C12_1);
        case 2: return RVM_MRS(S3_4_C12_C12_2);
        default: return RVM_MRS(S3_4_C12_C12_3);
    }
}

void write_lr(std::size_t n, std::uint64_t v) {
    switch (n) {
        case 0: RVM_MSR(S3_4_C12_C12_0, v); break;
        case 1: RVM_MSR(S3_4_C12_C12_1, v); break;
        case 2: RVM_MSR(S3_4_C12_C12_2, v); break;
        default: RVM_MSR(S3_4_C12_C12_3, v); break;
    }
}

constexpr std::uint64_t kLrStateMask = 3ull << 62;
constexpr std::uint64_t kLrPending = 1ull << 62;
constexpr std::uint64_t kLrHw = 1ull << 61;
constexpr std::uint64_t kLrGroup1 = 1ull << 60;
constexpr std::uint64_t kLrPriority = 0xa0ull << 48;

}  // namespace

void vgic_init() {
    RVM_MSR(S3_4_C12_C11_0, 1);  // ICH_HCR_EL2.En
    isb();
}

void VgicState::save() {
    vmcr = RVM_MRS(S3_4_C12_C11_7);  // ICH_VMCR_EL2
    for (std::size_t i = 0; i < kVgicLrs; ++i) lr[i] = read_lr(i);
    cntv_ctl = RVM_MRS(cntv_ctl_el0);
    cntv_cval = RVM_MRS(cntv_cval_el0);
    RVM_MSR(cntv_ctl_el0, 0);  // its deadline must not interrupt the next partition
    isb();
}

void VgicState::load() const {
    RVM_MSR(S3_4_C12_C11_7, vmcr);
    for (std::size_t i = 0; i < kVgicLrs; ++i) write_lr(i, lr[i]);
    RVM_MSR(cntv_cval_el0, cntv_cval);
    RVM_MSR(cntv_ctl_el0, cntv_ctl);
    isb();
}

void vgic_forget(std::uint32_t intid, VgicState* saved) {
    for (std::size_t i = 0; i < kVgicLrs; ++i) {
        const std::uint64_t lr = saved != nullptr ? saved->lr[i] : read_lr(i);
        if ((lr & kLrStateMask) == 0 || (lr & 0xffffffffu) != intid) continue;
        if (saved != nullptr)
            saved->lr[i] = 0;
        else
            write_lr(i, 0);
    }
    isb();
}

bool vgic_inject_hw(std::uint32_t intid) {
    for (std::size_t i = 0; i < kVgicLrs; ++i) {
        if ((read_lr(i) & kLrStateMask) != 0) continue;
        write_lr(i, kLrPending | kLrHw | kLrGroup1 | kLrPriority | (std::uint64_t{intid} << 32) | intid);
        isb();
        return true;
    }
    return false;
}

}  // namespace rvm::bm
