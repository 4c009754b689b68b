// Partition and task lifecycles: the checked state machines (every (from, to)
// pair against a table written out here), quotas, failure records and the
// cascade of destroy_partition. Every test ends with replay == live and the
// whole-state invariants.
#include <gtest/gtest.h>

#include <array>
#include <memory>
#include <vector>

#include "support/world.hpp"

namespace rvm {
namespace {

using test::holders;
using test::refused;
using test::World;
using PS = PartitionState;
using TS = TaskState;

template <typename T>
rvm_status code_of(const KResult<T>& r) {
    return r.ok() ? RVM_OK : r.error().code;
}

std::uint8_t flag_byte(const WitnessRecord& r, unsigned which) {
    return static_cast<std::uint8_t>((r.flags() >> (8 * which)) & 0xffu);
}

constexpr bool Y = true;
constexpr bool N = false;

// Legal partition transitions (DESIGN.md section 3). Written out by hand: the
// test must not derive its expectations from partition_transition_allowed.
// "Destroyed" as a target means destroy_partition().
constexpr std::array<std::array<bool, kPartitionStateCount>, kPartitionStateCount> kPartitionLegal{{
    // rows: from; columns: to, in enum order (Active .. Destroyed)
    /* Active    */ {{N, Y, N, N, Y, Y, Y, Y, Y}},
    /* Suspended */ {{Y, N, Y, N, N, N, Y, Y, Y}},
    /* Warm      */ {{N, Y, N, Y, N, N, N, Y, Y}},
    /* Dormant   */ {{N, N, Y, N, N, N, N, Y, Y}},
    /* Splitting */ {{Y, Y, N, N, N, N, N, Y, N}},
    /* Merging   */ {{Y, N, N, N, N, N, N, Y, Y}},
    /* Migrating */ {{Y, Y, N, N, N, N, N, Y, N}},
    /* Failed    */ {{N, N, N, N, N, N, N, N, Y}},
    /* Destroyed */ {{N, N, N, N, N, N, N, N, N}},
}};

// A legal path from Active (every partition is born Active) to `s`.
std::vector<PS> partition_path(PS s) {
    switch (s) {
        case PS::Active: return {};
        case PS::Suspended: return {PS::Suspended};
        case PS::Warm: return {PS::Suspended, PS::Warm};
        case PS::Dormant: return {PS::Suspended, PS::Warm, PS::Dormant};
        case PS::Splitting: return {PS::Splitting};
        case PS::Merging: return {PS::Merging};
        case PS::Migrating: return {PS::Migrating};
        case PS::Failed: return {PS::Failed};
        case PS::Destroyed: break;
    }
    return {};
}

// The witness kind a legal transition is recorded with (abi/witness.h).
std::uint8_t partition_kind(PS from, PS to) {
    switch (to) {
        case PS::Destroyed: return RVM_WK_PARTITION_DESTROY;
        case PS::Dormant: return RVM_WK_PARTITION_HIBERNATE;
        case PS::Splitting: return RVM_WK_PARTITION_SPLIT;
        case PS::Merging: return RVM_WK_PARTITION_MERGE;
        case PS::Migrating: return RVM_WK_PARTITION_MIGRATE;
        case PS::Warm:
            if (from == PS::Dormant) return RVM_WK_PARTITION_RECONSTRUCT;
            break;
        default: break;
    }
    return RVM_WK_PARTITION_STATE;
}

PS ps(std::size_t i) { return static_cast<PS>(i); }

TEST(PartitionStateMachine, EveryTransitionMatchesTheTable) {
    for (std::size_t f = 0; f < kPartitionStateCount; ++f) {
        for (std::size_t t = 0; t < kPartitionStateCount; ++t) {
            const PS from = ps(f);
            const PS to = ps(t);
            SCOPED_TRACE(::testing::Message() << partition_state_name(from) << " -> " << partition_state_name(to));
            World w;
            const PartitionId p = w.partition();
            if (from == PS::Destroyed) {
                // Unreachable as an observable state: destroy releases the
                // slot, so the handle is stale and nothing can be attempted.
                ASSERT_TRUE(w.k().destroy_partition(p).ok());
                EXPECT_EQ(w.k().partition(p), nullptr);
                if (to == PS::Destroyed) {
                    EXPECT_TRUE(refused(w, RVM_E_BAD_HANDLE, [&] { return w.k().destroy_partition(p); }));
                } else {
                    EXPECT_TRUE(refused(w, RVM_E_BAD_HANDLE, [&] { return w.k().set_partition_state(p, to); }));
                }
                EXPECT_TRUE(w.sync());
                EXPECT_TRUE(w.k().invariants_hold());
                continue;
            }
            for (const PS step : partition_path(from)) ASSERT_TRUE(w.k().set_partition_state(p, step).ok());
            ASSERT_NE(w.k().partition(p), nullptr);
            ASSERT_EQ(w.k().partition(p)->state, from);

            const auto attempt = [&] {
                return to == PS::Destroyed ? w.k().destroy_partition(p) : w.k().set_partition_state(p, to);
            };
            if (!kPartitionLegal[f][t]) {
                EXPECT_TRUE(refused(w, RVM_E_STATE, attempt));
                ASSERT_NE(w.k().partition(p), nullptr);
                EXPECT_EQ(w.k().partition(p)->state, from);
            } else {
                const std::size_t n = w.records();
                ASSERT_TRUE(attempt().ok());
                ASSERT_EQ(w.records(), n + 1);
                const WitnessRecord& rec = w.sink.records.back();
                EXPECT_EQ(rec.subject(), p.raw());
                // Dormant -> Failed: see PartitionTest.FailureOfADormantPartitionIsNotAReconstruction.
                if (!(from == PS::Dormant && to == PS::Failed)) {
                    EXPECT_EQ(rec.kind(), partition_kind(from, to));
                }
                if (to == PS::Destroyed) {
                    EXPECT_EQ(w.k().partition(p), nullptr);
                } else {
                    ASSERT_NE(w.k().partition(p), nullptr);
                    EXPECT_EQ(w.k().partition(p)->state, to);
                    EXPECT_EQ(flag_byte(rec, 1), static_cast<std::uint8_t>(from));
                    EXPECT_EQ(flag_byte(rec, 2), static_cast<std::uint8_t>(to));
                }
            }
            EXPECT_TRUE(w.sync());
            EXPECT_TRUE(w.k().invariants_hold());
        }
    }
}

TEST(PartitionStateMachine, SetStateNeverDestroys) {
    // Destroyed is reached only through destroy_partition(), which tears down.
    for (std::size_t f = 0; f + 1 < kPartitionStateCount; ++f) {
        SCOPED_TRACE(partition_state_name(ps(f)));
        World w;
        const PartitionId p = w.partition();
        for (const PS step : partition_path(ps(f))) ASSERT_TRUE(w.k().set_partition_state(p, step).ok());
        EXPECT_TRUE(refused(w, RVM_E_INVALID, [&] { return w.k().set_partition_state(p, PS::Destroyed); }));
        EXPECT_TRUE(w.sync());
        EXPECT_TRUE(w.k().invariants_hold());
    }
}

class PartitionTest : public ::testing::Test {
protected:
    void TearDown() override {
        EXPECT_TRUE(w.sync());
        EXPECT_TRUE(w.k().invariants_hold());
    }
    World w;
};

TEST_F(PartitionTest, CreateMintsTheSelfCapabilityAndTheParentsCapability) {
    const PartitionId parent = w.partition();
    const PartitionConfig cfg{22, 3, 4, 100};
    const auto c = w.k().create_partition(parent, cfg);
    ASSERT_TRUE(c.ok());
    const Partition* child = w.k().partition(c.value());
    ASSERT_NE(child, nullptr);
    EXPECT_EQ(child->state, PS::Active);
    EXPECT_EQ(child->parent, parent);
    EXPECT_EQ(child->config, cfg);
    EXPECT_EQ(child->gpa.size(), std::uint64_t{1} << 22);
    EXPECT_EQ(child->gpa.free_bytes(), std::uint64_t{1} << 22);
    const ObjectRef obj{RVM_OBJ_PARTITION, c.value().raw()};
    EXPECT_TRUE(w.st().caps.holds(parent.index, obj, Rights::all()));
    EXPECT_TRUE(w.st().caps.holds(c.value().index, obj, Rights::all()));
    EXPECT_EQ(holders(w, obj), 2u);
    const WitnessRecord& rec = w.sink.records.back();
    EXPECT_EQ(rec.kind(), std::uint8_t{RVM_WK_PARTITION_CREATE});
    EXPECT_EQ(rec.subject(), parent.raw());
    EXPECT_EQ(rec.object(), c.value().raw());
    EXPECT_EQ(unpack_config(rec.aux()), cfg);
}

TEST_F(PartitionTest, CreateRejectsBadConfigsAndDeadParents) {
    EXPECT_TRUE(refused(w, RVM_E_INVALID, [&] { return w.k().create_partition({}, PartitionConfig{20, 1, 1, 0}); }));
    EXPECT_TRUE(refused(w, RVM_E_INVALID, [&] { return w.k().create_partition({}, PartitionConfig{41, 1, 1, 0}); }));
    EXPECT_TRUE(refused(w, RVM_E_INVALID, [&] { return w.k().create_partition({}, PartitionConfig{30, 0, 1, 0}); }));
    EXPECT_TRUE(refused(w, RVM_E_INVALID, [&] { return w.k().create_partition({}, PartitionConfig{30, 1, 0, 0}); }));
    EXPECT_TRUE(refused(w, RVM_E_INVALID, [&] {
        return w.k().create_partition({}, PartitionConfig{30, 1, 1, std::uint64_t{1} << 40});
    }));
    EXPECT_TRUE(w.k().create_partition({}, PartitionConfig{21, 1, 1, 0}).ok());
    EXPECT_TRUE(w.k().create_partition({}, PartitionConfig{40, 255, 255, (std::uint64_t{1} << 40) - 1}).ok());

    const PartitionId failed = w.partition();
    ASSERT_TRUE(w.k().set_partition_state(failed, PS::Failed).ok());
    EXPECT_TRUE(refused(w, RVM_E_BAD_HANDLE, [&] { return w.k().create_partition(failed, PartitionConfig{}); }));
    const PartitionId gone = w.partition();
    ASSERT_TRUE(w.k().destroy_partition(gone).ok());
    EXPECT_TRUE(refused(w, RVM_E_BAD_HANDLE, [&] { return w.k().create_partition(gone, PartitionConfig{}); }));
    // A Suspended parent is alive: the host may still create children for it.
    const PartitionId suspended = w.partition();
    ASSERT_TRUE(w.k().set_partition_state(suspended, PS::Suspended).ok());
    EXPECT_TRUE(w.k().create_partition(suspended, PartitionConfig{}).ok());
}

TEST_F(PartitionTest, PoolExhaustionIsAStatus) {
    std::vector<PartitionId> all;
    for (std::size_t i = 0; i < kMaxPartitions; ++i) all.push_back(w.partition(PartitionConfig{21, 1, 1, 0}));
    EXPECT_TRUE(refused(w, RVM_E_EXHAUSTED, [&] { return w.k().create_partition({}, PartitionConfig{}); }));
    ASSERT_TRUE(w.k().destroy_partition(all[5]).ok());
    const auto again = w.k().create_partition({}, PartitionConfig{});
    ASSERT_TRUE(again.ok());
    EXPECT_EQ(again.value().index, all[5].index);
}

TEST_F(PartitionTest, CreateWithAFullParentTableChangesNothing) {
    const PartitionId parent = w.partition();
    for (std::size_t i = 1; i < kCapsPerPartition; ++i) {
        ASSERT_TRUE(w.k().grant(parent, ObjectRef{RVM_OBJ_PARTITION, parent.raw()}, Rights{RVM_RIGHT_READ}).ok());
    }
    ASSERT_EQ(w.st().caps.count(parent.index), kCapsPerPartition);
    EXPECT_TRUE(refused(w, RVM_E_EXHAUSTED, [&] { return w.k().create_partition(parent, PartitionConfig{}); }));
    // The next partition created must be the one replay creates.
    EXPECT_TRUE(w.k().create_partition({}, PartitionConfig{}).ok());
}

TEST_F(PartitionTest, FailedPartitionRecordsReasonAndDetail) {
    const PartitionId p = w.partition();
    constexpr std::uint64_t kRip = 0xffff'8000'0000'1234;
    ASSERT_TRUE(w.k().set_partition_state(p, PS::Failed, FailReason::TripleFault, kRip).ok());
    const Partition* part = w.k().partition(p);
    ASSERT_NE(part, nullptr);
    EXPECT_EQ(part->state, PS::Failed);
    EXPECT_EQ(part->fail_reason, FailReason::TripleFault);
    EXPECT_EQ(part->fail_detail, kRip);
    const WitnessRecord& rec = w.sink.records.back();
    EXPECT_EQ(rec.kind(), std::uint8_t{RVM_WK_PARTITION_STATE});
    EXPECT_EQ(rec.subject(), p.raw());
    EXPECT_EQ(rec.aux(), kRip);
    EXPECT_EQ(flag_byte(rec, 1), static_cast<std::uint8_t>(PS::Active));
    EXPECT_EQ(flag_byte(rec, 2), static_cast<std::uint8_t>(PS::Failed));
    EXPECT_EQ(flag_byte(rec, 3), static_cast<std::uint8_t>(FailReason::TripleFault));
    EXPECT_TRUE(w.sync());

    // A second failure is illegal and does not overwrite the first record.
    EXPECT_TRUE(
        refused(w, RVM_E_STATE, [&] { return w.k().set_partition_state(p, PS::Failed, FailReason::BadAccess, 1); }));
    EXPECT_EQ(w.k().partition(p)->fail_reason, FailReason::TripleFault);
    EXPECT_EQ(w.k().partition(p)->fail_detail, kRip);
}

TEST_F(PartitionTest, EveryStateCanFailWithEveryReason) {
    constexpr std::array kReasons{FailReason::None,
                                  FailReason::TripleFault,
                                  FailReason::BadAccess,
                                  FailReason::IllegalInstruction,
                                  FailReason::EmulationFailure,
                                  FailReason::Other};
    std::size_t i = 0;
    for (std::size_t f = 0; f < kPartitionStateCount; ++f) {
        const PS from = ps(f);
        if (from == PS::Failed || from == PS::Destroyed) continue;
        for (const FailReason reason : kReasons) {
            SCOPED_TRACE(::testing::Message() << partition_state_name(from) << " reason " << static_cast<int>(reason));
            const PartitionId p = w.partition(PartitionConfig{21, 1, 1, 0});
            for (const PS step : partition_path(from)) ASSERT_TRUE(w.k().set_partition_state(p, step).ok());
            const std::uint64_t rip = 0x1000 + i++;
            ASSERT_TRUE(w.k().set_partition_state(p, PS::Failed, reason, rip).ok());
            EXPECT_EQ(w.k().partition(p)->fail_reason, reason);
            EXPECT_EQ(w.k().partition(p)->fail_detail, rip);
            EXPECT_EQ(flag_byte(w.sink.records.back(), 3), static_cast<std::uint8_t>(reason));
            EXPECT_TRUE(w.sync());  // the replica records the same reason and rip
            ASSERT_TRUE(w.k().destroy_partition(p).ok());
        }
    }
}

TEST_F(PartitionTest, FailureOfADormantPartitionIsNotAReconstruction) {
    const PartitionId p = w.partition();
    for (const PS step : partition_path(PS::Dormant)) ASSERT_TRUE(w.k().set_partition_state(p, step).ok());
    ASSERT_TRUE(w.k().set_partition_state(p, PS::Failed, FailReason::Other, 7).ok());
    EXPECT_EQ(w.sink.records.back().kind(), std::uint8_t{RVM_WK_PARTITION_STATE});
}

TEST_F(PartitionTest, AFailedPartitionIsDeadForNewObjectsButCanBeDestroyed) {
    const PartitionId q = w.partition();
    const PartitionId p = w.partition();
    const auto rq = w.k().create_region(q, 1, RVM_REGION_IMMUTABLE, RVM_TIER_HOT);
    ASSERT_TRUE(rq.ok());
    const auto dev = w.k().register_device(0x10);
    ASSERT_TRUE(dev.ok());
    ASSERT_TRUE(w.k().set_partition_state(p, PS::Failed, FailReason::BadAccess, 0x4000).ok());

    EXPECT_TRUE(refused(w, RVM_E_BAD_HANDLE, [&] { return w.k().spawn_task(p); }));
    EXPECT_TRUE(refused(w, RVM_E_BAD_HANDLE, [&] { return w.k().create_region(p, 1, RVM_REGION_SLAB, 0); }));
    EXPECT_TRUE(refused(w, RVM_E_BAD_HANDLE, [&] { return w.k().share_region(rq.value(), p); }));
    EXPECT_TRUE(refused(w, RVM_E_BAD_HANDLE, [&] { return w.k().transfer_region(rq.value(), p); }));
    EXPECT_TRUE(refused(w, RVM_E_BAD_HANDLE, [&] { return w.k().create_edge(q, p); }));
    EXPECT_TRUE(refused(w, RVM_E_BAD_HANDLE, [&] { return w.k().create_edge(p, q); }));
    EXPECT_TRUE(refused(w, RVM_E_BAD_HANDLE, [&] { return w.k().acquire_lease(p, dev.value(), 1000); }));
    EXPECT_TRUE(refused(w, RVM_E_BAD_HANDLE, [&] {
        return w.k().grant(p, ObjectRef{RVM_OBJ_PARTITION, p.raw()}, Rights{RVM_RIGHT_READ});
    }));
    EXPECT_TRUE(
        refused(w, RVM_E_BAD_HANDLE, [&] { return w.k().derive(q, w.self_cap(q), p, Rights{RVM_RIGHT_READ}); }));
    EXPECT_TRUE(refused(w, RVM_E_BAD_HANDLE, [&] { return w.k().create_partition(p, PartitionConfig{}); }));
    // Its own hypercalls are refused.
    const auto before = std::make_unique<NucleusState>(w.st());
    const rvm_ret_t r = w.call(p, SyscallFrame{RVM_HC_TASK_SPAWN, {w.self_cap(p).raw(), 0, 0, 0, 0, 0}});
    EXPECT_EQ(test::status_of(r), RVM_E_STATE);
    EXPECT_TRUE(*before == w.st());

    ASSERT_TRUE(w.k().destroy_partition(p).ok());
    EXPECT_EQ(w.k().partition(p), nullptr);
}

TEST_F(PartitionTest, DestroyCascadesToEverythingThePartitionOwnsAndEveryCapabilityToIt) {
    const PartitionId q = w.partition();
    const PartitionId r = w.partition();
    const PartitionId p = w.partition();
    const auto child = w.k().create_partition(p, PartitionConfig{});
    ASSERT_TRUE(child.ok());

    // Tasks, one of them also held by q.
    const auto t1 = w.k().spawn_task(p);
    const auto t2 = w.k().spawn_task(p);
    ASSERT_TRUE(t1.ok() && t2.ok());
    ASSERT_TRUE(w.k().grant(q, ObjectRef{RVM_OBJ_TASK, t1.value().raw()}, Rights{RVM_RIGHT_READ}).ok());

    // A region of p shared into q and r, and a region of q shared into p.
    const std::uint64_t q_free0 = w.k().partition(q)->gpa.free_bytes();
    const std::uint64_t r_free0 = w.k().partition(r)->gpa.free_bytes();
    const auto rp = w.k().create_region(p, 16, RVM_REGION_IMMUTABLE, RVM_TIER_HOT);
    ASSERT_TRUE(rp.ok());
    ASSERT_TRUE(w.k().share_region(rp.value(), q).ok());
    ASSERT_TRUE(w.k().share_region(rp.value(), r).ok());
    EXPECT_EQ(w.k().partition(q)->gpa.free_bytes(), q_free0 - 16 * kPageSize);
    EXPECT_EQ(w.k().partition(r)->gpa.free_bytes(), r_free0 - 16 * kPageSize);
    const auto rq = w.k().create_region(q, 4, RVM_REGION_APPEND_ONLY, RVM_TIER_HOT);
    ASSERT_TRUE(rq.ok());
    ASSERT_TRUE(w.k().share_region(rq.value(), p).ok());
    const std::uint64_t q_free1 = w.k().partition(q)->gpa.free_bytes();

    // Edges in both directions and one that does not involve p.
    const auto e_out = w.k().create_edge(p, q);
    const auto e_in = w.k().create_edge(r, p);
    const auto e_other = w.k().create_edge(q, r);
    ASSERT_TRUE(e_out.ok() && e_in.ok() && e_other.ok());

    // A device leased by p.
    const auto dev = w.k().register_device(0xd0);
    ASSERT_TRUE(dev.ok());
    const auto lease = w.k().acquire_lease(p, dev.value(), 1'000'000);
    ASSERT_TRUE(lease.ok());

    // Capabilities others hold to p: a root grant in q and a copy derived by p into r.
    const ObjectRef self{RVM_OBJ_PARTITION, p.raw()};
    const auto q_to_p = w.k().grant(q, self, Rights::all());
    ASSERT_TRUE(q_to_p.ok());
    const auto r_to_p = w.k().derive(p, w.self_cap(p), r, Rights{RVM_RIGHT_READ | RVM_RIGHT_WRITE});
    ASSERT_TRUE(r_to_p.ok());
    EXPECT_TRUE(w.sync());

    const std::size_t n = w.records();
    ASSERT_TRUE(w.k().destroy_partition(p).ok());
    ASSERT_EQ(w.records(), n + 1);
    EXPECT_EQ(w.sink.records.back().kind(), std::uint8_t{RVM_WK_PARTITION_DESTROY});
    EXPECT_EQ(w.sink.records.back().subject(), p.raw());
    EXPECT_TRUE(w.sync());
    EXPECT_TRUE(w.k().invariants_hold());

    // The partition and its table.
    EXPECT_EQ(w.k().partition(p), nullptr);
    EXPECT_EQ(w.st().caps.count(p.index), 0u);
    EXPECT_EQ(holders(w, self), 0u);
    // Tasks.
    EXPECT_EQ(w.st().tasks.live(), 0u);
    EXPECT_EQ(holders(w, ObjectRef{RVM_OBJ_TASK, t1.value().raw()}), 0u);
    EXPECT_EQ(holders(w, ObjectRef{RVM_OBJ_TASK, t2.value().raw()}), 0u);
    // Its region, and the space its shares took in q and r.
    EXPECT_FALSE(w.st().regions.contains(rp.value()));
    EXPECT_EQ(holders(w, ObjectRef{RVM_OBJ_REGION, rp.value().raw()}), 0u);
    EXPECT_EQ(w.k().partition(q)->gpa.free_bytes(), q_free1 + 16 * kPageSize);
    EXPECT_EQ(w.k().partition(r)->gpa.free_bytes(), r_free0);
    // The share it received: q's region survives, unshared, with only q's capability.
    const Region* region_q = w.st().regions.get(rq.value());
    ASSERT_NE(region_q, nullptr);
    for (const RegionShare& s : region_q->shares) EXPECT_TRUE(s.partition.is_null());
    EXPECT_EQ(holders(w, ObjectRef{RVM_OBJ_REGION, rq.value().raw()}), 1u);
    // Edges touching p; the others survive.
    EXPECT_FALSE(w.st().edges.contains(e_out.value()));
    EXPECT_FALSE(w.st().edges.contains(e_in.value()));
    EXPECT_TRUE(w.st().edges.contains(e_other.value()));
    EXPECT_EQ(holders(w, ObjectRef{RVM_OBJ_COMMEDGE, e_out.value().raw()}), 0u);
    EXPECT_EQ(holders(w, ObjectRef{RVM_OBJ_COMMEDGE, e_in.value().raw()}), 0u);
    EXPECT_EQ(holders(w, ObjectRef{RVM_OBJ_COMMEDGE, e_other.value().raw()}), 2u);
    // The lease; the device is free again.
    EXPECT_FALSE(w.st().leases.contains(lease.value()));
    EXPECT_EQ(holders(w, ObjectRef{RVM_OBJ_DEVICE_LEASE, lease.value().raw()}), 0u);
    // The child survives, orphaned.
    ASSERT_NE(w.k().partition(child.value()), nullptr);
    EXPECT_TRUE(w.k().partition(child.value())->parent.is_null());

    // Stale handles to everything are rejected.
    EXPECT_TRUE(refused(w, RVM_E_BAD_HANDLE, [&] { return w.k().destroy_partition(p); }));
    EXPECT_TRUE(refused(w, RVM_E_BAD_HANDLE, [&] { return w.k().set_partition_state(p, PS::Suspended); }));
    EXPECT_TRUE(refused(w, RVM_E_BAD_HANDLE, [&] { return w.k().spawn_task(p); }));
    EXPECT_TRUE(refused(w, RVM_E_BAD_HANDLE, [&] { return w.k().set_task_state(t1.value(), TS::Running); }));
    EXPECT_TRUE(refused(w, RVM_E_BAD_HANDLE, [&] { return w.k().terminate_task(t2.value(), 0); }));
    EXPECT_TRUE(refused(w, RVM_E_BAD_HANDLE, [&] { return w.k().destroy_region(rp.value()); }));
    EXPECT_TRUE(refused(w, RVM_E_BAD_HANDLE, [&] { return w.k().share_region(rq.value(), p); }));
    EXPECT_TRUE(refused(w, RVM_E_BAD_HANDLE, [&] { return w.k().destroy_edge(e_out.value()); }));
    EXPECT_TRUE(refused(w, RVM_E_BAD_HANDLE, [&] { return w.k().revoke_lease(lease.value()); }));
    EXPECT_TRUE(refused(w, RVM_E_BAD_HANDLE, [&] { return w.k().create_edge(q, p); }));
    EXPECT_TRUE(refused(w, RVM_E_BAD_HANDLE, [&] { return w.k().revoke(q, q_to_p.value(), true); }));
    EXPECT_TRUE(refused(w, RVM_E_BAD_HANDLE, [&] { return w.k().revoke(r, r_to_p.value(), true); }));
    // q's old capability to p no longer works through the ABI either.
    {
        const auto before = std::make_unique<NucleusState>(w.st());
        const rvm_ret_t ret = w.call(q, SyscallFrame{RVM_HC_TASK_SPAWN, {q_to_p.value().raw(), 0, 0, 0, 0, 0}});
        EXPECT_EQ(test::status_of(ret), RVM_E_BAD_HANDLE);
        EXPECT_EQ(test::arg_of(ret), 1u);
        EXPECT_TRUE(*before == w.st());
    }
    // The device is leasable again, and q's region (no longer shared) can move.
    EXPECT_TRUE(w.k().acquire_lease(q, dev.value(), 1000).ok());
    EXPECT_TRUE(w.k().transfer_region(rq.value(), r).ok());
}

TEST_F(PartitionTest, AReusedSlotGetsANewGenerationAndOldHandlesFail) {
    const PartitionId q = w.partition();
    const PartitionId p = w.partition();
    const CapHandle p_self = w.self_cap(p);
    const auto q_to_p = w.k().grant(q, ObjectRef{RVM_OBJ_PARTITION, p.raw()}, Rights::all());
    ASSERT_TRUE(q_to_p.ok());
    ASSERT_TRUE(w.k().destroy_partition(p).ok());

    const PartitionId fresh = w.partition();
    EXPECT_EQ(fresh.index, p.index);
    EXPECT_NE(fresh.generation, p.generation);
    EXPECT_NE(fresh.raw(), p.raw());
    EXPECT_NE(w.k().partition(fresh), nullptr);
    EXPECT_EQ(w.k().partition(p), nullptr);
    EXPECT_EQ(w.st().caps.count(fresh.index), 1u);  // only its own self capability

    EXPECT_TRUE(refused(w, RVM_E_BAD_HANDLE, [&] { return w.k().set_partition_state(p, PS::Suspended); }));
    EXPECT_TRUE(refused(w, RVM_E_BAD_HANDLE, [&] { return w.k().spawn_task(p); }));
    EXPECT_TRUE(refused(w, RVM_E_BAD_HANDLE, [&] { return w.k().create_region(p, 1, RVM_REGION_SLAB, 0); }));
    EXPECT_TRUE(refused(w, RVM_E_BAD_HANDLE, [&] { return w.k().destroy_partition(p); }));
    EXPECT_TRUE(refused(w, RVM_E_BAD_HANDLE, [&] { return w.k().create_edge(q, p); }));
    // q's capability to the old partition does not name the new one.
    EXPECT_FALSE(w.st().caps.lookup(q.index, q_to_p.value(), RVM_OBJ_PARTITION, Rights{}).ok());
    EXPECT_FALSE(w.st().caps.holds(q.index, ObjectRef{RVM_OBJ_PARTITION, fresh.raw()}, Rights{}));
    // The old partition's self handle is stale in the new partition's table.
    EXPECT_NE(w.self_cap(fresh), p_self);
    EXPECT_FALSE(w.st().caps.lookup(fresh.index, p_self, RVM_OBJ_TYPE_COUNT_, Rights{}).ok());
    const auto before = std::make_unique<NucleusState>(w.st());
    const rvm_ret_t r = w.call(fresh, SyscallFrame{RVM_HC_TASK_SPAWN, {p_self.raw(), 0, 0, 0, 0, 0}});
    EXPECT_EQ(test::status_of(r), RVM_E_BAD_HANDLE);
    EXPECT_EQ(test::arg_of(r), 1u);
    EXPECT_TRUE(*before == w.st());
}

// ---------------------------------------------------------------------------
// Tasks.

// Legal task transitions (seed 002 9.3). "Terminated" as a target means
// terminate_task(); set_task_state() never terminates.
constexpr std::array<std::array<bool, kTaskStateCount>, kTaskStateCount> kTaskLegal{{
    // rows: from; columns: to, in enum order (Initializing .. Terminated)
    /* Initializing   */ {{N, Y, N, N, N, N, Y}},
    /* Running        */ {{N, N, Y, Y, Y, N, Y}},
    /* Suspended      */ {{N, Y, N, Y, Y, N, Y}},
    /* Migrating      */ {{N, Y, Y, N, N, N, Y}},
    /* Hibernated     */ {{N, N, N, N, N, Y, Y}},
    /* Reconstructing */ {{N, Y, Y, N, N, N, Y}},
    /* Terminated     */ {{N, N, N, N, N, N, N}},
}};

std::vector<TS> task_path(TS s) {
    switch (s) {
        case TS::Initializing: return {};
        case TS::Running: return {TS::Running};
        case TS::Suspended: return {TS::Running, TS::Suspended};
        case TS::Migrating: return {TS::Running, TS::Migrating};
        case TS::Hibernated: return {TS::Running, TS::Hibernated};
        case TS::Reconstructing: return {TS::Running, TS::Hibernated, TS::Reconstructing};
        case TS::Terminated: break;
    }
    return {};
}

TS ts(std::size_t i) { return static_cast<TS>(i); }

TEST(TaskStateMachine, EveryTransitionMatchesTheTable) {
    for (std::size_t f = 0; f < kTaskStateCount; ++f) {
        for (std::size_t t = 0; t < kTaskStateCount; ++t) {
            const TS from = ts(f);
            const TS to = ts(t);
            SCOPED_TRACE(::testing::Message() << task_state_name(from) << " -> " << task_state_name(to));
            World w;
            const PartitionId p = w.partition();
            const auto task = w.k().spawn_task(p);
            ASSERT_TRUE(task.ok());
            const TaskId id = task.value();
            const auto attempt = [&] {
                return to == TS::Terminated ? w.k().terminate_task(id, 0x5a) : w.k().set_task_state(id, to);
            };
            if (from == TS::Terminated) {
                // Unreachable: a terminated task's slot is released.
                ASSERT_TRUE(w.k().terminate_task(id, 0).ok());
                EXPECT_TRUE(refused(w, RVM_E_BAD_HANDLE, attempt));
                EXPECT_TRUE(w.sync());
                EXPECT_TRUE(w.k().invariants_hold());
                continue;
            }
            for (const TS step : task_path(from)) ASSERT_TRUE(w.k().set_task_state(id, step).ok());
            ASSERT_EQ(w.st().tasks.get(id)->state, from);
            if (!kTaskLegal[f][t]) {
                EXPECT_TRUE(refused(w, RVM_E_STATE, attempt));
                EXPECT_EQ(w.st().tasks.get(id)->state, from);
            } else {
                const std::size_t n = w.records();
                ASSERT_TRUE(attempt().ok());
                ASSERT_EQ(w.records(), n + 1);
                const WitnessRecord& rec = w.sink.records.back();
                EXPECT_EQ(rec.subject(), id.raw());
                EXPECT_EQ(rec.object(), p.raw());
                if (to == TS::Terminated) {
                    EXPECT_EQ(rec.kind(), std::uint8_t{RVM_WK_TASK_TERMINATE});
                    EXPECT_EQ(rec.aux(), 0x5au);
                    EXPECT_FALSE(w.st().tasks.contains(id));
                    EXPECT_EQ(w.k().partition(p)->tasks, 0u);
                } else {
                    EXPECT_EQ(rec.kind(), std::uint8_t{RVM_WK_TASK_STATE});
                    EXPECT_EQ(flag_byte(rec, 1), static_cast<std::uint8_t>(from));
                    EXPECT_EQ(flag_byte(rec, 2), static_cast<std::uint8_t>(to));
                    EXPECT_EQ(w.st().tasks.get(id)->state, to);
                }
            }
            EXPECT_TRUE(w.sync());
            EXPECT_TRUE(w.k().invariants_hold());
        }
    }
}

TEST(TaskStateMachine, SetStateNeverTerminates) {
    for (std::size_t f = 0; f + 1 < kTaskStateCount; ++f) {
        SCOPED_TRACE(task_state_name(ts(f)));
        World w;
        const PartitionId p = w.partition();
        const auto task = w.k().spawn_task(p);
        ASSERT_TRUE(task.ok());
        for (const TS step : task_path(ts(f))) ASSERT_TRUE(w.k().set_task_state(task.value(), step).ok());
        EXPECT_TRUE(refused(w, RVM_E_INVALID, [&] { return w.k().set_task_state(task.value(), TS::Terminated); }));
        EXPECT_TRUE(w.sync());
        EXPECT_TRUE(w.k().invariants_hold());
    }
}

class TaskTest : public ::testing::Test {
protected:
    void TearDown() override {
        EXPECT_TRUE(w.sync());
        EXPECT_TRUE(w.k().invariants_hold());
    }
    World w;
};

TEST_F(TaskTest, SpawnCreatesAnInitializingTaskWithAFullCapability) {
    const PartitionId p = w.partition();
    const auto t = w.k().spawn_task(p);
    ASSERT_TRUE(t.ok());
    const Task* task = w.st().tasks.get(t.value());
    ASSERT_NE(task, nullptr);
    EXPECT_EQ(task->partition, p);
    EXPECT_EQ(task->state, TS::Initializing);
    EXPECT_EQ(w.k().partition(p)->tasks, 1u);
    const ObjectRef obj{RVM_OBJ_TASK, t.value().raw()};
    EXPECT_TRUE(w.st().caps.holds(p.index, obj, Rights::all()));
    EXPECT_EQ(holders(w, obj), 1u);
    const WitnessRecord& rec = w.sink.records.back();
    EXPECT_EQ(rec.kind(), std::uint8_t{RVM_WK_TASK_SPAWN});
    EXPECT_EQ(rec.subject(), p.raw());
    EXPECT_EQ(rec.object(), t.value().raw());
}

TEST_F(TaskTest, MaxTasksQuotaIsAPolicyRefusal) {
    const PartitionId p = w.partition(PartitionConfig{30, 2, 4, 0});
    const auto a = w.k().spawn_task(p);
    ASSERT_TRUE(a.ok());
    ASSERT_TRUE(w.k().spawn_task(p).ok());
    EXPECT_TRUE(refused(w, RVM_E_POLICY, [&] { return w.k().spawn_task(p); }));
    ASSERT_TRUE(w.k().terminate_task(a.value(), 0).ok());
    EXPECT_TRUE(w.k().spawn_task(p).ok());
    EXPECT_TRUE(refused(w, RVM_E_POLICY, [&] { return w.k().spawn_task(p); }));
    EXPECT_EQ(w.k().partition(p)->tasks, 2u);
}

TEST_F(TaskTest, SpawnRequiresAnActivePartition) {
    for (std::size_t f = 0; f < kPartitionStateCount; ++f) {
        const PS s = ps(f);
        if (s == PS::Active || s == PS::Failed || s == PS::Destroyed) continue;
        SCOPED_TRACE(partition_state_name(s));
        const PartitionId p = w.partition(PartitionConfig{21, 1, 1, 0});
        for (const PS step : partition_path(s)) ASSERT_TRUE(w.k().set_partition_state(p, step).ok());
        EXPECT_TRUE(refused(w, RVM_E_STATE, [&] { return w.k().spawn_task(p); }));
    }
    // A failed partition is dead, like a destroyed one: its handle no longer
    // names a partition that can own anything.
    const PartitionId failed = w.partition();
    ASSERT_TRUE(w.k().set_partition_state(failed, PS::Failed).ok());
    EXPECT_TRUE(refused(w, RVM_E_BAD_HANDLE, [&] { return w.k().spawn_task(failed); }));
    const PartitionId gone = w.partition();
    ASSERT_TRUE(w.k().destroy_partition(gone).ok());
    EXPECT_TRUE(refused(w, RVM_E_BAD_HANDLE, [&] { return w.k().spawn_task(gone); }));
    EXPECT_TRUE(refused(w, RVM_E_BAD_HANDLE, [&] { return w.k().spawn_task(PartitionId{}); }));
    EXPECT_TRUE(refused(w, RVM_E_BAD_HANDLE, [&] { return w.k().spawn_task(PartitionId{999, 1}); }));
}

TEST_F(TaskTest, TerminateRevokesEveryCapabilityAndFreesTheQuota) {
    const PartitionId p = w.partition(PartitionConfig{30, 1, 4, 0});
    const PartitionId q = w.partition();
    const auto t = w.k().spawn_task(p);
    ASSERT_TRUE(t.ok());
    const ObjectRef obj{RVM_OBJ_TASK, t.value().raw()};
    const CapHandle root = w.cap_to(p, obj);
    ASSERT_TRUE(w.k().derive(p, root, q, Rights{RVM_RIGHT_READ}).ok());
    ASSERT_TRUE(w.k().grant(q, obj, Rights{RVM_RIGHT_WRITE}).ok());
    EXPECT_EQ(holders(w, obj), 3u);
    ASSERT_TRUE(w.k().set_task_state(t.value(), TS::Running).ok());

    ASSERT_TRUE(w.k().terminate_task(t.value(), 42).ok());
    EXPECT_EQ(holders(w, obj), 0u);
    EXPECT_EQ(w.k().partition(p)->tasks, 0u);
    EXPECT_EQ(w.sink.records.back().aux(), 42u);
    EXPECT_TRUE(refused(w, RVM_E_BAD_HANDLE, [&] { return w.k().terminate_task(t.value(), 0); }));
    EXPECT_TRUE(refused(w, RVM_E_BAD_HANDLE, [&] { return w.k().set_task_state(t.value(), TS::Suspended); }));
    EXPECT_TRUE(refused(w, RVM_E_BAD_HANDLE, [&] { return w.k().terminate_task(TaskId{}, 0); }));
    EXPECT_TRUE(refused(w, RVM_E_BAD_HANDLE, [&] { return w.k().set_task_state(TaskId{9999, 1}, TS::Running); }));
    // The slot is reused with a new generation.
    const auto again = w.k().spawn_task(p);
    ASSERT_TRUE(again.ok());
    EXPECT_EQ(again.value().index, t.value().index);
    EXPECT_NE(again.value().generation, t.value().generation);
    EXPECT_TRUE(refused(w, RVM_E_BAD_HANDLE, [&] { return w.k().terminate_task(t.value(), 0); }));
}

TEST_F(TaskTest, TasksInANonActivePartitionCanStillChangeStateAndTerminate) {
    const PartitionId p = w.partition();
    const auto t = w.k().spawn_task(p);
    ASSERT_TRUE(t.ok());
    ASSERT_TRUE(w.k().set_task_state(t.value(), TS::Running).ok());
    ASSERT_TRUE(w.k().set_partition_state(p, PS::Suspended).ok());
    EXPECT_TRUE(w.k().set_task_state(t.value(), TS::Suspended).ok());
    EXPECT_TRUE(w.k().terminate_task(t.value(), 1).ok());
    EXPECT_EQ(w.k().partition(p)->tasks, 0u);
}

TEST_F(TaskTest, PoolExhaustionIsAStatus) {
    // 256 tasks: capability tables hold 128 entries, so spread over partitions.
    std::vector<PartitionId> parts;
    for (int i = 0; i < 3; ++i) parts.push_back(w.partition(PartitionConfig{21, 255, 1, 0}));
    std::size_t made = 0;
    for (const PartitionId p : parts) {
        for (std::size_t i = 0; i + 1 < kCapsPerPartition && made < kMaxTasks; ++i, ++made) {
            ASSERT_TRUE(w.k().spawn_task(p).ok());
        }
    }
    ASSERT_EQ(w.st().tasks.live(), kMaxTasks);
    EXPECT_TRUE(refused(w, RVM_E_EXHAUSTED, [&] { return w.k().spawn_task(parts[2]); }));
}

TEST_F(TaskTest, SpawnWithAFullCapabilityTableChangesNothing) {
    const PartitionId p = w.partition(PartitionConfig{30, 255, 1, 0});
    std::vector<CapHandle> extra;
    for (std::size_t i = 1; i < kCapsPerPartition; ++i) {
        const auto c = w.k().grant(p, ObjectRef{RVM_OBJ_PARTITION, p.raw()}, Rights{RVM_RIGHT_READ | RVM_RIGHT_REVOKE});
        ASSERT_TRUE(c.ok());
        extra.push_back(c.value());
    }
    ASSERT_EQ(w.st().caps.count(p.index), kCapsPerPartition);
    EXPECT_TRUE(refused(w, RVM_E_EXHAUSTED, [&] { return w.k().spawn_task(p); }));
    EXPECT_EQ(w.k().partition(p)->tasks, 0u);
    ASSERT_TRUE(w.k().revoke(p, extra.back(), true).ok());
    EXPECT_TRUE(w.k().spawn_task(p).ok());  // must be the task replay creates
}

}  // namespace
}  // namespace rvm

