// KvmSystem: the /dev/kvm handle and what this host's KVM supports.
#pragma once

#include <cstddef>

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

private:
    KvmSystem(UniqueFd fd, std::size_t mmap_size, bool sync, bool stats)
        : fd_(std::move(fd)), vcpu_mmap_size_(mmap_size), sync_regs_(sync), stats_fd_(stats) {}

    UniqueFd fd_;
    std::size_t vcpu_mmap_size_;
    bool sync_regs_;
    bool stats_fd_;
};

}  // namespace rvm::kvm
