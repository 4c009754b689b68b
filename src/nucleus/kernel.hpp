// Kernel: the nucleus's state and the operations that mutate it. Every
// successful operation appends exactly one witness record describing it, with
// enough of its inputs that apply() can re-execute it: replay of the witness
// log from a checkpoint reproduces the live state exactly (DESIGN.md 3, 5).
//
// Kernel operations are the trusted (host/perform) layer: they enforce object
// rules (states, quotas, ownership) but not authority. Guests reach them only
// through Syscalls, which checks capabilities and proofs first.
// Not thread-safe: the host serializes calls (the witness log itself is).
#pragma once

#include <cstdint>

#include "nucleus/cap_space.hpp"
#include "nucleus/clock.hpp"
#include "nucleus/objects.hpp"
#include "nucleus/partition.hpp"
#include "nucleus/pool.hpp"
#include "nucleus/proof_engine.hpp"
#include "nucleus/task.hpp"
#include "nucleus/witness_log.hpp"

namespace rvm {

// Everything replay must reproduce. A checkpoint is a copy of it.
struct NucleusState {
    Pool<Partition, PartitionTag, kMaxPartitions> partitions;
    Pool<Task, TaskTag, kMaxTasks> tasks;
    Pool<Region, RegionTag, kMaxRegions> regions;
    Pool<CommEdge, EdgeTag, kMaxEdges> edges;
    Pool<Device, DeviceTag, kMaxDevices> devices;
    Pool<DeviceLease, LeaseTag, kMaxLeases> leases;
    CapSpace caps;
    ProofState proofs;
    friend bool operator==(const NucleusState&, const NucleusState&) = default;
};

struct KernelEnv {
    const KeyedHash& hash;
    const Clock& clock;
    MacKey proof_key;
    ProofPolicy proof_policy{};
    WitnessLog* log = nullptr;  // null: nothing is witnessed (replay replicas)
};

inline constexpr std::uint64_t kPageSize = 4096;
inline constexpr std::uint64_t kMaxLeaseNs = 3'600'000'000'000;  // one hour

enum class ReshapeKind : std::uint8_t { Split, Merge, Migrate };

class Kernel {
public:
    explicit Kernel(const KernelEnv& env);
    Kernel(const Kernel&) = delete;
    Kernel& operator=(const Kernel&) = delete;

    // Partitions and tasks.
    KResult<PartitionId> create_partition(PartitionId parent, const PartitionConfig& config);
    KResult<void> set_partition_state(PartitionId p, PartitionState to, FailReason reason = FailReason::None,
                                      std::uint64_t detail = 0);
    KResult<void> destroy_partition(PartitionId p);
    // Live reshaping: moves `p`, which must be in the middle of a reshape
    // (Splitting, Merging or Migrating -- that transition is witnessed
    // first), into cell `cell` -- one another live partition lives in -- or,
    // with kNewCell, into the smallest cell no other live partition uses.
    // Returns the cell. Witnessed as RVM_WK_STRUCTURAL_CHANGE (subject p,
    // object the new cell, aux the requested cell, flags old cell << 8 |
    // p's state << 16).
    KResult<std::uint8_t> set_cell(PartitionId p, std::uint8_t cell);
    // The authority for a live reshape of `p` (seed 002 5.3), the one place
    // it is checked: p must be Active, `self` must be p's own capability
    // with the kind's right (SPLIT, MERGE or MIGRATE), and a Deep proof over
    // (p, kind) is minted, checked and consumed (each witnessed). Refusals,
    // by the failing step in Status::arg: 1 not Active (RVM_E_STATE), 2 the
    // capability, 3 minting, 4 checking the proof.
    KResult<void> authorize_reshape(PartitionId p, CapHandle self, ReshapeKind kind);
    KResult<TaskId> spawn_task(PartitionId p);
    KResult<void> set_task_state(TaskId t, TaskState to);
    KResult<void> terminate_task(TaskId t, std::uint64_t exit_code);

    // Capabilities (host authority: grant mints a root capability).
    KResult<CapHandle> grant(PartitionId holder, ObjectRef object, Rights rights);
    KResult<CapHandle> derive(PartitionId src, CapHandle cap, PartitionId dst, Rights rights);
    KResult<std::uint32_t> revoke(PartitionId holder, CapHandle cap, bool include_self);

