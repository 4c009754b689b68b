#include "platform/aarch64-virt/gic.hpp"

#include "platform/aarch64-virt/hw.hpp"
#include "platform/aarch64-virt/memory_map.hpp"

namespace rvm::bm {

namespace {
constexpr std::uint64_t kGicdCtlr = 0x0000;
constexpr std::uint64_t kGicdIgroupr = 0x0080;
constexpr std::uint64_t kGicdIsenabler = 0x0100;
constexpr std::uint64_t kGicdIcenabler = 0x0180;
constexpr std::uint64_t kGicdIpriorityr = 0x0400;
constexpr std::uint64_t kGicdIrouter = 0x6000;
constexpr std::uint32_t kCtlrEnableGrp1 = 1u << 1, kCtlrAre = 1u << 4;
constexpr std::uint64_t kGicrWaker = 0x0014;
constexpr std::uint32_t kWakerSleep = 1u << 1, kWakerAsleep = 1u << 2;
constexpr std::uint64_t kSgiBase = kGicrBase + 0x10000;
constexpr std::uint64_t kGicrIgroupr0 = 0x0080;
constexpr std::uint64_t kGicrIsenabler0 = 0x0100;
constexpr std::uint64_t kGicrIpriorityr = 0x0400;
}  // namespace

void gic_init() {
    // QEMU virt without EL3 has a single security state: group 1 is ours.
    mmio_write32(kGicdBase + kGicdCtlr, kCtlrAre | kCtlrEnableGrp1);
    mmio_write32(kGicrBase + kGicrWaker, mmio_read32(kGicrBase + kGicrWaker) & ~kWakerSleep);
    while ((mmio_read32(kGicrBase + kGicrWaker) & kWakerAsleep) != 0) {
    }
    mmio_write32(kSgiBase + kGicrIgroupr0, 0xffff'ffffu);
    RVM_MSR(S3_4_C12_C9_5, 0x9);  // ICC_SRE_EL2: SRE, and EL1 may use the system registers
    isb();
    RVM_MSR(S3_0_C4_C6_0, 0xff);  // ICC_PMR_EL1: accept every priority
    RVM_MSR(S3_0_C12_C12_3, 0);   // ICC_BPR1_EL1
    RVM_MSR(S3_0_C12_C12_4, 2);   // ICC_CTLR_EL1.EOImode = 1: EOIR drops priority, DIR deactivates
    RVM_MSR(S3_0_C12_C12_7, 1);   // ICC_IGRPEN1_EL1
    isb();
}

void gic_enable_ppi(std::uint32_t intid) {
    const std::uint64_t prio = kSgiBase + kGicrIpriorityr + intid;
    // SAFETY: the priority registers are byte-accessible (GICv3 spec 12.11.25).
    *phys<volatile std::uint8_t>(prio) = 0x80;
    mmio_write32(kSgiBase + kGicrIsenabler0, 1u << intid);
    dsb_sy();
}

void gic_spi_enable(std::uint32_t intid, bool enable) {
    const std::uint64_t word = 4 * std::uint64_t{intid / 32};
    const std::uint32_t bit = 1u << (intid % 32);
    if (!enable) {
        mmio_write32(kGicdBase + kGicdIcenabler + word, bit);
        dsb_sy();
        return;
    }
    mmio_write32(kGicdBase + kGicdIgroupr + word, mmio_read32(kGicdBase + kGicdIgroupr + word) | bit);
    *phys<volatile std::uint8_t>(kGicdBase + kGicdIpriorityr + intid) = 0x80;
    // SAFETY: GICD_IROUTER<n> is a 64-bit register (affinity 0.0.0.0 = core 0).
    *phys<volatile std::uint64_t>(kGicdBase + kGicdIrouter + 8 * std::uint64_t{intid}) = 0;
    mmio_write32(kGicdBase + kGicdIsenabler + word, bit);
    dsb_sy();
}

std::uint32_t gic_ack() {
    const std::uint64_t v = RVM_MRS(S3_0_C12_C12_0);  // ICC_IAR1_EL1
    return static_cast<std::uint32_t>(v & 0xffffff);
}

void gic_priority_drop(std::uint32_t intid) {
    RVM_MSR(S3_0_C12_C12_1, intid);  // ICC_EOIR1_EL1
    isb();
}

void gic_deactivate(std::uint32_t intid) {
    RVM_MSR(S3_0_C12_C11_1, intid);  // ICC_DIR_EL1
    isb();
}

}  // namespace rvm::bm
