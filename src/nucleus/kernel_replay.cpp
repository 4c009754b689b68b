// Kernel: replay of witness records and whole-state invariants.
#include "nucleus/kernel.hpp"

namespace rvm {

namespace {

std::uint8_t flag_byte(const WitnessRecord& r, unsigned which) {
    return static_cast<std::uint8_t>((r.flags() >> (8 * which)) & 0xff);
}

template <typename Id>
KResult<void> expect_id(const KResult<Id>& produced, std::uint64_t recorded) {
    if (!produced) return err(produced.error());
    if (produced.value().raw() != recorded) return fail(RVM_E_STATE);  // replay diverged
    return {};
}

}  // namespace

KResult<void> Kernel::apply_partition(const WitnessRecord& r) {
    const PartitionId subject = PartitionId::from_raw(r.subject());
    switch (r.kind()) {
        case RVM_WK_PARTITION_CREATE: return expect_id(create_partition(subject, unpack_config(r.aux())), r.object());
        case RVM_WK_PARTITION_SPLIT:
        case RVM_WK_PARTITION_MERGE:
        case RVM_WK_PARTITION_HIBERNATE:
        case RVM_WK_PARTITION_RECONSTRUCT:
        case RVM_WK_PARTITION_MIGRATE:
        case RVM_WK_PARTITION_STATE: {
            const std::uint8_t to = flag_byte(r, 2);
            const std::uint8_t reason = flag_byte(r, 3);
            if (to >= kPartitionStateCount || reason > static_cast<std::uint8_t>(FailReason::Other)) {
                return fail(RVM_E_INVALID);
            }
            return set_partition_state(subject, static_cast<PartitionState>(to), static_cast<FailReason>(reason),
                                       r.aux());
        }
        case RVM_WK_PARTITION_DESTROY: return destroy_partition(subject);
        case RVM_WK_STRUCTURAL_CHANGE: {
            if (r.aux() > kNewCell) return fail(RVM_E_INVALID);
            const auto c = set_cell(subject, static_cast<std::uint8_t>(r.aux()));
            if (!c) return err(c.error());
            return c.value() == r.object() ? KResult<void>{} : fail(RVM_E_STATE);  // replay diverged
        }
        case RVM_WK_TASK_SPAWN: return expect_id(spawn_task(subject), r.object());
        case RVM_WK_TASK_STATE: {
            const std::uint8_t to = flag_byte(r, 2);
            if (to >= kTaskStateCount) return fail(RVM_E_INVALID);
            return set_task_state(TaskId::from_raw(r.subject()), static_cast<TaskState>(to));
        }
        case RVM_WK_TASK_TERMINATE: return terminate_task(TaskId::from_raw(r.subject()), r.aux());
        case RVM_WK_CAP_GRANT:
            return expect_id(grant(subject, ObjectRef{flag_byte(r, 1), r.aux()}, Rights{r.flags() >> 16}), r.object());
        case RVM_WK_CAP_DELEGATE: {
            const PartitionId src = [&] {
                PartitionId found;
                st_.partitions.for_each([&](PartitionId id, const Partition&) {
                    if (id.index == flag_byte(r, 1)) found = id;
                });
                return found;
            }();
            return expect_id(derive(src, CapHandle::from_raw(r.aux()), subject, Rights{r.flags() >> 16}), r.object());
        }
        case RVM_WK_CAP_REVOKE: {
            const auto n = revoke(subject, CapHandle::from_raw(r.object()), (r.flags() & (1u << 8)) != 0);
            if (!n) return err(n.error());
            return n.value() == r.aux() ? KResult<void>{} : fail(RVM_E_STATE);
        }
        default: return apply_object(r);
    }
}

KResult<void> Kernel::apply_object(const WitnessRecord& r) {
    const PartitionId subject = PartitionId::from_raw(r.subject());
    switch (r.kind()) {
        case RVM_WK_REGION_CREATE:
            return expect_id(create_region(subject, r.aux() & ((std::uint64_t{1} << 40) - 1),
                                           static_cast<std::uint8_t>((r.aux() >> 40) & 0xff),
                                           static_cast<std::uint8_t>((r.aux() >> 48) & 0xff)),
                             r.object());
        case RVM_WK_REGION_SHARE: {
            const auto gpa = share_region(RegionId::from_raw(r.object()), subject);
            if (!gpa) return err(gpa.error());
            return gpa.value() == r.aux() ? KResult<void>{} : fail(RVM_E_STATE);
        }
        case RVM_WK_REGION_TRANSFER: return transfer_region(RegionId::from_raw(r.object()), subject);
        case RVM_WK_REGION_TIER_CHANGE: return set_region_tier(RegionId::from_raw(r.object()), flag_byte(r, 2));
        case RVM_WK_REGION_DESTROY: return destroy_region(RegionId::from_raw(r.object()));
        case RVM_WK_COMMEDGE_CREATE: return expect_id(create_edge(subject, PartitionId::from_raw(r.aux())), r.object());
        case RVM_WK_COMMEDGE_DESTROY: return destroy_edge(EdgeId::from_raw(r.object()));
        case RVM_WK_DEVICE_REGISTER: return expect_id(register_device(r.aux()), r.object());
        case RVM_WK_LEASE_ACQUIRE: {
            DeviceId dev;
            st_.devices.for_each([&](DeviceId id, const Device&) {
                if (id.index == flag_byte(r, 1)) dev = id;
            });
            return expect_id(acquire_lease_until(subject, dev, r.aux()), r.object());
        }
        case RVM_WK_LEASE_REVOKE:
        case RVM_WK_LEASE_EXPIRE: {
            const LeaseId l = LeaseId::from_raw(r.object());
            if (!st_.leases.contains(l)) return fail(RVM_E_BAD_HANDLE);
            teardown_lease(l);
            witness(r.kind(), r.subject(), r.object(), r.aux());
            return {};
        }
        case RVM_WK_PROOF_ISSUED: {
            if (live_partition(subject) == nullptr) return fail(RVM_E_BAD_HANDLE);
            NonceWindow& w = st_.proofs.windows[subject.index];
            if (w.next != r.object()) return fail(RVM_E_STATE);
            ++w.next;
            return {};
        }
        case RVM_WK_PROOF_VERIFIED: {
            if (st_.partitions.get(subject) == nullptr) return fail(RVM_E_BAD_HANDLE);
            ProofEngine::consume(st_.proofs, subject.index, r.object());
            return {};
        }
        case RVM_WK_PROOF_REJECTED:
        case RVM_WK_PROOF_ESCALATED:
        case RVM_WK_CHECKPOINT_CREATED:
        case RVM_WK_MODE_SWITCH:
        case RVM_WK_SCHED_EPOCH:
        case RVM_WK_BOOT_ATTESTATION: return {};    // evidence only: no state changed
        default: return fail(RVM_E_NOT_SUPPORTED);  // a kind this nucleus never writes
    }
}

KResult<void> Kernel::apply(const WitnessRecord& r) {
    if (!witness_kind_known(r.kind())) return fail(RVM_E_INVALID);
    return apply_partition(r);
}

bool Kernel::object_live(ObjectRef o) const {
    switch (o.type) {
        case RVM_OBJ_PARTITION: return st_.partitions.contains(PartitionId::from_raw(o.id));
        case RVM_OBJ_TASK: return st_.tasks.contains(TaskId::from_raw(o.id));
        case RVM_OBJ_REGION: return st_.regions.contains(RegionId::from_raw(o.id));
        case RVM_OBJ_COMMEDGE: return st_.edges.contains(EdgeId::from_raw(o.id));
        case RVM_OBJ_DEVICE: return st_.devices.contains(DeviceId::from_raw(o.id));
        case RVM_OBJ_DEVICE_LEASE: return st_.leases.contains(LeaseId::from_raw(o.id));
        default: return false;
    }
}

bool Kernel::invariants_hold() const {
    if (!st_.caps.invariants_hold()) return false;
    bool ok = true;
    for (std::uint32_t t = 0; t < kMaxPartitions; ++t) {
        for (const CapSpace::Slot& s : st_.caps.table(t)) {
            if (s.live && !object_live(s.cap.object)) ok = false;
        }
    }
    // A table whose partition is gone must be empty.
    std::array<bool, kMaxPartitions> live_table{};
    st_.partitions.for_each([&](PartitionId id, const Partition&) { live_table[id.index] = true; });
    for (std::uint32_t t = 0; t < kMaxPartitions; ++t) {
        if (!live_table[t] && st_.caps.count(t) != 0) ok = false;
    }
    std::array<std::uint32_t, kMaxPartitions> tasks{}, regions{};
    std::array<std::uint64_t, kMaxPartitions> pages{};
    st_.tasks.for_each([&](TaskId, const Task& task) {
        if (!st_.partitions.contains(task.partition)) ok = false;
        ++tasks[task.partition.index];
    });
    st_.regions.for_each([&](RegionId, const Region& r) {
        if (!st_.partitions.contains(r.owner)) ok = false;
        ++regions[r.owner.index];
        pages[r.owner.index] += r.pages;
        for (const RegionShare& s : r.shares) {
            if (!s.partition.is_null() && (!st_.partitions.contains(s.partition) || s.partition == r.owner)) ok = false;
        }
    });
    st_.edges.for_each([&](EdgeId, const CommEdge& e) {
        if (!st_.partitions.contains(e.source) || !st_.partitions.contains(e.dest)) ok = false;
    });
    st_.leases.for_each([&](LeaseId l, const DeviceLease& lease) {
        const Device* d = st_.devices.get(lease.device);
        if (!st_.partitions.contains(lease.holder) || d == nullptr || !(d->lease == l)) ok = false;
    });
    st_.partitions.for_each([&](PartitionId id, const Partition& p) {
        if (p.tasks != tasks[id.index] || p.regions != regions[id.index] || p.mem_pages != pages[id.index]) ok = false;
        if (p.config.mem_quota_pages != 0 && p.mem_pages > p.config.mem_quota_pages) ok = false;
        if (p.cell >= kMaxPartitions) ok = false;
    });
    return ok;
}

}  // namespace rvm
