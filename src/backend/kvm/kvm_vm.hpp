// KvmVm: one KVM VM (a cell: one or more partitions' address spaces) and its
// memslots.
#pragma once

#include <cstdint>

#include "backend/kvm/guest_ram.hpp"
#include "backend/kvm/kvm_system.hpp"

namespace rvm::kvm {

class KvmVcpu;

// Satisfies backend::Vm (checked in kvm_vcpu.hpp, where KvmVcpu is complete).
class KvmVm {
public:
    using Memory = GuestRam;
    using VcpuType = KvmVcpu;

    [[nodiscard]] static Result<KvmVm, KvmError> create(const KvmSystem& sys);

    // Maps `ram` at guest-physical `gpa` in memslot `slot`. The RAM must
    // outlive the VM (the partition owns both; the VM is destroyed first).
    [[nodiscard]] Result<void, KvmError> add_memslot(std::uint32_t slot, std::uint64_t gpa, const GuestRam& ram);
    // Maps `size` bytes of `ram` from `offset` at `gpa`. `readonly`: guest
    // writes do not reach the memory (KVM_MEM_READONLY: they exit as MMIO,
    // which the task loop turns into a fault of the writer only).
    [[nodiscard]] Result<void, KvmError> add_memslot(std::uint32_t slot, std::uint64_t gpa, const GuestRam& ram,
                                                     std::uint64_t offset, std::uint64_t size, bool readonly);
    // Deletes memslot `slot` (KVM_SET_USER_MEMORY_REGION of size 0). Its
    // memory stays the caller's; vCPUs that touch the range afterwards exit
    // as MMIO. Fails (EINVAL) if the slot does not exist.
    [[nodiscard]] Result<void, KvmError> remove_memslot(std::uint32_t slot);

    // Makes RDMSR/WRMSR of MSRs [first, first + count) exit to user space
    // (MsrRead / MsrWrite) instead of being handled -- or refused -- by KVM:
    // user-space MSR exits for filtered MSRs plus an MSR filter that denies
    // exactly that range (every other MSR stays KVM's). Once per VM, before
    // any vCPU runs. count <= 64.
    [[nodiscard]] Result<void, KvmError> route_msrs(std::uint32_t first, std::uint32_t count);

    // The id for the next vCPU created in this VM: 0, 1, 2, ... KVM never
    // frees an id inside a VM (closing a vCPU fd does not destroy the vCPU),
    // so ids are never reused. Not thread-safe: callers serialize.
    [[nodiscard]] std::uint32_t next_vcpu_id() { return next_vcpu_id_++; }
    // How many vCPUs KVM lets this VM have (KVM_CAP_MAX_VCPUS, falling back
    // to KVM_CAP_NR_VCPUS, then to 4, as the KVM API documentation says).
    [[nodiscard]] std::uint32_t max_vcpus() const;
    // KvmVcpu::create(*this, id): KVM refuses an id already used (EEXIST).
    [[nodiscard]] Result<KvmVcpu, KvmError> create_vcpu(std::uint32_t id);

    [[nodiscard]] int fd() const { return fd_.get(); }
    [[nodiscard]] const KvmSystem& system() const { return *sys_; }

private:
    KvmVm(const KvmSystem& sys, UniqueFd fd) : sys_(&sys), fd_(std::move(fd)) {}
    const KvmSystem* sys_;
    UniqueFd fd_;
    std::uint32_t next_vcpu_id_ = 0;
};

}  // namespace rvm::kvm