namespace rvm {
namespace {

// Cells (live reshaping): a new partition gets the smallest cell nobody uses;
// set_cell only in the middle of a reshape; joining needs a cell someone
// lives in; kNewCell gives a fresh one; every move is one witnessed record
// that replay re-executes.
TEST(Cells, NewPartitionsGetFreeCellsAndMovesAreCheckedAndWitnessed) {
    World w;
    const PartitionId a = w.partition();
    const PartitionId b = w.partition();
    const PartitionId c = w.partition();
    EXPECT_EQ(w.k().partition(a)->cell, 0);
    EXPECT_EQ(w.k().partition(b)->cell, 1);
    EXPECT_EQ(w.k().partition(c)->cell, 2);

    // Not reshaping: refused, nothing recorded.
    EXPECT_TRUE(refused(w, RVM_E_STATE, [&] { return w.k().set_cell(b, 0); }));

    // b merges into a's cell.
    ASSERT_TRUE(w.k().set_partition_state(b, PS::Merging).ok());
    EXPECT_TRUE(refused(w, RVM_E_INVALID, [&] { return w.k().set_cell(b, 1); }));  // its own cell
    EXPECT_TRUE(refused(w, RVM_E_INVALID, [&] { return w.k().set_cell(b, 7); }));  // nobody lives there
    const std::size_t n = w.records();
    const auto joined = w.k().set_cell(b, 0);
    ASSERT_TRUE(joined.ok());
    EXPECT_EQ(joined.value(), 0);
    ASSERT_EQ(w.records(), n + 1);
    const WitnessRecord& rec = w.sink.records.back();
    EXPECT_EQ(rec.kind(), RVM_WK_STRUCTURAL_CHANGE);
    EXPECT_EQ(rec.subject(), b.raw());
    EXPECT_EQ(rec.object(), 0u);
    EXPECT_EQ(flag_byte(rec, 1), 1);  // old cell
    EXPECT_EQ(flag_byte(rec, 2), static_cast<std::uint8_t>(PS::Merging));
    ASSERT_TRUE(w.k().set_partition_state(b, PS::Active).ok());
    EXPECT_EQ(w.k().partition(b)->cell, 0);

    // A new partition takes cell 1, now free.
    const PartitionId d = w.partition();
    EXPECT_EQ(w.k().partition(d)->cell, 1);

    // a splits off into a fresh cell: the smallest unused (3).
    ASSERT_TRUE(w.k().set_partition_state(a, PS::Splitting).ok());
    const auto fresh = w.k().set_cell(a, kNewCell);
    ASSERT_TRUE(fresh.ok());
    EXPECT_EQ(fresh.value(), 3);
    EXPECT_EQ(w.sink.records.back().aux(), kNewCell);
    ASSERT_TRUE(w.k().set_partition_state(a, PS::Active).ok());

    // c migrates to b's cell (0).
    ASSERT_TRUE(w.k().set_partition_state(c, PS::Migrating).ok());
    ASSERT_TRUE(w.k().set_cell(c, 0).ok());
    ASSERT_TRUE(w.k().set_partition_state(c, PS::Active).ok());
    EXPECT_EQ(w.k().partition(c)->cell, 0);
    EXPECT_EQ(w.k().partition(b)->cell, 0);

    EXPECT_TRUE(w.sync());
    EXPECT_TRUE(w.k().invariants_hold());
}

}  // namespace
}  // namespace rvm
