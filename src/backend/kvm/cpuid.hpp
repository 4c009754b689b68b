// The CPUID a vCPU sees: what this host's KVM supports, with the hypervisor
// range reshaped for the seed-001 ABI (abi/psi.h): RVM's leaves at
// 0x40000000, KVM's own leaves moved up by 0x100 (a kernel that scans the
// hypervisor range in steps of 0x100 for "KVMKVMKVM" still finds them), and
// CPUID.1:ECX[31] (hypervisor present) set. Built once per KvmSystem.
//
// Where it applies: on VT-x/AMD-V CPUID always exits to KVM, so every guest
// (agents too) sees this table. On PVM, CPUID at CPL3 is not trapped and
// returns the host's values; only kernel-profile (CPL0) guests and the PVM
// synthetic form see it (DESIGN.md 1).
#pragma once

#include <cstdint>
#include <memory>

#include "backend/kvm/kvm_error.hpp"
#include "nucleus/result.hpp"

namespace rvm::kvm {

class CpuidTable;  // the kvm_cpuid2 blob (cpuid.cpp)

// KVM_GET_SUPPORTED_CPUID of `kvm_fd`, reshaped as above.
[[nodiscard]] Result<std::shared_ptr<const CpuidTable>, KvmError> build_cpuid(int kvm_fd);
// KVM_SET_CPUID2 on a vCPU (before its first KVM_RUN).
[[nodiscard]] Result<void, KvmError> install_cpuid(const CpuidTable& t, int vcpu_fd);

}  // namespace rvm::kvm
