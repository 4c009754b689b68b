// The Vm concept: what the host runtime needs from any backend's VM (STYLE.md
// 2) -- what Cell and AgentPartition do with kvm::KvmVm: map and unmap guest
// memory in memslots, route the Ψ MSRs to user space, and create vCPUs with
// ids that are never reused. kvm::KvmVm and fake::FakeVm satisfy it.
#pragma once

#include <concepts>
#include <cstdint>

#include "backend/backend_error.hpp"
#include "backend/vcpu.hpp"
#include "nucleus/result.hpp"

namespace rvm::backend {

template <typename M>
concept Vm = requires(M& m, const M& cm, const typename M::Memory& ram, std::uint32_t n, std::uint64_t a, bool ro) {
    // The guest memory a memslot maps (kvm::GuestRam; fake::FakeRam).
    typename M::Memory;
    // The vCPU type create_vcpu makes; itself a Vcpu.
    requires Vcpu<typename M::VcpuType>;
    // Maps `size` bytes of `ram` from `offset` at guest-physical `gpa` in
    // memslot `slot` (read-only: guest writes exit instead). Ranges of two
    // memslots never overlap.
    { m.add_memslot(n, a, ram, a, a, ro) } -> std::same_as<Result<void, BackendError>>;
    // Deletes memslot `slot`; an error if it does not exist.
    { m.remove_memslot(n) } -> std::same_as<Result<void, BackendError>>;
    // RDMSR/WRMSR of [first, first + count) exit to the host (MsrRead /
    // MsrWrite). Once per VM, before any vCPU exists.
    { m.route_msrs(n, n) } -> std::same_as<Result<void, BackendError>>;
    // The id for the next vCPU: 0, 1, 2, ... never reused.
    { m.next_vcpu_id() } -> std::same_as<std::uint32_t>;
    { cm.max_vcpus() } -> std::same_as<std::uint32_t>;
    // Creates vCPU `id` (an id already used, or >= max_vcpus(), is refused).
    { m.create_vcpu(n) } -> std::same_as<Result<typename M::VcpuType, BackendError>>;
};

}  // namespace rvm::backend
