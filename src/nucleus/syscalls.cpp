#include "nucleus/syscalls.hpp"

#include "nucleus/call_table.hpp"

namespace rvm {

namespace {

template <typename T>
KResult<std::uint64_t> raw_of(const KResult<T>& r) {
    if (!r) return err(r.error());
    return r.value().raw();
}

}  // namespace

std::uint8_t required_proof_tier(std::uint64_t nr) { return call_entry(nr).tier; }

KResult<const Capability&> Syscalls::cap(PartitionId caller, std::uint64_t raw, std::uint8_t type, std::uint32_t rights,
                                         std::uint8_t arg) const {
    const auto c = k_.state().caps.lookup(caller.index, CapHandle::from_raw(raw), type, Rights{rights});
    if (!c) return err(c.error().at(arg));
    return c.value();
}

// The holder's root capability to an object the Kernel has just created for it.
KResult<std::uint64_t> Syscalls::cap_for(PartitionId holder, ObjectRef object) const {
    const CapHandle h = k_.state().caps.handle_of(holder.index, object, true);
    if (h.is_null()) return fail(RVM_E_BAD_HANDLE);  // CANNOT FAIL in practice: Kernel minted it
    return h.raw();
}

// The decoder of every nucleus call; a number without one is not the
// nucleus's (call_table.hpp says whose it is).
Syscalls::Decoder Syscalls::decoder(std::uint64_t nr) {
    switch (nr) {
        case RVM_HC_TASK_SPAWN: return &Syscalls::decode_task_spawn;
        case RVM_HC_CAP_GRANT: return &Syscalls::decode_cap_grant;
        case RVM_HC_CAP_REVOKE: return &Syscalls::decode_cap_revoke;
        case RVM_HC_REGION_MAP: return &Syscalls::decode_region_map;
        case RVM_HC_PARTITION_CREATE: return &Syscalls::decode_partition_create;
        case RVM_HC_COMMEDGE_CREATE: return &Syscalls::decode_commedge_create;
        case RVM_HC_COMMEDGE_DESTROY: return &Syscalls::decode_commedge_destroy;
        case RVM_HC_DEVICE_LEASE_ACQUIRE: return &Syscalls::decode_device_lease_acquire;
        case RVM_HC_DEVICE_LEASE_REVOKE: return &Syscalls::decode_device_lease_revoke;
        default: return nullptr;
    }
}

KResult<Invocation> Syscalls::decode(PartitionId caller, const SyscallFrame& f, const GuestMemory& mem) {
    const CallEntry call = call_entry(f.nr);
    if (call.home == CallHome::Unknown) return fail(RVM_E_UNKNOWN_CALL);
    const Decoder d = decoder(f.nr);
    // Host calls reach the nucleus only when no host serves them (tests, the demo).
    if (call.home != CallHome::Nucleus || d == nullptr) return fail(RVM_E_NOT_SUPPORTED);
    const Partition* self = k_.partition(caller);
    if (self == nullptr || self->state != PartitionState::Active) return fail(RVM_E_STATE);
    const auto& a = f.args;
    auto op = (this->*d)(caller, a);
    if (!op) return err(op.error());
    Invocation out;
    out.op = op.value();
    if (call.tier != RVM_PROOF_NONE) {
        if (a[5] == 0) return fail(RVM_E_PROOF_MISSING, 6);
        std::array<std::uint8_t, RVM_PROOF_TOKEN_SIZE> buf{};
        if (!mem.read(caller, a[5], buf)) return fail(RVM_E_FAULT, 6);
        out.proof = ProofToken::from_bytes(buf);
        const CallArgs bound{a[0], a[1], a[2], a[3], a[4]};
        const auto tier = k_.check_proof(caller, out.proof, static_cast<std::uint32_t>(f.nr), bound, call.tier);
        if (!tier) return err(tier.error().at(6));
        out.proof_tier = tier.value();
    }
    return out;
}

KResult<Invocation::Op> Syscalls::decode_task_spawn(PartitionId caller, const Args& a) const {
    const auto c = cap(caller, a[0], RVM_OBJ_PARTITION, RVM_RIGHT_WRITE | RVM_RIGHT_EXECUTE, 1);
    if (!c) return err(c.error());
    // Tasks and regions are created in the caller's own partition, so
    // the capability that comes back is one the caller can use.
    if (PartitionId::from_raw(c.value().object.id) != caller) return fail(RVM_E_INVALID, 1);
    return Invocation::Op{inv::TaskSpawn{caller}};
}

KResult<Invocation::Op> Syscalls::decode_cap_grant(PartitionId caller, const Args& a) const {
    // derive_fault() names what is wrong; the argument order decides
    // which fault is reported first (source, receiver, rights).
    const auto src = cap(caller, a[0], RVM_OBJ_TYPE_COUNT_, 0, 1);
    if (!src) return err(src.error());
    switch (derive_fault(src.value(), Rights{})) {
        case DeriveFault::SourceCannotGrant: return fail(RVM_E_RIGHTS, 1);
        case DeriveFault::TooDeep: return fail(RVM_E_DEPTH, 1);
        default: break;
    }
    const auto to = cap(caller, a[1], RVM_OBJ_PARTITION, RVM_RIGHT_WRITE, 2);
    if (!to) return err(to.error());
    if (a[2] > RVM_RIGHTS_ALL) return fail(RVM_E_INVALID, 3);
    const Rights want{static_cast<std::uint32_t>(a[2])};
    if (derive_fault(src.value(), want) != DeriveFault::None) return fail(RVM_E_RIGHTS, 3);
    return Invocation::Op{inv::CapGrant{CapHandle::from_raw(a[0]), PartitionId::from_raw(to.value().object.id), want}};
}

KResult<Invocation::Op> Syscalls::decode_cap_revoke(PartitionId caller, const Args& a) const {
    const auto c = cap(caller, a[0], RVM_OBJ_TYPE_COUNT_, RVM_RIGHT_REVOKE, 1);
    if (!c) return err(c.error());
    if ((a[1] & ~std::uint64_t{1}) != 0) return fail(RVM_E_INVALID, 2);
    return Invocation::Op{inv::CapRevoke{CapHandle::from_raw(a[0]), (a[1] & 1u) != 0}};
}

KResult<Invocation::Op> Syscalls::decode_region_map(PartitionId caller, const Args& a) const {
    const auto c = cap(caller, a[0], RVM_OBJ_PARTITION, RVM_RIGHT_WRITE, 1);
    if (!c) return err(c.error());
    if (PartitionId::from_raw(c.value().object.id) != caller) return fail(RVM_E_INVALID, 1);
    if (a[1] == 0 || a[1] % kPageSize != 0 || a[1] > (std::uint64_t{1} << BuddyAllocator::kMaxSpaceShift)) {
        return fail(RVM_E_INVALID, 2);
    }
    if (a[2] > RVM_REGION_SLAB) return fail(RVM_E_INVALID, 3);
    return Invocation::Op{inv::RegionMap{caller, a[1] / kPageSize, static_cast<std::uint8_t>(a[2])}};
}

KResult<Invocation::Op> Syscalls::decode_partition_create(PartitionId caller, const Args& a) const {
    const auto c = cap(caller, a[0], RVM_OBJ_PARTITION, RVM_RIGHT_WRITE | RVM_RIGHT_GRANT, 1);
    if (!c) return err(c.error());
    if (PartitionId::from_raw(c.value().object.id) != caller) return fail(RVM_E_INVALID, 1);
    if (a[1] < 21 || a[1] > BuddyAllocator::kMaxSpaceShift) return fail(RVM_E_INVALID, 2);
    if (a[2] > 0xffff || (a[2] & 0xff) == 0 || (a[2] >> 8) == 0) return fail(RVM_E_INVALID, 3);
    if (a[3] >= (std::uint64_t{1} << 40)) return fail(RVM_E_INVALID, 4);
    return Invocation::Op{
        inv::PartitionCreate{PartitionConfig{static_cast<std::uint8_t>(a[1]), static_cast<std::uint8_t>(a[2] & 0xff),
                                             static_cast<std::uint8_t>(a[2] >> 8), a[3]}}};
}

KResult<Invocation::Op> Syscalls::decode_commedge_create(PartitionId caller, const Args& a) const {
    const auto c = cap(caller, a[0], RVM_OBJ_PARTITION, RVM_RIGHT_WRITE, 1);
    if (!c) return err(c.error());
    const PartitionId peer = PartitionId::from_raw(c.value().object.id);
    if (peer == caller) return fail(RVM_E_INVALID, 1);
    const Partition* pp = k_.partition(peer);
    if (pp == nullptr || pp->state == PartitionState::Failed) return fail(RVM_E_BAD_HANDLE, 1);
    return Invocation::Op{inv::EdgeCreate{peer}};
}

KResult<Invocation::Op> Syscalls::decode_commedge_destroy(PartitionId caller, const Args& a) const {
    const auto c = cap(caller, a[0], RVM_OBJ_COMMEDGE, RVM_RIGHT_REVOKE, 1);
    if (!c) return err(c.error());
    return Invocation::Op{inv::EdgeDestroy{EdgeId::from_raw(c.value().object.id)}};
}

KResult<Invocation::Op> Syscalls::decode_device_lease_acquire(PartitionId caller, const Args& a) const {
    const auto c = cap(caller, a[0], RVM_OBJ_DEVICE, RVM_RIGHT_LEASE, 1);
    if (!c) return err(c.error());
    if (a[1] == 0 || a[1] > kMaxLeaseNs) return fail(RVM_E_INVALID, 2);
    return Invocation::Op{inv::LeaseAcquire{DeviceId::from_raw(c.value().object.id), a[1]}};
}

KResult<Invocation::Op> Syscalls::decode_device_lease_revoke(PartitionId caller, const Args& a) const {
    const auto c = cap(caller, a[0], RVM_OBJ_DEVICE_LEASE, RVM_RIGHT_REVOKE, 1);
    if (!c) return err(c.error());
    return Invocation::Op{inv::LeaseRevoke{LeaseId::from_raw(c.value().object.id)}};
}

KResult<std::uint64_t> Syscalls::perform(PartitionId caller, const Invocation& inv) {
    struct Visitor {
        Syscalls& s;
        PartitionId caller;
        KResult<std::uint64_t> operator()(const inv::TaskSpawn& op) const {
            const auto t = s.k_.spawn_task(op.partition);
            if (!t) return err(t.error());
            return s.cap_for(op.partition, ObjectRef{RVM_OBJ_TASK, t.value().raw()});
        }
        KResult<std::uint64_t> operator()(const inv::CapGrant& op) const {
            return raw_of(s.k_.derive(caller, op.cap, op.to, op.rights));
        }
        KResult<std::uint64_t> operator()(const inv::CapRevoke& op) const {
            const auto n = s.k_.revoke(caller, op.cap, op.include_self);
            if (!n) return err(n.error());
            return std::uint64_t{n.value()};
        }
        KResult<std::uint64_t> operator()(const inv::RegionMap& op) const {
            const auto r = s.k_.create_region(op.owner, op.pages, op.policy, RVM_TIER_HOT);
            if (!r) return err(r.error());
            return s.cap_for(op.owner, ObjectRef{RVM_OBJ_REGION, r.value().raw()});
        }
        KResult<std::uint64_t> operator()(const inv::PartitionCreate& op) const {
            const auto p = s.k_.create_partition(caller, op.config);
            if (!p) return err(p.error());
            return s.cap_for(caller, ObjectRef{RVM_OBJ_PARTITION, p.value().raw()});
        }
        KResult<std::uint64_t> operator()(const inv::EdgeCreate& op) const {
            const auto e = s.k_.create_edge(caller, op.peer);
            if (!e) return err(e.error());
            return s.cap_for(caller, ObjectRef{RVM_OBJ_COMMEDGE, e.value().raw()});
        }
        KResult<std::uint64_t> operator()(const inv::EdgeDestroy& op) const {
            const auto r = s.k_.destroy_edge(op.edge);
            if (!r) return err(r.error());
            return std::uint64_t{0};
        }
        KResult<std::uint64_t> operator()(const inv::LeaseAcquire& op) const {
            const auto l = s.k_.acquire_lease(caller, op.device, op.duration_ns);
            if (!l) return err(l.error());
            return s.cap_for(caller, ObjectRef{RVM_OBJ_DEVICE_LEASE, l.value().raw()});
        }
        KResult<std::uint64_t> operator()(const inv::LeaseRevoke& op) const {
            const auto r = s.k_.revoke_lease(op.lease);
            if (!r) return err(r.error());
            return std::uint64_t{0};
        }
    };
    auto r = std::visit(Visitor{*this, caller}, inv.op);
    if (r && inv.proof_tier != RVM_PROOF_NONE) k_.consume_proof(caller, inv.proof, inv.proof_tier);
    return r;
}

rvm_ret_t Syscalls::dispatch(PartitionId caller, const SyscallFrame& frame, const GuestMemory& mem) {
    const auto d = decode(caller, frame, mem);
    if (!d) return d.error().to_ret();
    const auto r = perform(caller, d.value());
    if (!r) return r.error().to_ret();
    return static_cast<rvm_ret_t>(r.value());
}

}  // namespace rvm
