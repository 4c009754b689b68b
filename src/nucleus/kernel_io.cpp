// Kernel: communication edges, devices, leases and proof tokens.
#include "nucleus/kernel.hpp"

namespace rvm {

namespace {
constexpr std::uint32_t kSendRights = RVM_RIGHT_WRITE | RVM_RIGHT_GRANT | RVM_RIGHT_REVOKE;
constexpr std::uint32_t kRecvRights = RVM_RIGHT_READ | RVM_RIGHT_GRANT | RVM_RIGHT_REVOKE;
constexpr std::uint32_t kLeaseRights = RVM_RIGHT_READ | RVM_RIGHT_WRITE | RVM_RIGHT_REVOKE;
}  // namespace

KResult<EdgeId> Kernel::create_edge(PartitionId source, PartitionId dest) {
    if (live_partition(source) == nullptr || live_partition(dest) == nullptr) return fail(RVM_E_BAD_HANDLE);
    if (source == dest) return fail(RVM_E_INVALID);
    if (!st_.caps.has_free_slot(source.index) || !st_.caps.has_free_slot(dest.index)) return fail(RVM_E_EXHAUSTED);
    const auto e = st_.edges.allocate();
    if (!e) return fail(RVM_E_EXHAUSTED);
    // CANNOT FAIL: both tables have a free slot (checked above).
    (void)st_.caps.mint(source.index, ObjectRef{RVM_OBJ_COMMEDGE, e->raw()}, Rights{kSendRights});
    (void)st_.caps.mint(dest.index, ObjectRef{RVM_OBJ_COMMEDGE, e->raw()}, Rights{kRecvRights});
    CommEdge& edge = st_.edges.at(*e);
    edge.source = source;
    edge.dest = dest;
    witness(RVM_WK_COMMEDGE_CREATE, source.raw(), e->raw(), dest.raw());
    return *e;
}

KResult<void> Kernel::destroy_edge(EdgeId e) {
    if (!st_.edges.contains(e)) return fail(RVM_E_BAD_HANDLE);
    const PartitionId source = st_.edges.at(e).source;
    st_.caps.revoke_object(ObjectRef{RVM_OBJ_COMMEDGE, e.raw()});
    (void)st_.edges.release(e);
    witness(RVM_WK_COMMEDGE_DESTROY, source.raw(), e.raw(), 0);
    return {};
}

KResult<DeviceId> Kernel::register_device(std::uint64_t hw_id) {
    bool dup = false;
    st_.devices.for_each([&](DeviceId, const Device& d) { dup = dup || d.hw_id == hw_id; });
    if (dup) return fail(RVM_E_BUSY);
    const auto d = st_.devices.allocate();
    if (!d) return fail(RVM_E_EXHAUSTED);
    st_.devices.at(*d).hw_id = hw_id;
    witness(RVM_WK_DEVICE_REGISTER, 0, d->raw(), hw_id);
    return *d;
}

KResult<LeaseId> Kernel::acquire_lease(PartitionId holder, DeviceId device, std::uint64_t duration_ns) {
    if (duration_ns == 0 || duration_ns > kMaxLeaseNs) return fail(RVM_E_INVALID);
    const std::uint64_t now = now_ns();
    if (now > UINT64_MAX - duration_ns) return fail(RVM_E_INVALID);
    return acquire_lease_until(holder, device, now + duration_ns);
}

KResult<LeaseId> Kernel::acquire_lease_until(PartitionId holder, DeviceId device, std::uint64_t expires_ns) {
    if (live_partition(holder) == nullptr) return fail(RVM_E_BAD_HANDLE);
    Device* dev = st_.devices.get(device);
    if (dev == nullptr) return fail(RVM_E_BAD_HANDLE);
    if (!dev->lease.is_null()) return fail(RVM_E_BUSY);
    if (!st_.caps.has_free_slot(holder.index)) return fail(RVM_E_EXHAUSTED);
    const auto l = st_.leases.allocate();
    if (!l) return fail(RVM_E_EXHAUSTED);
    // CANNOT FAIL: the holder's table has a free slot (checked above).
    (void)st_.caps.mint(holder.index, ObjectRef{RVM_OBJ_DEVICE_LEASE, l->raw()}, Rights{kLeaseRights});
    st_.leases.at(*l) = DeviceLease{device, holder, expires_ns};
    dev->lease = *l;
    witness(RVM_WK_LEASE_ACQUIRE, holder.raw(), l->raw(), expires_ns, device.index << 8);
    return *l;
}

void Kernel::teardown_lease(LeaseId l) {
    const DeviceLease& lease = st_.leases.at(l);
    if (Device* dev = st_.devices.get(lease.device)) dev->lease = LeaseId{};
    st_.caps.revoke_object(ObjectRef{RVM_OBJ_DEVICE_LEASE, l.raw()});
    (void)st_.leases.release(l);
}

KResult<void> Kernel::revoke_lease(LeaseId l) {
    const DeviceLease* lease = st_.leases.get(l);
    if (lease == nullptr) return fail(RVM_E_BAD_HANDLE);
    const PartitionId holder = lease->holder;
    teardown_lease(l);
    witness(RVM_WK_LEASE_REVOKE, holder.raw(), l.raw(), 0);
    return {};
}

std::uint32_t Kernel::expire_leases() {
    const std::uint64_t now = now_ns();
    std::uint32_t n = 0;
    st_.leases.for_each([&](LeaseId l, DeviceLease& lease) {
        if (now < lease.expires_ns) return;
        const PartitionId holder = lease.holder;
        teardown_lease(l);
        witness(RVM_WK_LEASE_EXPIRE, holder.raw(), l.raw(), now);
        ++n;
    });
    return n;
}

bool Kernel::lease_valid(LeaseId l) const {
    const DeviceLease* lease = st_.leases.get(l);
    return lease != nullptr && now_ns() < lease->expires_ns;
}

KResult<ProofToken> Kernel::mint_proof(PartitionId p, CapHandle cap, std::uint8_t tier, std::uint32_t call,
                                       const CallArgs& args, std::uint64_t expiry_ns) {
    if (live_partition(p) == nullptr) return fail(RVM_E_BAD_HANDLE);
    if (tier < RVM_PROOF_REFLEX || tier > RVM_PROOF_DEEP) return fail(RVM_E_INVALID);
    const auto c = st_.caps.lookup(p.index, cap, RVM_OBJ_TYPE_COUNT_, Rights{RVM_RIGHT_PROVE});
    if (!c) return err(c.error());
    const ProofToken t = proofs_.mint(st_.proofs, p, cap, tier, call, args, expiry_ns);
    witness(RVM_WK_PROOF_ISSUED, p.raw(), t.raw.nonce, call, 0, tier);
    return t;
}

KResult<std::uint8_t> Kernel::check_proof(PartitionId p, const ProofToken& t, std::uint32_t call, const CallArgs& args,
                                          std::uint8_t required) {
    const Partition* part = st_.partitions.get(p);
    if (part == nullptr) return fail(RVM_E_BAD_HANDLE);
    auto r = proofs_.check(st_.proofs, ProofEngine::Context{p, *part, st_.caps, now_ns()}, t, call, args, required);
    if (!r) {
        witness(RVM_WK_PROOF_REJECTED, p.raw(), t.raw.nonce, call, r.error().code, t.raw.tier);
        return r;
    }
    return r.value();
}

void Kernel::consume_proof(PartitionId p, const ProofToken& t, std::uint8_t applied_tier) {
    ProofEngine::consume(st_.proofs, p.index, t.raw.nonce);
    if (applied_tier > t.raw.tier) {
        witness(RVM_WK_PROOF_ESCALATED, p.raw(), t.raw.nonce, t.raw.call,
                (std::uint32_t{t.raw.tier} << 8) | (std::uint32_t{applied_tier} << 16), applied_tier);
    }
    witness(RVM_WK_PROOF_VERIFIED, p.raw(), t.raw.nonce, t.raw.call, 0, applied_tier);
}

}  // namespace rvm
