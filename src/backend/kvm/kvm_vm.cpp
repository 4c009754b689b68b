#include "backend/kvm/kvm_vm.hpp"

#include <linux/kvm.h>
#include <sys/ioctl.h>

#include <array>
#include <cerrno>

namespace rvm::kvm {

Result<KvmVm, KvmError> KvmVm::create(const KvmSystem& sys) {
    // SAFETY: KVM_CREATE_VM takes the machine type (0 = default) by value.
    UniqueFd fd(ioctl(sys.fd(), KVM_CREATE_VM, 0));
    if (!fd.valid()) return err(KvmError{"KVM_CREATE_VM", errno});
    return KvmVm(sys, std::move(fd));
}

Result<void, KvmError> KvmVm::add_memslot(std::uint32_t slot, std::uint64_t gpa, const GuestRam& ram) {
    return add_memslot(slot, gpa, ram, 0, ram.size(), false);
}

Result<void, KvmError> KvmVm::add_memslot(std::uint32_t slot, std::uint64_t gpa, const GuestRam& ram,
                                          std::uint64_t offset, std::uint64_t size, bool readonly) {
    if (offset % 4096 != 0 || size % 4096 != 0 || size == 0 || offset > ram.size() || size > ram.size() - offset) {
        return err(KvmError{"memslot range outside its memory", EINVAL});
    }
    kvm_userspace_memory_region region{};
    region.slot = slot;
    region.flags = readonly ? KVM_MEM_READONLY : 0;
    region.guest_phys_addr = gpa;
    region.memory_size = size;
    region.userspace_addr = ram.host_address() + offset;
    // SAFETY: `region` describes a live mapping owned by `ram`, which the
    // caller keeps alive for the VM's lifetime.
    if (ioctl(fd_.get(), KVM_SET_USER_MEMORY_REGION, &region) != 0) {
        return err(KvmError{"KVM_SET_USER_MEMORY_REGION", errno});
    }
    return {};
}

Result<void, KvmError> KvmVm::remove_memslot(std::uint32_t slot) {
    // KVM deletes a slot given only its number and a size of 0; the address
    // fields must merely pass its alignment checks, so they stay 0.
    kvm_userspace_memory_region region{};
    region.slot = slot;
    // SAFETY: `region` names no memory; KVM only unmaps the slot.
    if (ioctl(fd_.get(), KVM_SET_USER_MEMORY_REGION, &region) != 0) {
        return err(KvmError{"KVM_SET_USER_MEMORY_REGION (delete)", errno});
    }
    return {};
}

std::uint32_t KvmVm::max_vcpus() const {
    for (const long cap : {KVM_CAP_MAX_VCPUS, KVM_CAP_NR_VCPUS}) {
        // SAFETY: KVM_CHECK_EXTENSION takes the capability number by value.
        const int n = ioctl(fd_.get(), KVM_CHECK_EXTENSION, cap);
        if (n > 0) return static_cast<std::uint32_t>(n);
    }
    return 4;
}

}  // namespace rvm::kvm

namespace rvm::kvm {

Result<void, KvmError> KvmVm::route_msrs(std::uint32_t first, std::uint32_t count) {
    if (!sys_->msr_exits()) return err(KvmError{"KVM lacks user-space MSR exits or the MSR filter", ENOTSUP});
    if (count == 0 || count > 64) return err(KvmError{"route_msrs: 1..64 MSRs", EINVAL});
    kvm_enable_cap cap{};
    cap.cap = KVM_CAP_X86_USER_SPACE_MSR;
    cap.args[0] = KVM_MSR_EXIT_REASON_FILTER;  // only the filtered MSRs come to us
    // SAFETY: KVM_ENABLE_CAP reads the kvm_enable_cap we filled.
    if (ioctl(fd_.get(), KVM_ENABLE_CAP, &cap) != 0) return err(KvmError{"KVM_ENABLE_CAP(USER_SPACE_MSR)", errno});
    // A clear bit denies, and a denied access exits with reason FILTER.
    std::array<std::uint8_t, 8> deny{};
    kvm_msr_filter f{};
    f.flags = KVM_MSR_FILTER_DEFAULT_ALLOW;
    f.ranges[0].flags = KVM_MSR_FILTER_READ | KVM_MSR_FILTER_WRITE;
    f.ranges[0].nmsrs = count;
    f.ranges[0].base = first;
    f.ranges[0].bitmap = deny.data();
    // SAFETY: KVM copies the filter and its bitmap during the call.
    if (ioctl(fd_.get(), KVM_X86_SET_MSR_FILTER, &f) != 0) return err(KvmError{"KVM_X86_SET_MSR_FILTER", errno});
    return {};
}

}  // namespace rvm::kvm