    // Regions.
    KResult<RegionId> create_region(PartitionId owner, std::uint64_t pages, std::uint8_t policy, std::uint8_t tier);
    KResult<std::uint64_t> share_region(RegionId r, PartitionId with);  // returns the gpa in `with`
    KResult<void> transfer_region(RegionId r, PartitionId to);
    KResult<void> set_region_tier(RegionId r, std::uint8_t tier);
    KResult<void> destroy_region(RegionId r);

    // Communication edges, devices and leases.
    KResult<EdgeId> create_edge(PartitionId source, PartitionId dest);
    KResult<void> destroy_edge(EdgeId e);
    KResult<DeviceId> register_device(std::uint64_t hw_id);
    KResult<LeaseId> acquire_lease(PartitionId holder, DeviceId device, std::uint64_t duration_ns);
    KResult<void> revoke_lease(LeaseId l);
    std::uint32_t expire_leases();  // at clock.now_ns(); returns how many expired
    [[nodiscard]] bool lease_valid(LeaseId l) const;

    // Proofs.
    KResult<ProofToken> mint_proof(PartitionId p, CapHandle cap, std::uint8_t tier, std::uint32_t call,
                                   const CallArgs& args, std::uint64_t expiry_ns);
    // Checks a token; a rejection is witnessed and changes no state.
    KResult<std::uint8_t> check_proof(PartitionId p, const ProofToken& t, std::uint32_t call, const CallArgs& args,
                                      std::uint8_t required);
    // Consumes a checked token's nonce (after the call it authorized succeeded).
    void consume_proof(PartitionId p, const ProofToken& t, std::uint8_t applied_tier);

    // Replay: re-executes one witnessed operation. Fails if the record cannot
    // be applied or produces a different object than it names.
    KResult<void> apply(const WitnessRecord& r);

    // Checkpoint = a copy of the state; restore replaces it (replicas only).
    [[nodiscard]] const NucleusState& state() const { return st_; }
    void restore(const NucleusState& s) { st_ = s; }

    // Whole-state invariants (tests, replay audit): capability tree shape,
    // every capability names a live object, every object's owner is live,
    // per-partition accounting matches the objects.
    [[nodiscard]] bool invariants_hold() const;
    [[nodiscard]] bool object_live(ObjectRef o) const;

    // Scheduler evidence (no state changes; replay accepts them as such):
    // a mode switch (subject = the partition behind it, 0 if none; aux = the
    // epoch; flags = from << 8 | to << 16 | reason << 24) and the per-epoch
    // batch of seed DC-10 (object = context switches, aux = deadline misses,
    // flags = the mode << 16) instead of one record per switch.
    void note_mode_switch(std::uint8_t from, std::uint8_t to, std::uint8_t reason, std::uint64_t partition,
                          std::uint64_t epoch);
    void note_sched_epoch(std::uint64_t epoch, std::uint64_t switches, std::uint64_t misses, std::uint8_t mode);

    [[nodiscard]] const Partition* partition(PartitionId p) const { return st_.partitions.get(p); }
    [[nodiscard]] const ProofEngine& proofs() const { return proofs_; }
    [[nodiscard]] std::uint64_t now_ns() const { return env_.clock.now_ns(); }

private:
    void witness(std::uint8_t kind, std::uint64_t subject, std::uint64_t object, std::uint64_t aux,
                 std::uint32_t flags = 0, std::uint8_t tier = RVM_PROOF_NONE);
    Partition* live_partition(PartitionId p);
    void teardown_region(RegionId r, Region& region);
    void teardown_lease(LeaseId l);
    KResult<LeaseId> acquire_lease_until(PartitionId holder, DeviceId device, std::uint64_t expires_ns);
    KResult<void> apply_partition(const WitnessRecord& r);
    KResult<void> apply_object(const WitnessRecord& r);
    [[nodiscard]] std::uint8_t free_cell(PartitionId except) const;
    [[nodiscard]] bool cell_used(std::uint8_t cell, PartitionId except) const;

    KernelEnv env_;
    ProofEngine proofs_;
    NucleusState st_;
};

}  // namespace rvm
