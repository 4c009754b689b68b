// Syscalls: the hypercall boundary (STYLE.md 11). decode() turns guest
// registers into a typed Invocation, checking every capability and the proof
// token in one place and changing no nucleus state; perform() mutates through
// Kernel; the witness record follows. The table's default entry returns
// RVM_E_UNKNOWN_CALL; calls whose data path is not built yet (and calls the
// host serves) return RVM_E_NOT_SUPPORTED before looking at their arguments.
// Which call is whose: call_table.hpp.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <variant>

#include "abi/hypercall.h"
#include "nucleus/kernel.hpp"

namespace rvm {

struct SyscallFrame {
    std::uint64_t nr = 0;
    std::array<std::uint64_t, 6> args{};  // rdi, rsi, rdx, r10, r8, r9
};

// Reads guest memory of one partition, bounds-checked by the backend. Returns
// false if any byte of [gpa, gpa + out.size()) is not readable guest memory.
class GuestMemory {
public:
    virtual ~GuestMemory() = default;
    [[nodiscard]] virtual bool read(PartitionId p, std::uint64_t gpa, std::span<std::uint8_t> out) const = 0;
};

namespace inv {
struct TaskSpawn {
    PartitionId partition;
};
struct CapGrant {
    CapHandle cap;
    PartitionId to;
    Rights rights;
};
struct CapRevoke {
    CapHandle cap;
    bool include_self;
};
struct RegionMap {
    PartitionId owner;
    std::uint64_t pages;
    std::uint8_t policy;
};
struct PartitionCreate {
    PartitionConfig config;
};
struct EdgeCreate {
    PartitionId peer;
};
struct EdgeDestroy {
    EdgeId edge;
};
struct LeaseAcquire {
    DeviceId device;
    std::uint64_t duration_ns;
};
struct LeaseRevoke {
    LeaseId lease;
};
}  // namespace inv

struct Invocation {
    using Op = std::variant<inv::TaskSpawn, inv::CapGrant, inv::CapRevoke, inv::RegionMap, inv::PartitionCreate,
                            inv::EdgeCreate, inv::EdgeDestroy, inv::LeaseAcquire, inv::LeaseRevoke>;
    Op op;
    ProofToken proof{};
    std::uint8_t proof_tier = RVM_PROOF_NONE;  // tier applied; NONE = no proof required
};

class Syscalls {
public:
    explicit Syscalls(Kernel& kernel) : k_(kernel) {}

    // The whole hypercall: decode, perform, map to the ABI return value.
    rvm_ret_t dispatch(PartitionId caller, const SyscallFrame& frame, const GuestMemory& mem);

    // Checks everything; a rejected proof is witnessed but no state changes.
    KResult<Invocation> decode(PartitionId caller, const SyscallFrame& frame, const GuestMemory& mem);
    // Applies a decoded invocation; returns the value for rax (>= 0).
    KResult<std::uint64_t> perform(PartitionId caller, const Invocation& inv);

private:
    using Args = std::array<std::uint64_t, 6>;
    // One decoder per nucleus call (call_table.hpp): pure, reads only the
    // nucleus state; the proof token is checked after it, for every call alike.
    using Decoder = KResult<Invocation::Op> (Syscalls::*)(PartitionId caller, const Args& a) const;
    static Decoder decoder(std::uint64_t nr);
    KResult<Invocation::Op> decode_task_spawn(PartitionId caller, const Args& a) const;
    KResult<Invocation::Op> decode_cap_grant(PartitionId caller, const Args& a) const;
    KResult<Invocation::Op> decode_cap_revoke(PartitionId caller, const Args& a) const;
    KResult<Invocation::Op> decode_region_map(PartitionId caller, const Args& a) const;
    KResult<Invocation::Op> decode_partition_create(PartitionId caller, const Args& a) const;
    KResult<Invocation::Op> decode_commedge_create(PartitionId caller, const Args& a) const;
    KResult<Invocation::Op> decode_commedge_destroy(PartitionId caller, const Args& a) const;
    KResult<Invocation::Op> decode_device_lease_acquire(PartitionId caller, const Args& a) const;
    KResult<Invocation::Op> decode_device_lease_revoke(PartitionId caller, const Args& a) const;

    KResult<const Capability&> cap(PartitionId caller, std::uint64_t raw, std::uint8_t type, std::uint32_t rights,
                                   std::uint8_t arg) const;
    KResult<std::uint64_t> cap_for(PartitionId holder, ObjectRef object) const;

    Kernel& k_;
};

// Proof tier a call requires (RVM_PROOF_NONE = none), per seed 002 Appendix A.
[[nodiscard]] std::uint8_t required_proof_tier(std::uint64_t nr);

}  // namespace rvm
