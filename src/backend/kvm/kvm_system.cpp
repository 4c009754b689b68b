#include "backend/kvm/kvm_system.hpp"

#include <fcntl.h>
#include <linux/kvm.h>
#include <sys/ioctl.h>

#include <cerrno>
#include <cstring>

namespace rvm::kvm {

Result<KvmSystem, KvmError> KvmSystem::open(const char* path) {
    UniqueFd fd(::open(path, O_RDWR | O_CLOEXEC));
    if (!fd.valid()) return err(KvmError{"open /dev/kvm", errno});
    // SAFETY: KVM_GET_API_VERSION takes no argument.
    if (ioctl(fd.get(), KVM_GET_API_VERSION, 0) != KVM_API_VERSION) return err(KvmError{"KVM API version is not 12"});
    const auto has = [&](long cap) {
        // SAFETY: KVM_CHECK_EXTENSION takes the capability number by value.
        return ioctl(fd.get(), KVM_CHECK_EXTENSION, cap) > 0;
    };
    if (!has(KVM_CAP_USER_MEMORY)) return err(KvmError{"KVM lacks KVM_CAP_USER_MEMORY"});
    if (!has(KVM_CAP_IMMEDIATE_EXIT)) return err(KvmError{"KVM lacks KVM_CAP_IMMEDIATE_EXIT"});
    // SAFETY: KVM_GET_VCPU_MMAP_SIZE takes no argument.
    const int size = ioctl(fd.get(), KVM_GET_VCPU_MMAP_SIZE, 0);
    if (size < static_cast<int>(sizeof(kvm_run))) return err(KvmError{"KVM_GET_VCPU_MMAP_SIZE", errno});
    // SAFETY: as above; the result is the mask of syncable register sets.
    const int sync_mask = ioctl(fd.get(), KVM_CHECK_EXTENSION, KVM_CAP_SYNC_REGS);
    const bool sync = sync_mask > 0 && (static_cast<unsigned>(sync_mask) & KVM_SYNC_X86_REGS) != 0;
    Caps caps;
    caps.vcpu_mmap_size = static_cast<std::size_t>(size);
    caps.sync_regs = sync;
    caps.stats_fd = has(KVM_CAP_BINARY_STATS_FD);
    caps.msr_exits = has(KVM_CAP_X86_USER_SPACE_MSR) && has(KVM_CAP_X86_MSR_FILTER);
    auto cpuid = build_cpuid(fd.get());
    if (!cpuid) return err(cpuid.error());
    return KvmSystem(std::move(fd), caps, std::move(cpuid.value()));
}

}  // namespace rvm::kvm
