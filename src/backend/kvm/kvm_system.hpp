// KvmSystem: the /dev/kvm handle and what this host's KVM supports.
#pragma once

#include <cstddef>
#include <memory>

#include "backend/kvm/cpuid.hpp"
#include "backend/kvm/kvm_error.hpp"
#include "backend/unique_fd.hpp"
#include "nucleus/result.hpp"

namespace rvm::kvm {

class KvmSystem {
public:
    // Opens /dev/kvm and checks the API version and required capabilities.
    [[nodiscard]] static Result<KvmSystem, KvmError> open(const char* path = "/dev/kvm");

    [[nodiscard]] int fd() const { return fd_.get(); }
    [[nodiscard]] std::size_t vcpu_mmap_size() const { return vcpu_mmap_size_; }
    [[nodiscard]] bool sync_regs() const { return sync_regs_; }
    [[nodiscard]] bool stats_fd() const { return stats_fd_; }
    // KVM_CAP_X86_USER_SPACE_MSR and KVM_CAP_X86_MSR_FILTER (KvmVm::route_msrs).
    [[nodiscard]] bool msr_exits() const { return msr_exits_; }
    // The CPUID every vCPU gets (cpuid.hpp).
    [[nodiscard]] const CpuidTable& cpuid() const { return *cpuid_; }

private:
    struct Caps {
        std::size_t vcpu_mmap_size = 0;
        bool sync_regs = false, stats_fd = false, msr_exits = false;
    };
    KvmSystem(UniqueFd fd, const Caps& c, std::shared_ptr<const CpuidTable> cpuid)
        : fd_(std::move(fd)),
          vcpu_mmap_size_(c.vcpu_mmap_size),
          sync_regs_(c.sync_regs),
          stats_fd_(c.stats_fd),
          msr_exits_(c.msr_exits),
          cpuid_(std::move(cpuid)) {}

    UniqueFd fd_;
    std::size_t vcpu_mmap_size_;
    bool sync_regs_;
    bool stats_fd_;
    bool msr_exits_;
    std::shared_ptr<const CpuidTable> cpuid_;
};

}  // namespace rvm::kvm
