#include "backend/kvm/kvm_vm.hpp"

#include <linux/kvm.h>
#include <sys/ioctl.h>

#include <cerrno>

namespace rvm::kvm {

Result<KvmVm, KvmError> KvmVm::create(const KvmSystem& sys) {
    // SAFETY: KVM_CREATE_VM takes the machine type (0 = default) by value.
    UniqueFd fd(ioctl(sys.fd(), KVM_CREATE_VM, 0));
    if (!fd.valid()) return err(KvmError{"KVM_CREATE_VM", errno});
    return KvmVm(sys, std::move(fd));
}

Result<void, KvmError> KvmVm::add_memslot(std::uint32_t slot, std::uint64_t gpa, const GuestRam& ram) {
    kvm_userspace_memory_region region{};
    region.slot = slot;
    region.guest_phys_addr = gpa;
    region.memory_size = ram.size();
    region.userspace_addr = ram.host_address();
    // SAFETY: `region` describes a live mapping owned by `ram`, which the
    // caller keeps alive for the VM's lifetime.
    if (ioctl(fd_.get(), KVM_SET_USER_MEMORY_REGION, &region) != 0) {
        return err(KvmError{"KVM_SET_USER_MEMORY_REGION", errno});
    }
    return {};
}

}  // namespace rvm::kvm
