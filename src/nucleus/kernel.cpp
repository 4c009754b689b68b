// Kernel: partitions, tasks and capabilities.
#include "nucleus/kernel.hpp"

namespace rvm {

namespace {

constexpr std::uint32_t state_flags(std::uint8_t from, std::uint8_t to, std::uint8_t reason = 0) {
    return (std::uint32_t{from} << 8) | (std::uint32_t{to} << 16) | (std::uint32_t{reason} << 24);
}

std::uint8_t partition_state_kind(PartitionState from, PartitionState to) {
    switch (to) {
        case PartitionState::Dormant: return RVM_WK_PARTITION_HIBERNATE;
        case PartitionState::Splitting: return RVM_WK_PARTITION_SPLIT;
        case PartitionState::Merging: return RVM_WK_PARTITION_MERGE;
        case PartitionState::Migrating: return RVM_WK_PARTITION_MIGRATE;
        default: break;
    }
    return from == PartitionState::Dormant && to == PartitionState::Warm ? RVM_WK_PARTITION_RECONSTRUCT
                                                                         : RVM_WK_PARTITION_STATE;
}

}  // namespace

Kernel::Kernel(const KernelEnv& env) : env_(env), proofs_(env.hash, env.proof_key, env.proof_policy) {}

void Kernel::witness(std::uint8_t kind, std::uint64_t subject, std::uint64_t object, std::uint64_t aux,
                     std::uint32_t flags, std::uint8_t tier) {
    if (env_.log != nullptr) env_.log->append(WitnessEvent{kind, tier, subject, object, aux, flags});
}

Partition* Kernel::live_partition(PartitionId p) {
    Partition* part = st_.partitions.get(p);
    if (part == nullptr || part->state == PartitionState::Failed || part->state == PartitionState::Destroyed) {
        return nullptr;
    }
    return part;
}

KResult<PartitionId> Kernel::create_partition(PartitionId parent, const PartitionConfig& config) {
    if (!parent.is_null() && live_partition(parent) == nullptr) return fail(RVM_E_BAD_HANDLE);
    if (config.gpa_shift < 21 || config.gpa_shift > BuddyAllocator::kMaxSpaceShift || config.max_tasks == 0 ||
        config.max_regions == 0 || config.mem_quota_pages >= (std::uint64_t{1} << 40)) {
        return fail(RVM_E_INVALID);
    }
    // Every partition's guest-physical space starts at 0: it is its own VM.
    auto gpa = BuddyAllocator::create(0, config.gpa_shift);
    if (!gpa) return fail(RVM_E_INVALID);
    // Everything that can fail is checked before a pool slot is taken: even a
    // released slot would advance its generation, and replay would diverge.
    if (!parent.is_null() && !st_.caps.has_free_slot(parent.index)) return fail(RVM_E_EXHAUSTED);
    const auto id = st_.partitions.allocate();
    if (!id) return fail(RVM_E_EXHAUSTED);
    const PartitionId p = *id;
    // CANNOT FAIL: the parent's table has a free slot (checked above) and a
    // fresh partition's table is empty.
    if (!parent.is_null()) (void)st_.caps.mint(parent.index, ObjectRef{RVM_OBJ_PARTITION, p.raw()}, Rights::all());
    (void)st_.caps.mint(p.index, ObjectRef{RVM_OBJ_PARTITION, p.raw()}, Rights::all());
    Partition& part = st_.partitions.at(p);
    part.parent = parent;
    part.config = config;
    part.gpa = gpa.value();
    part.cell = free_cell(p);
    st_.proofs.windows[p.index] = NonceWindow{};
    witness(RVM_WK_PARTITION_CREATE, parent.raw(), p.raw(), pack_config(config));
    return p;
}

KResult<void> Kernel::set_partition_state(PartitionId p, PartitionState to, FailReason reason, std::uint64_t detail) {
    Partition* part = st_.partitions.get(p);
    if (part == nullptr) return fail(RVM_E_BAD_HANDLE);
    if (to == PartitionState::Destroyed) return fail(RVM_E_INVALID);  // destroy_partition() tears down
    if (!partition_transition_allowed(part->state, to)) return fail(RVM_E_STATE);
    const PartitionState from = part->state;
    part->state = to;
    if (to == PartitionState::Failed) {
        part->fail_reason = reason;
        part->fail_detail = detail;
    }
    witness(
        partition_state_kind(from, to), p.raw(), 0, detail,
        state_flags(static_cast<std::uint8_t>(from), static_cast<std::uint8_t>(to), static_cast<std::uint8_t>(reason)));
    return {};
}

bool Kernel::cell_used(std::uint8_t cell, PartitionId except) const {
    bool used = false;
    st_.partitions.for_each([&](PartitionId id, const Partition& q) {
        if (!(id == except) && q.cell == cell) used = true;
    });
    return used;
}

std::uint8_t Kernel::free_cell(PartitionId except) const {
    // At most kMaxPartitions - 1 others: one of the first kMaxPartitions numbers is free.
    std::uint8_t c = 0;
    while (cell_used(c, except)) ++c;
    return c;
}

KResult<std::uint8_t> Kernel::set_cell(PartitionId p, std::uint8_t cell) {
    Partition* part = st_.partitions.get(p);
    if (part == nullptr) return fail(RVM_E_BAD_HANDLE);
    if (part->state != PartitionState::Splitting && part->state != PartitionState::Merging &&
        part->state != PartitionState::Migrating) {
        return fail(RVM_E_STATE);
    }
    std::uint8_t to = cell;
    if (cell == kNewCell) {
        to = free_cell(p);
    } else if (cell == part->cell || !cell_used(cell, p)) {
        return fail(RVM_E_INVALID);
    }
    const std::uint8_t from = part->cell;
    part->cell = to;
    witness(RVM_WK_STRUCTURAL_CHANGE, p.raw(), to, cell, state_flags(from, static_cast<std::uint8_t>(part->state)));
    return to;
}

void Kernel::note_mode_switch(std::uint8_t from, std::uint8_t to, std::uint8_t reason, std::uint64_t partition,
                              std::uint64_t epoch) {
    witness(RVM_WK_MODE_SWITCH, partition, 0, epoch, state_flags(from, to, reason));
}

void Kernel::note_sched_epoch(std::uint64_t epoch, std::uint64_t switches, std::uint64_t misses, std::uint8_t mode) {
    witness(RVM_WK_SCHED_EPOCH, epoch, switches, misses, state_flags(0, mode));
}

KResult<void> Kernel::destroy_partition(PartitionId p) {
    Partition* part = st_.partitions.get(p);
    if (part == nullptr) return fail(RVM_E_BAD_HANDLE);
    if (!partition_transition_allowed(part->state, PartitionState::Destroyed)) return fail(RVM_E_STATE);
    const ObjectRef self{RVM_OBJ_PARTITION, p.raw()};

    st_.tasks.for_each([&](TaskId t, Task& task) {
        if (task.partition == p) {
            st_.caps.revoke_object(ObjectRef{RVM_OBJ_TASK, t.raw()});
            (void)st_.tasks.release(t);
        }
    });
    st_.regions.for_each([&](RegionId r, Region& region) {
        if (region.owner == p) {
            teardown_region(r, region);
            return;
        }
        for (RegionShare& s : region.shares) {
            if (s.partition == p) s = RegionShare{};  // its space is going away with it
        }
    });
    st_.edges.for_each([&](EdgeId e, CommEdge& edge) {
        if (edge.source == p || edge.dest == p) {
            st_.caps.revoke_object(ObjectRef{RVM_OBJ_COMMEDGE, e.raw()});
            (void)st_.edges.release(e);
        }
    });
    st_.leases.for_each([&](LeaseId l, DeviceLease& lease) {
        if (lease.holder == p) teardown_lease(l);
    });
    st_.partitions.for_each([&](PartitionId, Partition& other) {
        if (other.parent == p) other.parent = PartitionId{};  // orphans survive their creator
    });
    st_.caps.clear_table(p.index);
    st_.caps.revoke_object(self);
    st_.proofs.windows[p.index] = NonceWindow{};
    (void)st_.partitions.release(p);
    witness(RVM_WK_PARTITION_DESTROY, p.raw(), 0, 0);
    return {};
}

KResult<TaskId> Kernel::spawn_task(PartitionId p) {
    Partition* part = live_partition(p);
    if (part == nullptr) return fail(RVM_E_BAD_HANDLE);
    if (part->state != PartitionState::Active) return fail(RVM_E_STATE);
    if (part->tasks >= part->config.max_tasks) return fail(RVM_E_POLICY);
    if (!st_.caps.has_free_slot(p.index)) return fail(RVM_E_EXHAUSTED);
    const auto t = st_.tasks.allocate();
    if (!t) return fail(RVM_E_EXHAUSTED);
    // CANNOT FAIL: the table has a free slot (checked above).
    (void)st_.caps.mint(p.index, ObjectRef{RVM_OBJ_TASK, t->raw()}, Rights::all());
    st_.tasks.at(*t).partition = p;
    ++part->tasks;
    witness(RVM_WK_TASK_SPAWN, p.raw(), t->raw(), 0);
    return *t;
}

KResult<void> Kernel::set_task_state(TaskId t, TaskState to) {
    Task* task = st_.tasks.get(t);
    if (task == nullptr) return fail(RVM_E_BAD_HANDLE);
    if (to == TaskState::Terminated) return fail(RVM_E_INVALID);  // terminate_task() tears down
    if (!task_transition_allowed(task->state, to)) return fail(RVM_E_STATE);
    const TaskState from = task->state;
    task->state = to;
    witness(RVM_WK_TASK_STATE, t.raw(), task->partition.raw(), 0,
            state_flags(static_cast<std::uint8_t>(from), static_cast<std::uint8_t>(to)));
    return {};
}

KResult<void> Kernel::terminate_task(TaskId t, std::uint64_t exit_code) {
    Task* task = st_.tasks.get(t);
    if (task == nullptr) return fail(RVM_E_BAD_HANDLE);
    const PartitionId p = task->partition;
    st_.caps.revoke_object(ObjectRef{RVM_OBJ_TASK, t.raw()});
    --st_.partitions.at(p).tasks;
    (void)st_.tasks.release(t);
    witness(RVM_WK_TASK_TERMINATE, t.raw(), p.raw(), exit_code);
    return {};
}

KResult<CapHandle> Kernel::grant(PartitionId holder, ObjectRef object, Rights rights) {
    if (live_partition(holder) == nullptr) return fail(RVM_E_BAD_HANDLE);
    if (!Rights::valid(rights.bits)) return fail(RVM_E_INVALID);
    if (!object_live(object)) return fail(RVM_E_BAD_HANDLE);
    const auto c = st_.caps.mint(holder.index, object, rights);
    if (!c) return err(c.error());
    witness(RVM_WK_CAP_GRANT, holder.raw(), c.value().raw(), object.id,
            (std::uint32_t{object.type} << 8) | (rights.bits << 16));
    return c.value();
}

KResult<CapHandle> Kernel::derive(PartitionId src, CapHandle cap, PartitionId dst, Rights rights) {
    if (st_.partitions.get(src) == nullptr) return fail(RVM_E_BAD_HANDLE);
    if (live_partition(dst) == nullptr) return fail(RVM_E_BAD_HANDLE);
    const auto c = st_.caps.derive(src.index, cap, dst.index, rights);
    if (!c) return err(c.error());
    witness(RVM_WK_CAP_DELEGATE, dst.raw(), c.value().raw(), cap.raw(), (src.index << 8) | (rights.bits << 16));
    return c.value();
}

KResult<std::uint32_t> Kernel::revoke(PartitionId holder, CapHandle cap, bool include_self) {
    if (st_.partitions.get(holder) == nullptr) return fail(RVM_E_BAD_HANDLE);
    const auto n = st_.caps.revoke(holder.index, cap, include_self);
    if (!n) return err(n.error());
    witness(RVM_WK_CAP_REVOKE, holder.raw(), cap.raw(), n.value(), include_self ? (1u << 8) : 0u);
    return n.value();
}

}  // namespace rvm
