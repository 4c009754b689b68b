// The hypercall boundary (STYLE.md 14: one ABI test per hypercall, including
// the negative cases). Each supported call: the positive case, with the
// returned handle put to use; every rejection: exact status AND argument
// position, nucleus state unchanged, and only proof rejections witnessed.
// Every test ends with replay == live and the whole-state invariants.
#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <memory>
#include <vector>

#include "support/world.hpp"

namespace rvm {
namespace {

using test::arg_of;
using test::status_of;
using test::World;

constexpr std::uint32_t kSendRights = RVM_RIGHT_WRITE | RVM_RIGHT_GRANT | RVM_RIGHT_REVOKE;
constexpr std::uint32_t kRecvRights = RVM_RIGHT_READ | RVM_RIGHT_GRANT | RVM_RIGHT_REVOKE;
constexpr std::uint32_t kLeaseRights = RVM_RIGHT_READ | RVM_RIGHT_WRITE | RVM_RIGHT_REVOKE;
constexpr std::uint32_t kAllButWrite = RVM_RIGHTS_ALL & ~RVM_RIGHT_WRITE;
constexpr std::uint64_t kProofGpa = 0x1000;
constexpr std::uint64_t kUnmapped = 0x7fff'0000'0000;    // never written by these tests
constexpr std::uint64_t kTokenLifetime = 1'000'000'000;  // World::proved
constexpr std::array<std::uint64_t, 5> kProvedCalls{RVM_HC_PARTITION_CREATE, RVM_HC_COMMEDGE_CREATE,
                                                    RVM_HC_COMMEDGE_DESTROY, RVM_HC_DEVICE_LEASE_ACQUIRE,
                                                    RVM_HC_DEVICE_LEASE_REVOKE};

ObjectRef part_obj(PartitionId p) { return ObjectRef{RVM_OBJ_PARTITION, p.raw()}; }
ObjectRef region_obj(RegionId r) { return ObjectRef{RVM_OBJ_REGION, r.raw()}; }
ObjectRef edge_obj(EdgeId e) { return ObjectRef{RVM_OBJ_COMMEDGE, e.raw()}; }
ObjectRef device_obj(DeviceId d) { return ObjectRef{RVM_OBJ_DEVICE, d.raw()}; }
ObjectRef lease_obj(LeaseId l) { return ObjectRef{RVM_OBJ_DEVICE_LEASE, l.raw()}; }

// Handles that are not a live capability of the caller, given one that is.
std::vector<std::uint64_t> bad_handles(CapHandle live) {
    return {0,                                                                      // null
            CapHandle{live.index, 0}.raw(),                                         // generation 0 is never issued
            CapHandle{live.index, live.generation + 1}.raw(),                       // forged generation
            CapHandle{live.index, kMaxGeneration}.raw(),                            // forged generation
            CapHandle{static_cast<std::uint32_t>(kCapsPerPartition - 1), 1}.raw(),  // empty slot
            CapHandle{static_cast<std::uint32_t>(kCapsPerPartition), 1}.raw(),      // out of range
            CapHandle{0xffffffffu, 1}.raw(),                                        // out of range
            ~std::uint64_t{0}};
}

class SyscallTest : public ::testing::Test {
protected:
    void TearDown() override {
        EXPECT_TRUE(w.sync());
        EXPECT_TRUE(w.k().invariants_hold());
    }

    // The call must fail with (s, arg), change no nucleus state, and append
    // exactly one PROOF_REJECTED record if `witnessed`, none otherwise.
    ::testing::AssertionResult rejects(PartitionId caller, const SyscallFrame& f, rvm_status s, std::uint32_t arg,
                                       bool witnessed = false) {
        const auto before = std::make_unique<NucleusState>(w.st());
        const std::size_t n = w.records();
        const rvm_ret_t r = w.call(caller, f);
        if (status_of(r) != s || arg_of(r) != arg) {
            return ::testing::AssertionFailure() << "call 0x" << std::hex << f.nr << std::dec << " returned " << r
                                                 << " (" << status_name(status_of(r)) << ", arg " << arg_of(r)
                                                 << "), expected " << status_name(s) << ", arg " << arg;
        }
        if (!(*before == w.st())) return ::testing::AssertionFailure() << "the rejected call changed the nucleus state";
        const std::size_t want = witnessed ? 1u : 0u;
        if (w.records() - n != want) {
            return ::testing::AssertionFailure() << "appended " << (w.records() - n) << " record(s), expected " << want;
        }
        if (witnessed) {
            const WitnessRecord& rec = w.sink.records.back();
            if (rec.kind() != RVM_WK_PROOF_REJECTED || rec.subject() != caller.raw() || rec.aux() != f.nr ||
                (rec.flags() & 0xffu) != static_cast<std::uint32_t>(s)) {
                return ::testing::AssertionFailure()
                       << "bad rejection record: kind 0x" << std::hex << int{rec.kind()} << " flags 0x" << rec.flags();
            }
        }
        return ::testing::AssertionSuccess();
    }

    std::uint64_t succeeds(PartitionId caller, const SyscallFrame& f) {
        const rvm_ret_t r = w.call(caller, f);
        EXPECT_GE(r, 0) << "call 0x" << std::hex << f.nr << ": " << status_name(status_of(r)) << ", arg " << arg_of(r);
        return r >= 0 ? static_cast<std::uint64_t>(r) : 0;
    }

    // Every bad handle in argument `pos` (0-based) of an otherwise good frame
    // is RVM_E_BAD_HANDLE at that position.
    void expect_bad_handles(const SyscallFrame& good, std::size_t pos, CapHandle live, CapHandle stale) {
        std::vector<std::uint64_t> raws = bad_handles(live);
        raws.push_back(stale.raw());
        for (const std::uint64_t raw : raws) {
            SyscallFrame f = good;
            f.args[pos] = raw;
            EXPECT_TRUE(rejects(p, f, RVM_E_BAD_HANDLE, static_cast<std::uint32_t>(pos + 1)))
                << "handle 0x" << std::hex << raw;
        }
    }

    // A handle to a capability `holder` had to `o` and no longer has.
    CapHandle stale(PartitionId holder, ObjectRef o) {
        const auto c = w.k().grant(holder, o, Rights{RVM_RIGHT_READ | RVM_RIGHT_REVOKE});
        EXPECT_TRUE(c.ok());
        EXPECT_TRUE(w.k().revoke(holder, c.value(), true).ok());
        return c.value();
    }
    // A copy of `c` in `holder`'s own table with only `rights`.
    CapHandle attenuated(PartitionId holder, CapHandle c, std::uint32_t rights) {
        const auto d = w.k().derive(holder, c, holder, Rights{rights});
        EXPECT_TRUE(d.ok());
        return d.ok() ? d.value() : CapHandle{};
    }
    // A child of p, created by the host, and p's capability to it.
    PartitionId child(PartitionConfig cfg = {}) {
        const auto c = w.k().create_partition(p, cfg);
        EXPECT_TRUE(c.ok());
        return c.ok() ? c.value() : PartitionId{};
    }
    CapHandle cap(PartitionId holder, ObjectRef o) const { return w.cap_to(holder, o); }
    RegionId region(PartitionId owner, std::uint8_t policy = RVM_REGION_SLAB) {
        const auto r = w.k().create_region(owner, 1, policy, RVM_TIER_HOT);
        EXPECT_TRUE(r.ok());
        return r.ok() ? r.value() : RegionId{};
    }
    DeviceId device(std::uint64_t hw) {
        const auto d = w.k().register_device(hw);
        EXPECT_TRUE(d.ok());
        return d.ok() ? d.value() : DeviceId{};
    }
    void fill_table(PartitionId holder) {
        while (w.st().caps.count(holder.index) < kCapsPerPartition) {
            ASSERT_TRUE(w.k().grant(holder, part_obj(holder), Rights{RVM_RIGHT_READ}).ok());
        }
    }
    // Each token gets its own guest address, so frames kept for later keep
    // pointing at their own token.
    std::uint64_t next_gpa() { return gpa_ += 0x100; }
    SyscallFrame proved(std::uint64_t nr, std::array<std::uint64_t, 5> args, std::uint8_t tier = RVM_PROOF_STANDARD) {
        return w.proved(p, self, nr, args, tier, next_gpa());
    }
    // A token minted by the kernel directly (for tampering), written into the caller's memory.
    SyscallFrame with_token(PartitionId caller, std::uint64_t nr, std::array<std::uint64_t, 5> args,
                            const ProofToken& t) {
        const std::uint64_t gpa = next_gpa();
        w.memory.write(caller, gpa, &t.raw, sizeof t.raw);
        return SyscallFrame{nr, {args[0], args[1], args[2], args[3], args[4], gpa}};
    }
    ProofToken mint(PartitionId who, std::uint64_t nr, std::array<std::uint64_t, 5> args, std::uint64_t expiry,
                    std::uint8_t tier = RVM_PROOF_STANDARD) {
        const auto t = w.k().mint_proof(who, w.self_cap(who), tier, static_cast<std::uint32_t>(nr), args, expiry);
        EXPECT_TRUE(t.ok());
        return t.ok() ? t.value() : ProofToken{};
    }
    std::array<std::uint64_t, 5> create_args() const { return {self.raw(), 22, 0x0101, 0, 0}; }

    World w;
    PartitionId p = w.partition();
    CapHandle self = w.self_cap(p);
    std::uint64_t gpa_ = kProofGpa;
};

// --- dispatch table --------------------------------------------------------

TEST_F(SyscallTest, UnknownNumbersAreUnknownCalls) {
    for (const std::uint64_t nr :
         {std::uint64_t{RVM_HC_NUCLEUS_COUNT_}, std::uint64_t{25}, std::uint64_t{99}, std::uint64_t{0xff},
          std::uint64_t{0x101}, std::uint64_t{0x1000}, std::uint64_t{0x01000000}, std::uint64_t{0x01000005},
          std::uint64_t{0x100000000}, std::uint64_t{0x100000000} | RVM_HC_TASK_SPAWN,
          std::uint64_t{0x100000000} | RVM_HC_CAP_REVOKE, std::uint64_t{1} << 63, ~std::uint64_t{0}}) {
        EXPECT_TRUE(rejects(p, SyscallFrame{nr, {self.raw(), 0, 0, 0, 0, 0}}, RVM_E_UNKNOWN_CALL, 0))
            << "nr 0x" << std::hex << nr;
    }
}

TEST_F(SyscallTest, KnownButUnbuiltCallsAreNotSupported) {
    for (const std::uint64_t nr : {RVM_HC_QUEUE_SEND,
                                   RVM_HC_QUEUE_RECV,
                                   RVM_HC_TIMER_WAIT,
                                   RVM_HC_RVF_MOUNT,
                                   RVM_HC_ATTEST_EMIT,
                                   RVM_HC_VECTOR_GET,
                                   RVM_HC_VECTOR_PUT_PROVED,
                                   RVM_HC_GRAPH_APPLY_PROVED,
                                   RVM_HC_SENSOR_SUBSCRIBE,
                                   RVM_HC_PARTITION_SPLIT,
                                   RVM_HC_PARTITION_MERGE,
                                   RVM_HC_PARTITION_HIBERNATE,
                                   RVM_HC_PARTITION_RECONSTRUCT,
                                   RVM_HC_WITNESS_READ,
                                   RVM_HC_NOTIFY_SIGNAL,
                                   RVM_HC_NOTIFY_WAIT,
                                   RVM_HC_PSI_REGISTER,
                                   RVM_HC_PSI_UPDATE,
                                   RVM_HC_PSI_QUERY,
                                   RVM_HC_PSI_HIBERNATE}) {
        // Refused before the arguments are looked at: garbage is fine, and a
        // missing or bogus proof pointer is not what the caller hears about.
        const std::uint64_t junk = ~std::uint64_t{0};
        EXPECT_TRUE(rejects(p, SyscallFrame{nr, {junk, junk, junk, junk, junk, junk}}, RVM_E_NOT_SUPPORTED, 0))
            << "nr 0x" << std::hex << nr;
        EXPECT_TRUE(rejects(p, SyscallFrame{nr, {self.raw(), 0, 0, 0, 0, 0}}, RVM_E_NOT_SUPPORTED, 0))
            << "nr 0x" << std::hex << nr;
    }
}

TEST_F(SyscallTest, CallsFromANonActiveCallerAreRefusedAndConsumeNothing) {
    const PartitionId c = child();
    const CapHandle cc = cap(p, part_obj(c));
    const RegionId r = region(p);
    const CapHandle rc = cap(p, region_obj(r));
    const CapHandle revocable = attenuated(p, rc, RVM_RIGHT_READ | RVM_RIGHT_REVOKE);
    const auto e = w.k().create_edge(p, c);
    ASSERT_TRUE(e.ok());
    const DeviceId d = device(0x11);
    const auto dc = w.k().grant(p, device_obj(d), Rights{RVM_RIGHT_LEASE});
    ASSERT_TRUE(dc.ok());
    const auto l = w.k().acquire_lease(p, device(0x12), 1'000'000);
    ASSERT_TRUE(l.ok());

    std::vector<SyscallFrame> frames{
        SyscallFrame{RVM_HC_TASK_SPAWN, {self.raw(), 0, 0, 0, 0, 0}},
        SyscallFrame{RVM_HC_CAP_GRANT, {rc.raw(), cc.raw(), RVM_RIGHT_READ, 0, 0, 0}},
        SyscallFrame{RVM_HC_REGION_MAP, {self.raw(), kPageSize, RVM_REGION_SLAB, 0, 0, 0}},
        SyscallFrame{RVM_HC_CAP_REVOKE, {revocable.raw(), 1, 0, 0, 0, 0}},
        proved(RVM_HC_PARTITION_CREATE, create_args()),
        proved(RVM_HC_COMMEDGE_CREATE, {cc.raw(), 0, 0, 0, 0}),
        proved(RVM_HC_COMMEDGE_DESTROY, {cap(p, edge_obj(e.value())).raw(), 0, 0, 0, 0}),
        proved(RVM_HC_DEVICE_LEASE_ACQUIRE, {dc.value().raw(), 1000, 0, 0, 0}),
        proved(RVM_HC_DEVICE_LEASE_REVOKE, {cap(p, lease_obj(l.value())).raw(), 0, 0, 0, 0}),
    };
    for (const PartitionState s : {PartitionState::Suspended, PartitionState::Warm, PartitionState::Dormant}) {
        ASSERT_TRUE(w.k().set_partition_state(p, s).ok());
        for (const SyscallFrame& f : frames) EXPECT_TRUE(rejects(p, f, RVM_E_STATE, 0)) << "nr " << f.nr;
    }
    ASSERT_TRUE(w.k().set_partition_state(p, PartitionState::Warm).ok());
    ASSERT_TRUE(w.k().set_partition_state(p, PartitionState::Suspended).ok());
    ASSERT_TRUE(w.k().set_partition_state(p, PartitionState::Active).ok());
    // Back to Active, the very same frames (and proof tokens) work.
    for (const SyscallFrame& f : frames) {
        SCOPED_TRACE(f.nr);
        succeeds(p, f);
    }
    EXPECT_TRUE(w.sync());

    // Failed and destroyed callers.
    ASSERT_TRUE(w.k().set_partition_state(c, PartitionState::Failed).ok());
    EXPECT_TRUE(rejects(c, SyscallFrame{RVM_HC_TASK_SPAWN, {w.self_cap(c).raw(), 0, 0, 0, 0, 0}}, RVM_E_STATE, 0));
    ASSERT_TRUE(w.k().destroy_partition(c).ok());
    EXPECT_TRUE(rejects(c, SyscallFrame{RVM_HC_TASK_SPAWN, {w.self_cap(c).raw(), 0, 0, 0, 0, 0}}, RVM_E_STATE, 0));
    EXPECT_TRUE(rejects(PartitionId{}, SyscallFrame{RVM_HC_TASK_SPAWN, {self.raw(), 0, 0, 0, 0, 0}}, RVM_E_STATE, 0));
}

// --- task_spawn (0) --------------------------------------------------------

TEST_F(SyscallTest, TaskSpawnReturnsAWorkingTaskCapability) {
    const std::size_t n = w.records();
    const std::uint64_t h = succeeds(p, SyscallFrame{RVM_HC_TASK_SPAWN, {self.raw(), 0, 0, 0, 0, 0}});
    const auto c = w.st().caps.lookup(p.index, CapHandle::from_raw(h), RVM_OBJ_TASK, Rights::all());
    ASSERT_TRUE(c.ok());
    EXPECT_EQ(c.value().depth, 0u);
    const Task* task = w.st().tasks.get(TaskId::from_raw(c.value().object.id));
    ASSERT_NE(task, nullptr);
    EXPECT_EQ(task->partition, p);
    EXPECT_EQ(task->state, TaskState::Initializing);
    ASSERT_EQ(w.records(), n + 1);
    EXPECT_EQ(w.sink.records.back().kind(), std::uint8_t{RVM_WK_TASK_SPAWN});
    // The handle works through the ABI: derive a read-only copy of it.
    const std::uint64_t copy = succeeds(p, SyscallFrame{RVM_HC_CAP_GRANT, {h, self.raw(), RVM_RIGHT_READ, 0, 0, 0}});
    const auto cc = w.st().caps.lookup(p.index, CapHandle::from_raw(copy), RVM_OBJ_TASK, Rights{RVM_RIGHT_READ});
    ASSERT_TRUE(cc.ok());
    EXPECT_EQ(cc.value().object, c.value().object);
    EXPECT_EQ(cc.value().rights.bits, RVM_RIGHT_READ);
}

TEST_F(SyscallTest, TaskSpawnIntoAnotherPartitionIsRefused) {
    // Tasks are spawned in the caller's own partition only: the capability
    // that comes back must be one the caller can use.
    const PartitionId c = child();
    EXPECT_TRUE(
        rejects(p, SyscallFrame{RVM_HC_TASK_SPAWN, {cap(p, part_obj(c)).raw(), 0, 0, 0, 0, 0}}, RVM_E_INVALID, 1));
    EXPECT_EQ(w.k().partition(c)->tasks, 0u);
}

TEST_F(SyscallTest, TaskSpawnRejections) {
    const SyscallFrame good{RVM_HC_TASK_SPAWN, {self.raw(), 0, 0, 0, 0, 0}};
    expect_bad_handles(good, 0, self, stale(p, part_obj(p)));
    const RegionId r = region(p);
    EXPECT_TRUE(
        rejects(p, SyscallFrame{RVM_HC_TASK_SPAWN, {cap(p, region_obj(r)).raw(), 0, 0, 0, 0, 0}}, RVM_E_WRONG_TYPE, 1));
    for (const std::uint32_t missing : {RVM_RIGHT_WRITE, RVM_RIGHT_EXECUTE}) {
        const CapHandle weak = attenuated(p, self, RVM_RIGHTS_ALL & ~missing);
        EXPECT_TRUE(rejects(p, SyscallFrame{RVM_HC_TASK_SPAWN, {weak.raw(), 0, 0, 0, 0, 0}}, RVM_E_RIGHTS, 1));
    }
    // Quota: a child with max_tasks = 1 spawns once, then is refused.
    const PartitionId c = child(PartitionConfig{30, 1, 1, 0});
    const SyscallFrame in_child{RVM_HC_TASK_SPAWN, {cap(c, part_obj(c)).raw(), 0, 0, 0, 0, 0}};
    succeeds(c, in_child);
    EXPECT_TRUE(rejects(c, in_child, RVM_E_POLICY, 0));
}

// --- cap_grant (1) ---------------------------------------------------------

TEST_F(SyscallTest, CapGrantDerivesIntoTheTargetAndTheTargetCanUseIt) {
    const PartitionId c = child();
    const RegionId r = region(p);
    const CapHandle rc = cap(p, region_obj(r));
    const std::uint32_t rights = RVM_RIGHT_READ | RVM_RIGHT_GRANT | RVM_RIGHT_REVOKE;
    const std::size_t n = w.records();
    const std::uint64_t h =
        succeeds(p, SyscallFrame{RVM_HC_CAP_GRANT, {rc.raw(), cap(p, part_obj(c)).raw(), rights, 0, 0, 0}});
    // The handle is the target's: it names the region in c's table.
    const auto got = w.st().caps.lookup(c.index, CapHandle::from_raw(h), RVM_OBJ_REGION, Rights{rights});
    ASSERT_TRUE(got.ok());
    EXPECT_EQ(got.value().rights.bits, rights);
    EXPECT_EQ(got.value().depth, 1u);
    EXPECT_EQ(got.value().object, region_obj(r));
    ASSERT_EQ(w.records(), n + 1);
    EXPECT_EQ(w.sink.records.back().kind(), std::uint8_t{RVM_WK_CAP_DELEGATE});
    // c uses it: delegates further within its table, then revokes it.
    const std::uint64_t again =
        succeeds(c, SyscallFrame{RVM_HC_CAP_GRANT, {h, w.self_cap(c).raw(), RVM_RIGHT_READ, 0, 0, 0}});
    EXPECT_TRUE(w.st().caps.lookup(c.index, CapHandle::from_raw(again), RVM_OBJ_REGION, Rights{RVM_RIGHT_READ}).ok());
    EXPECT_EQ(succeeds(c, SyscallFrame{RVM_HC_CAP_REVOKE, {h, 1, 0, 0, 0, 0}}), 2u);
    EXPECT_FALSE(w.st().caps.holds(c.index, region_obj(r), Rights{}));
}

TEST_F(SyscallTest, CapGrantRejections) {
    const PartitionId c = child();
    const CapHandle cc = cap(p, part_obj(c));
    const RegionId r = region(p);
    const CapHandle rc = cap(p, region_obj(r));
    const SyscallFrame good{RVM_HC_CAP_GRANT, {rc.raw(), cc.raw(), RVM_RIGHT_READ, 0, 0, 0}};
    expect_bad_handles(good, 0, rc, stale(p, region_obj(r)));
    expect_bad_handles(good, 1, cc, stale(p, part_obj(c)));
    // The target must be a partition capability with WRITE.
    EXPECT_TRUE(
        rejects(p, SyscallFrame{RVM_HC_CAP_GRANT, {rc.raw(), rc.raw(), RVM_RIGHT_READ, 0, 0, 0}}, RVM_E_WRONG_TYPE, 2));
    const CapHandle ro = attenuated(p, cc, RVM_RIGHTS_ALL & ~RVM_RIGHT_WRITE);
    EXPECT_TRUE(
        rejects(p, SyscallFrame{RVM_HC_CAP_GRANT, {rc.raw(), ro.raw(), RVM_RIGHT_READ, 0, 0, 0}}, RVM_E_RIGHTS, 2));
    // Reserved rights bits.
    for (const std::uint64_t bad :
         {std::uint64_t{1} << 13, std::uint64_t{1} << 31, (std::uint64_t{1} << 32) | 1u, ~std::uint64_t{0}}) {
        EXPECT_TRUE(rejects(p, SyscallFrame{RVM_HC_CAP_GRANT, {rc.raw(), cc.raw(), bad, 0, 0, 0}}, RVM_E_INVALID, 3))
            << std::hex << bad;
    }
    // The target's table is full.
    fill_table(c);
    EXPECT_TRUE(rejects(p, good, RVM_E_EXHAUSTED, 0));
}

TEST_F(SyscallTest, CapGrantBlamesTheArgumentAtFault) {
    const PartitionId c = child();
    const CapHandle cc = cap(p, part_obj(c));
    const RegionId r = region(p);
    const CapHandle rc = cap(p, region_obj(r));
    // The source capability (argument 1) has neither GRANT nor GRANT_ONCE.
    const CapHandle no_grant = attenuated(p, rc, RVM_RIGHT_READ | RVM_RIGHT_WRITE);
    EXPECT_TRUE(rejects(p, SyscallFrame{RVM_HC_CAP_GRANT, {no_grant.raw(), cc.raw(), RVM_RIGHT_READ, 0, 0, 0}},
                        RVM_E_RIGHTS, 1));
    // GRANT_ONCE is spent by the first grant.
    const CapHandle once = attenuated(p, rc, RVM_RIGHT_READ | RVM_RIGHT_GRANT_ONCE);
    succeeds(p, SyscallFrame{RVM_HC_CAP_GRANT, {once.raw(), cc.raw(), RVM_RIGHT_READ, 0, 0, 0}});
    EXPECT_TRUE(
        rejects(p, SyscallFrame{RVM_HC_CAP_GRANT, {once.raw(), cc.raw(), RVM_RIGHT_READ, 0, 0, 0}}, RVM_E_RIGHTS, 1));
    // The requested rights (argument 3) exceed the source's.
    const CapHandle weak = attenuated(p, rc, RVM_RIGHT_READ | RVM_RIGHT_GRANT);
    EXPECT_TRUE(
        rejects(p, SyscallFrame{RVM_HC_CAP_GRANT, {weak.raw(), cc.raw(), RVM_RIGHT_READ | RVM_RIGHT_WRITE, 0, 0, 0}},
                RVM_E_RIGHTS, 3));
    // The source (argument 1) is already at the maximum derivation depth.
    CapHandle deep = rc;
    for (std::uint32_t i = 0; i < RVM_CAP_MAX_DEPTH; ++i) deep = attenuated(p, deep, RVM_RIGHTS_ALL);
    EXPECT_TRUE(
        rejects(p, SyscallFrame{RVM_HC_CAP_GRANT, {deep.raw(), cc.raw(), RVM_RIGHT_READ, 0, 0, 0}}, RVM_E_DEPTH, 1));
}

// --- cap_revoke (0x100) ----------------------------------------------------

TEST_F(SyscallTest, CapRevokeRemovesTheSubtreeAndOptionallyItself) {
    const PartitionId c = child();
    const RegionId r = region(p);
    const CapHandle rc = cap(p, region_obj(r));
    const CapHandle c1 = attenuated(p, rc, RVM_RIGHT_READ | RVM_RIGHT_GRANT | RVM_RIGHT_REVOKE);
    const auto c2 = w.k().derive(p, c1, c, Rights{RVM_RIGHT_READ});
    ASSERT_TRUE(c2.ok());
    const CapHandle c3 = attenuated(p, c1, RVM_RIGHT_READ);

    std::size_t n = w.records();
    EXPECT_EQ(succeeds(p, SyscallFrame{RVM_HC_CAP_REVOKE, {c1.raw(), 0, 0, 0, 0, 0}}), 2u);
    ASSERT_EQ(w.records(), n + 1);
    EXPECT_EQ(w.sink.records.back().kind(), std::uint8_t{RVM_WK_CAP_REVOKE});
    EXPECT_EQ(w.sink.records.back().aux(), 2u);
    EXPECT_TRUE(w.st().caps.lookup(p.index, c1, RVM_OBJ_REGION, Rights{RVM_RIGHT_REVOKE}).ok());
    EXPECT_FALSE(w.st().caps.lookup(c.index, c2.value(), RVM_OBJ_TYPE_COUNT_, Rights{}).ok());
    EXPECT_FALSE(w.st().caps.lookup(p.index, c3, RVM_OBJ_TYPE_COUNT_, Rights{}).ok());

    n = w.records();
    EXPECT_EQ(succeeds(p, SyscallFrame{RVM_HC_CAP_REVOKE, {c1.raw(), 1, 0, 0, 0, 0}}), 1u);
    EXPECT_EQ(w.sink.records.back().flags(), 1u << 8);
    EXPECT_FALSE(w.st().caps.lookup(p.index, c1, RVM_OBJ_TYPE_COUNT_, Rights{}).ok());
    EXPECT_TRUE(rejects(p, SyscallFrame{RVM_HC_CAP_REVOKE, {c1.raw(), 1, 0, 0, 0, 0}}, RVM_E_BAD_HANDLE, 1));
    // The root survives; the region is still owned and usable.
    EXPECT_TRUE(w.st().caps.lookup(p.index, rc, RVM_OBJ_REGION, Rights::all()).ok());
}

TEST_F(SyscallTest, CapRevokeRejections) {
    const RegionId r = region(p);
    const CapHandle rc = cap(p, region_obj(r));
    const SyscallFrame good{RVM_HC_CAP_REVOKE, {rc.raw(), 0, 0, 0, 0, 0}};
    expect_bad_handles(good, 0, rc, stale(p, region_obj(r)));
    const CapHandle no_revoke = attenuated(p, rc, RVM_RIGHTS_ALL & ~RVM_RIGHT_REVOKE);
    EXPECT_TRUE(rejects(p, SyscallFrame{RVM_HC_CAP_REVOKE, {no_revoke.raw(), 0, 0, 0, 0, 0}}, RVM_E_RIGHTS, 1));
    for (const std::uint64_t bad : {std::uint64_t{2}, std::uint64_t{3}, std::uint64_t{1} << 63}) {
        EXPECT_TRUE(rejects(p, SyscallFrame{RVM_HC_CAP_REVOKE, {rc.raw(), bad, 0, 0, 0, 0}}, RVM_E_INVALID, 2))
            << std::hex << bad;
    }
}

// --- region_map (2) --------------------------------------------------------

TEST_F(SyscallTest, RegionMapReturnsTheOwnersCapability) {
    const std::size_t n = w.records();
    const std::uint64_t h =
        succeeds(p, SyscallFrame{RVM_HC_REGION_MAP, {self.raw(), 3 * kPageSize, RVM_REGION_IMMUTABLE, 0, 0, 0}});
    const auto c = w.st().caps.lookup(p.index, CapHandle::from_raw(h), RVM_OBJ_REGION, Rights{});
    ASSERT_TRUE(c.ok());
    EXPECT_EQ(c.value().rights.bits, kAllButWrite);
    EXPECT_EQ(c.value().depth, 0u);
    const Region* reg = w.st().regions.get(RegionId::from_raw(c.value().object.id));
    ASSERT_NE(reg, nullptr);
    EXPECT_EQ(reg->owner, p);
    EXPECT_EQ(reg->pages, 3u);
    EXPECT_EQ(reg->policy, RVM_REGION_IMMUTABLE);
    EXPECT_EQ(reg->tier, RVM_TIER_HOT);
    ASSERT_EQ(w.records(), n + 1);
    EXPECT_EQ(w.sink.records.back().kind(), std::uint8_t{RVM_WK_REGION_CREATE});
    // Slab and AppendOnly owners get every right.
    for (const std::uint64_t policy : {std::uint64_t{RVM_REGION_APPEND_ONLY}, std::uint64_t{RVM_REGION_SLAB}}) {
        const std::uint64_t s = succeeds(p, SyscallFrame{RVM_HC_REGION_MAP, {self.raw(), kPageSize, policy, 0, 0, 0}});
        const auto sc = w.st().caps.lookup(p.index, CapHandle::from_raw(s), RVM_OBJ_REGION, Rights::all());
        EXPECT_TRUE(sc.ok());
    }
    // The handle works: grant a read-only copy to a child.
    const PartitionId ch = child();
    const std::uint64_t g =
        succeeds(p, SyscallFrame{RVM_HC_CAP_GRANT, {h, cap(p, part_obj(ch)).raw(), RVM_RIGHT_READ, 0, 0, 0}});
    EXPECT_TRUE(w.st().caps.lookup(ch.index, CapHandle::from_raw(g), RVM_OBJ_REGION, Rights{RVM_RIGHT_READ}).ok());
}

TEST_F(SyscallTest, RegionMapRejections) {
    const SyscallFrame good{RVM_HC_REGION_MAP, {self.raw(), kPageSize, RVM_REGION_SLAB, 0, 0, 0}};
    expect_bad_handles(good, 0, self, stale(p, part_obj(p)));
    const RegionId r = region(p);
    EXPECT_TRUE(rejects(p, SyscallFrame{RVM_HC_REGION_MAP, {cap(p, region_obj(r)).raw(), kPageSize, 0, 0, 0, 0}},
                        RVM_E_WRONG_TYPE, 1));
    const CapHandle ro = attenuated(p, self, RVM_RIGHTS_ALL & ~RVM_RIGHT_WRITE);
    EXPECT_TRUE(rejects(p, SyscallFrame{RVM_HC_REGION_MAP, {ro.raw(), kPageSize, 0, 0, 0, 0}}, RVM_E_RIGHTS, 1));
    for (const std::uint64_t bytes :
         {std::uint64_t{0}, std::uint64_t{1}, kPageSize - 1, kPageSize + 1, ~std::uint64_t{0}}) {
        EXPECT_TRUE(rejects(p, SyscallFrame{RVM_HC_REGION_MAP, {self.raw(), bytes, 0, 0, 0, 0}}, RVM_E_INVALID, 2))
            << bytes;
    }
    for (const std::uint64_t policy : {std::uint64_t{3}, std::uint64_t{0xff}, std::uint64_t{1} << 32}) {
        EXPECT_TRUE(
            rejects(p, SyscallFrame{RVM_HC_REGION_MAP, {self.raw(), kPageSize, policy, 0, 0, 0}}, RVM_E_INVALID, 3))
            << policy;
    }
    // Quotas and space (perform-time: no single argument to blame).
    const PartitionId few = w.partition(PartitionConfig{30, 1, 1, 0});
    const SyscallFrame one{RVM_HC_REGION_MAP, {w.self_cap(few).raw(), kPageSize, 0, 0, 0, 0}};
    succeeds(few, one);
    EXPECT_TRUE(rejects(few, one, RVM_E_POLICY, 0));
    const PartitionId quota = w.partition(PartitionConfig{30, 1, 4, 4});
    EXPECT_TRUE(rejects(quota, SyscallFrame{RVM_HC_REGION_MAP, {w.self_cap(quota).raw(), 5 * kPageSize, 0, 0, 0, 0}},
                        RVM_E_POLICY, 0));
    EXPECT_TRUE(rejects(p, SyscallFrame{RVM_HC_REGION_MAP, {self.raw(), std::uint64_t{1} << 31, 0, 0, 0, 0}},
                        RVM_E_NO_MEMORY, 0));
}

TEST_F(SyscallTest, RegionMapBlamesAnOversizedLength) {
    const std::uint64_t too_big = (std::uint64_t{1} << BuddyAllocator::kMaxSpaceShift) + kPageSize;
    EXPECT_TRUE(rejects(p, SyscallFrame{RVM_HC_REGION_MAP, {self.raw(), too_big, 0, 0, 0, 0}}, RVM_E_INVALID, 2));
    EXPECT_TRUE(rejects(p, SyscallFrame{RVM_HC_REGION_MAP, {self.raw(), std::uint64_t{1} << 63, 0, 0, 0, 0}},
                        RVM_E_INVALID, 2));
}

TEST_F(SyscallTest, RejectedAllocationsWithAFullTableLeaveNoTrace) {
    fill_table(p);
    EXPECT_TRUE(rejects(p, SyscallFrame{RVM_HC_TASK_SPAWN, {self.raw(), 0, 0, 0, 0, 0}}, RVM_E_EXHAUSTED, 0));
    EXPECT_TRUE(rejects(p, SyscallFrame{RVM_HC_REGION_MAP, {self.raw(), kPageSize, 0, 0, 0, 0}}, RVM_E_EXHAUSTED, 0));
    EXPECT_TRUE(rejects(p, proved(RVM_HC_PARTITION_CREATE, create_args()), RVM_E_EXHAUSTED, 0));
}

// --- partition_create (12) -------------------------------------------------

TEST_F(SyscallTest, PartitionCreateReturnsAWorkingCapabilityToTheChild) {
    const std::array<std::uint64_t, 5> args{self.raw(), 22, 0x0302, 100, 0};
    const SyscallFrame f = proved(RVM_HC_PARTITION_CREATE, args);
    const std::size_t n = w.records();
    const std::uint64_t h = succeeds(p, f);
    const auto c = w.st().caps.lookup(p.index, CapHandle::from_raw(h), RVM_OBJ_PARTITION, Rights::all());
    ASSERT_TRUE(c.ok());
    EXPECT_EQ(c.value().depth, 0u);
    const PartitionId kid = PartitionId::from_raw(c.value().object.id);
    const Partition* part = w.k().partition(kid);
    ASSERT_NE(part, nullptr);
    EXPECT_EQ(part->state, PartitionState::Active);
    EXPECT_EQ(part->parent, p);
    EXPECT_EQ(part->config, (PartitionConfig{22, 2, 3, 100}));
    EXPECT_TRUE(w.st().caps.holds(kid.index, part_obj(kid), Rights::all()));
    // The operation's record, then the proof's.
    ASSERT_EQ(w.records(), n + 2);
    EXPECT_EQ(w.sink.records[n].kind(), std::uint8_t{RVM_WK_PARTITION_CREATE});
    EXPECT_EQ(w.sink.records[n + 1].kind(), std::uint8_t{RVM_WK_PROOF_VERIFIED});
    EXPECT_EQ(w.sink.records[n + 1].subject(), p.raw());
    EXPECT_EQ(w.sink.records[n + 1].proof_tier(), std::uint8_t{RVM_PROOF_STANDARD});
    // The handle works: the parent can hand the child a capability.
    succeeds(p, SyscallFrame{RVM_HC_CAP_GRANT, {self.raw(), h, RVM_RIGHT_READ, 0, 0, 0}});
    EXPECT_EQ(w.st().caps.count(kid.index), 2u);
}

TEST_F(SyscallTest, PartitionCreateRejectsBadArguments) {
    const PartitionId c = child();
    const RegionId r = region(p);
    const SyscallFrame good = proved(RVM_HC_PARTITION_CREATE, create_args());
    expect_bad_handles(good, 0, self, stale(p, part_obj(p)));
    const auto with = [&](std::size_t i, std::uint64_t v) {
        std::array<std::uint64_t, 5> a = create_args();
        a[i] = v;
        return proved(RVM_HC_PARTITION_CREATE, a);
    };
    EXPECT_TRUE(rejects(p, with(0, cap(p, part_obj(c)).raw()), RVM_E_INVALID, 1));  // not the caller itself
    EXPECT_TRUE(rejects(p, with(0, cap(p, region_obj(r)).raw()), RVM_E_WRONG_TYPE, 1));
    for (const std::uint32_t missing : {RVM_RIGHT_WRITE, RVM_RIGHT_GRANT}) {
        EXPECT_TRUE(rejects(p, with(0, attenuated(p, self, RVM_RIGHTS_ALL & ~missing).raw()), RVM_E_RIGHTS, 1));
    }
    for (const std::uint64_t shift :
         {std::uint64_t{0}, std::uint64_t{20}, std::uint64_t{41}, (std::uint64_t{1} << 32) | 22u}) {
        EXPECT_TRUE(rejects(p, with(1, shift), RVM_E_INVALID, 2)) << shift;
    }
    for (const std::uint64_t quotas : {std::uint64_t{0}, std::uint64_t{0x00ff}, std::uint64_t{0xff00},
                                       std::uint64_t{0x10101}, std::uint64_t{1} << 40}) {
        EXPECT_TRUE(rejects(p, with(2, quotas), RVM_E_INVALID, 3)) << std::hex << quotas;
    }
    EXPECT_TRUE(rejects(p, with(3, std::uint64_t{1} << 40), RVM_E_INVALID, 4));
    EXPECT_TRUE(rejects(p, with(3, ~std::uint64_t{0}), RVM_E_INVALID, 4));
    // The extremes that are allowed.
    succeeds(p, with(1, 21));
    succeeds(p, with(1, 40));
    succeeds(p, with(2, 0xffff));
    succeeds(p, with(3, (std::uint64_t{1} << 40) - 1));
}

// --- proofs (on partition_create, a Standard call) ---------------------------

TEST_F(SyscallTest, EveryProvedCallRequiresAReadableToken) {
    const PartitionId c = child();
    const auto e = w.k().create_edge(p, c);
    ASSERT_TRUE(e.ok());
    const DeviceId d = device(0x20);
    const auto dc = w.k().grant(p, device_obj(d), Rights{RVM_RIGHT_LEASE});
    ASSERT_TRUE(dc.ok());
    const auto l = w.k().acquire_lease(p, device(0x21), 1'000'000);
    ASSERT_TRUE(l.ok());
    const std::array<std::array<std::uint64_t, 5>, 5> args{{
        create_args(),
        {cap(p, part_obj(c)).raw(), 0, 0, 0, 0},
        {cap(p, edge_obj(e.value())).raw(), 0, 0, 0, 0},
        {dc.value().raw(), 1000, 0, 0, 0},
        {cap(p, lease_obj(l.value())).raw(), 0, 0, 0, 0},
    }};
    for (std::size_t i = 0; i < kProvedCalls.size(); ++i) {
        const std::uint64_t nr = kProvedCalls[i];
        SCOPED_TRACE(nr);
        const auto& a = args[i];
        EXPECT_EQ(required_proof_tier(nr), std::uint8_t{RVM_PROOF_STANDARD});
        // r9 = 0: no proof.
        EXPECT_TRUE(rejects(p, SyscallFrame{nr, {a[0], a[1], a[2], a[3], a[4], 0}}, RVM_E_PROOF_MISSING, 6));
        // r9 not in guest memory, or the token runs past it.
        SyscallFrame f = proved(nr, a);
        const std::uint64_t at = f.args[5];
        for (const std::uint64_t bad : {kUnmapped, at + 8, at - 8, ~std::uint64_t{0} - 8}) {
            f.args[5] = bad;
            EXPECT_TRUE(rejects(p, f, RVM_E_FAULT, 6)) << std::hex << bad;
        }
        // A token minted for another proved call with the same arguments.
        SyscallFrame other = proved(kProvedCalls[(i + 1) % kProvedCalls.size()], a);
        other.nr = nr;
        EXPECT_TRUE(rejects(p, other, RVM_E_PROOF_FORGED, 6, true));
    }
    // The calls that need no proof ignore r9.
    for (const std::uint64_t nr : {RVM_HC_TASK_SPAWN, RVM_HC_CAP_GRANT, RVM_HC_REGION_MAP, RVM_HC_CAP_REVOKE}) {
        EXPECT_EQ(required_proof_tier(nr), std::uint8_t{RVM_PROOF_NONE});
    }
    succeeds(p, SyscallFrame{RVM_HC_TASK_SPAWN, {self.raw(), 0, 0, 0, 0, kUnmapped}});
}

TEST_F(SyscallTest, ForgedTokensAreRejectedAndWitnessed) {
    const auto a = create_args();
    const std::uint64_t expiry = w.clock.now_ns() + kTokenLifetime;
    // Bound to other (still well-formed) arguments, including the unused argument 5.
    const CapHandle other_self = attenuated(p, self, RVM_RIGHTS_ALL);
    const std::array<std::uint64_t, 5> changed{other_self.raw(), 23, 0x0202, 5, 1};
    for (std::size_t i = 0; i < 5; ++i) {
        SyscallFrame f = proved(RVM_HC_PARTITION_CREATE, a);
        f.args[i] = changed[i];
        EXPECT_TRUE(rejects(p, f, RVM_E_PROOF_FORGED, 6, true)) << "argument " << i + 1;
    }
    // Minted for another partition.
    const PartitionId q = w.partition();
    EXPECT_TRUE(rejects(p, with_token(p, RVM_HC_PARTITION_CREATE, a, mint(q, RVM_HC_PARTITION_CREATE, a, expiry)),
                        RVM_E_PROOF_FORGED, 6, true));
    // Tampered fields: every byte the MAC covers, and the MAC itself.
    const ProofToken good = mint(p, RVM_HC_PARTITION_CREATE, a, expiry);
    std::vector<ProofToken> bad(8, good);
    bad[0].raw.nonce += 1;
    bad[1].raw.expiry_ns += 1;
    bad[2].raw.cap ^= std::uint64_t{1} << 32;
    bad[3].raw.call = RVM_HC_COMMEDGE_CREATE;
    bad[4].raw.tier = RVM_PROOF_DEEP;
    bad[5].raw.tier = RVM_PROOF_NONE;
    bad[6].raw.reserved[1] = 1;
    bad[7].raw.mac ^= 1;
    for (std::size_t i = 0; i < bad.size(); ++i) {
        EXPECT_TRUE(rejects(p, with_token(p, RVM_HC_PARTITION_CREATE, a, bad[i]), RVM_E_PROOF_FORGED, 6, true))
            << "tamper " << i;
    }
    // The genuine token still works afterwards: rejections consumed nothing.
    succeeds(p, with_token(p, RVM_HC_PARTITION_CREATE, a, good));
}

TEST_F(SyscallTest, ATokenOfAPartitionWhoseSlotWasReusedIsForged) {
    const PartitionId old = w.partition();
    const std::array<std::uint64_t, 5> old_args{w.self_cap(old).raw(), 22, 0x0101, 0, 0};
    const ProofToken t = mint(old, RVM_HC_PARTITION_CREATE, old_args, w.clock.now_ns() + kTokenLifetime);
    ASSERT_TRUE(w.k().destroy_partition(old).ok());
    const PartitionId reused = w.partition();
    ASSERT_EQ(reused.index, old.index);
    ASSERT_NE(reused.generation, old.generation);
    // The MAC binds the whole partition handle, generation included.
    const std::array<std::uint64_t, 5> args{w.self_cap(reused).raw(), 22, 0x0101, 0, 0};
    EXPECT_TRUE(rejects(reused, with_token(reused, RVM_HC_PARTITION_CREATE, args, t), RVM_E_PROOF_FORGED, 6, true));
    // With the arguments it was minted for, the old self handle is stale first.
    EXPECT_TRUE(rejects(reused, with_token(reused, RVM_HC_PARTITION_CREATE, old_args, t), RVM_E_BAD_HANDLE, 1));
}

TEST_F(SyscallTest, AConsumedTokenIsReplayed) {
    const SyscallFrame f = proved(RVM_HC_PARTITION_CREATE, create_args());
    succeeds(p, f);
    EXPECT_TRUE(rejects(p, f, RVM_E_PROOF_REPLAYED, 6, true));
    EXPECT_TRUE(rejects(p, f, RVM_E_PROOF_REPLAYED, 6, true));
}

TEST_F(SyscallTest, ExpiredTokensAreStaleAtTheBoundaryPlusOne) {
    const SyscallFrame late = proved(RVM_HC_PARTITION_CREATE, create_args());
    const SyscallFrame exact = proved(RVM_HC_PARTITION_CREATE, create_args());
    w.clock.advance(kTokenLifetime);  // now == expiry: still valid
    succeeds(p, exact);
    w.clock.advance(1);
    EXPECT_TRUE(rejects(p, late, RVM_E_PROOF_STALE, 6, true));
    // A Standard call needs an expiry at all.
    const auto a = create_args();
    EXPECT_TRUE(rejects(p, with_token(p, RVM_HC_PARTITION_CREATE, a, mint(p, RVM_HC_PARTITION_CREATE, a, 0)),
                        RVM_E_PROOF_STALE, 6, true));
}

TEST_F(SyscallTest, TokensOnARevokedCapabilityAreStale) {
    const CapHandle prover = attenuated(p, self, RVM_RIGHT_PROVE | RVM_RIGHT_REVOKE);
    const SyscallFrame f = w.proved(p, prover, RVM_HC_PARTITION_CREATE, create_args());
    ASSERT_TRUE(w.k().revoke(p, prover, true).ok());
    EXPECT_TRUE(rejects(p, f, RVM_E_PROOF_STALE, 6, true));
}

TEST_F(SyscallTest, TokensThatFellOutOfTheNonceWindowAreStale) {
    const SyscallFrame old = proved(RVM_HC_PARTITION_CREATE, create_args());
    for (int i = 0; i < 63; ++i) (void)mint(p, RVM_HC_PARTITION_CREATE, create_args(), w.clock.now_ns() + 1000);
    // The 64th token after `old` is consumed: `old` is now 64 behind.
    succeeds(p, proved(RVM_HC_PARTITION_CREATE, {self.raw(), 21, 0x0101, 0, 0}));
    EXPECT_TRUE(rejects(p, old, RVM_E_PROOF_STALE, 6, true));
}

TEST_F(SyscallTest, TokenLifetimeIsBoundedByPolicy) {
    const auto a = create_args();
    const std::uint64_t max = w.k().proofs().policy().max_lifetime_ns;
    const ProofToken too_long = mint(p, RVM_HC_PARTITION_CREATE, a, w.clock.now_ns() + max + 1);
    EXPECT_TRUE(rejects(p, with_token(p, RVM_HC_PARTITION_CREATE, a, too_long), RVM_E_POLICY, 6, true));
    const ProofToken longest = mint(p, RVM_HC_PARTITION_CREATE, a, w.clock.now_ns() + max);
    succeeds(p, with_token(p, RVM_HC_PARTITION_CREATE, a, longest));
}

TEST_F(SyscallTest, ReflexTokensAreEscalatedAndDeepTokensAccepted) {
    const SyscallFrame reflex = proved(RVM_HC_PARTITION_CREATE, create_args(), RVM_PROOF_REFLEX);
    std::size_t n = w.records();
    succeeds(p, reflex);
    ASSERT_EQ(w.records(), n + 3);
    EXPECT_EQ(w.sink.records[n + 1].kind(), std::uint8_t{RVM_WK_PROOF_ESCALATED});
    EXPECT_EQ(w.sink.records[n + 2].kind(), std::uint8_t{RVM_WK_PROOF_VERIFIED});
    EXPECT_EQ(w.sink.records[n + 2].proof_tier(), std::uint8_t{RVM_PROOF_STANDARD});
    const SyscallFrame deep = proved(RVM_HC_PARTITION_CREATE, {self.raw(), 21, 0x0101, 0, 0}, RVM_PROOF_DEEP);
    n = w.records();
    succeeds(p, deep);
    ASSERT_EQ(w.records(), n + 2);
    EXPECT_EQ(w.sink.records[n + 1].kind(), std::uint8_t{RVM_WK_PROOF_VERIFIED});
    EXPECT_EQ(w.sink.records[n + 1].proof_tier(), std::uint8_t{RVM_PROOF_DEEP});
}

TEST_F(SyscallTest, AFailingCallDoesNotConsumeItsToken) {
    std::vector<PartitionId> others;
    while (w.st().partitions.live() < kMaxPartitions) others.push_back(w.partition(PartitionConfig{21, 1, 1, 0}));
    const SyscallFrame f = proved(RVM_HC_PARTITION_CREATE, create_args());
    EXPECT_TRUE(rejects(p, f, RVM_E_EXHAUSTED, 0));
    EXPECT_TRUE(rejects(p, f, RVM_E_EXHAUSTED, 0));
    ASSERT_TRUE(w.k().destroy_partition(others.back()).ok());
    succeeds(p, f);  // the same token, retried
    EXPECT_TRUE(rejects(p, f, RVM_E_PROOF_REPLAYED, 6, true));
}

// --- commedge_create (17) / commedge_destroy (18) ----------------------------

TEST_F(SyscallTest, CommEdgeCreateReturnsTheSendEnd) {
    const PartitionId c = child();
    const SyscallFrame f = proved(RVM_HC_COMMEDGE_CREATE, {cap(p, part_obj(c)).raw(), 0, 0, 0, 0});
    const std::size_t n = w.records();
    const std::uint64_t h = succeeds(p, f);
    const auto ec = w.st().caps.lookup(p.index, CapHandle::from_raw(h), RVM_OBJ_COMMEDGE, Rights{});
    ASSERT_TRUE(ec.ok());
    EXPECT_EQ(ec.value().rights.bits, kSendRights);
    const EdgeId e = EdgeId::from_raw(ec.value().object.id);
    const CommEdge* edge = w.st().edges.get(e);
    ASSERT_NE(edge, nullptr);
    EXPECT_EQ(edge->source, p);
    EXPECT_EQ(edge->dest, c);
    EXPECT_TRUE(w.st().caps.holds(c.index, edge_obj(e), Rights{kRecvRights}));
    ASSERT_EQ(w.records(), n + 2);
    EXPECT_EQ(w.sink.records[n].kind(), std::uint8_t{RVM_WK_COMMEDGE_CREATE});
    // Any partition p holds WRITE on can be the peer, not only children.
    const PartitionId q = w.partition();
    const auto qc = w.k().grant(p, part_obj(q), Rights{RVM_RIGHT_WRITE});
    ASSERT_TRUE(qc.ok());
    succeeds(p, proved(RVM_HC_COMMEDGE_CREATE, {qc.value().raw(), 0, 0, 0, 0}));
    // The handle works: destroy the edge with it.
    EXPECT_EQ(succeeds(p, proved(RVM_HC_COMMEDGE_DESTROY, {h, 0, 0, 0, 0})), 0u);
    EXPECT_FALSE(w.st().edges.contains(e));
}

TEST_F(SyscallTest, CommEdgeCreateRejections) {
    const PartitionId c = child();
    const CapHandle cc = cap(p, part_obj(c));
    const SyscallFrame good = proved(RVM_HC_COMMEDGE_CREATE, {cc.raw(), 0, 0, 0, 0});
    expect_bad_handles(good, 0, cc, stale(p, part_obj(c)));
    const RegionId r = region(p);
    EXPECT_TRUE(
        rejects(p, proved(RVM_HC_COMMEDGE_CREATE, {cap(p, region_obj(r)).raw(), 0, 0, 0, 0}), RVM_E_WRONG_TYPE, 1));
    const CapHandle ro = attenuated(p, cc, RVM_RIGHTS_ALL & ~RVM_RIGHT_WRITE);
    EXPECT_TRUE(rejects(p, proved(RVM_HC_COMMEDGE_CREATE, {ro.raw(), 0, 0, 0, 0}), RVM_E_RIGHTS, 1));
    EXPECT_TRUE(rejects(p, SyscallFrame{RVM_HC_COMMEDGE_CREATE, {cc.raw(), 0, 0, 0, 0, 0}}, RVM_E_PROOF_MISSING, 6));
    fill_table(c);
    EXPECT_TRUE(rejects(p, good, RVM_E_EXHAUSTED, 0));
}

TEST_F(SyscallTest, CommEdgeCreateBlamesArgumentOne) {
    EXPECT_TRUE(rejects(p, proved(RVM_HC_COMMEDGE_CREATE, {self.raw(), 0, 0, 0, 0}), RVM_E_INVALID, 1));
    const PartitionId c = child();
    const CapHandle cc = cap(p, part_obj(c));
    ASSERT_TRUE(w.k().set_partition_state(c, PartitionState::Failed).ok());
    EXPECT_TRUE(rejects(p, proved(RVM_HC_COMMEDGE_CREATE, {cc.raw(), 0, 0, 0, 0}), RVM_E_BAD_HANDLE, 1));
}

TEST_F(SyscallTest, CommEdgeDestroyFromEitherEnd) {
    const PartitionId c = child();
    const auto out = w.k().create_edge(p, c);
    const auto in = w.k().create_edge(c, p);
    ASSERT_TRUE(out.ok() && in.ok());
    const SyscallFrame f = proved(RVM_HC_COMMEDGE_DESTROY, {cap(p, edge_obj(out.value())).raw(), 0, 0, 0, 0});
    const std::size_t n = w.records();
    EXPECT_EQ(succeeds(p, f), 0u);
    ASSERT_EQ(w.records(), n + 2);
    EXPECT_EQ(w.sink.records[n].kind(), std::uint8_t{RVM_WK_COMMEDGE_DESTROY});
    EXPECT_FALSE(w.st().edges.contains(out.value()));
    EXPECT_FALSE(w.st().caps.holds(c.index, edge_obj(out.value()), Rights{}));
    // The receiving end may tear the edge down too.
    EXPECT_EQ(succeeds(p, proved(RVM_HC_COMMEDGE_DESTROY, {cap(p, edge_obj(in.value())).raw(), 0, 0, 0, 0})), 0u);
    EXPECT_FALSE(w.st().edges.contains(in.value()));
    EXPECT_FALSE(w.st().caps.holds(c.index, edge_obj(in.value()), Rights{}));
}

TEST_F(SyscallTest, CommEdgeDestroyRejections) {
    const PartitionId c = child();
    const auto e = w.k().create_edge(p, c);
    ASSERT_TRUE(e.ok());
    const CapHandle ec = cap(p, edge_obj(e.value()));
    const SyscallFrame good = proved(RVM_HC_COMMEDGE_DESTROY, {ec.raw(), 0, 0, 0, 0});
    expect_bad_handles(good, 0, ec, stale(p, edge_obj(e.value())));
    EXPECT_TRUE(rejects(p, proved(RVM_HC_COMMEDGE_DESTROY, {self.raw(), 0, 0, 0, 0}), RVM_E_WRONG_TYPE, 1));
    const CapHandle no_revoke = attenuated(p, ec, RVM_RIGHT_WRITE);
    EXPECT_TRUE(rejects(p, proved(RVM_HC_COMMEDGE_DESTROY, {no_revoke.raw(), 0, 0, 0, 0}), RVM_E_RIGHTS, 1));
    EXPECT_TRUE(rejects(p, SyscallFrame{RVM_HC_COMMEDGE_DESTROY, {ec.raw(), 0, 0, 0, 0, 0}}, RVM_E_PROOF_MISSING, 6));
    // Once destroyed, the handle is stale.
    succeeds(p, good);
    EXPECT_TRUE(rejects(p, proved(RVM_HC_COMMEDGE_DESTROY, {ec.raw(), 0, 0, 0, 0}), RVM_E_BAD_HANDLE, 1));
}

// --- device_lease_acquire (19) / device_lease_revoke (20) --------------------

TEST_F(SyscallTest, LeaseAcquireReturnsAWorkingLeaseCapability) {
    const DeviceId d = device(0x77);
    const auto dc = w.k().grant(p, device_obj(d), Rights{RVM_RIGHT_LEASE | RVM_RIGHT_READ});
    ASSERT_TRUE(dc.ok());
    const std::uint64_t now = w.clock.now_ns();
    const std::uint64_t h = succeeds(p, proved(RVM_HC_DEVICE_LEASE_ACQUIRE, {dc.value().raw(), 5000, 0, 0, 0}));
    const auto lc = w.st().caps.lookup(p.index, CapHandle::from_raw(h), RVM_OBJ_DEVICE_LEASE, Rights{});
    ASSERT_TRUE(lc.ok());
    EXPECT_EQ(lc.value().rights.bits, kLeaseRights);
    const LeaseId l = LeaseId::from_raw(lc.value().object.id);
    const DeviceLease* lease = w.st().leases.get(l);
    ASSERT_NE(lease, nullptr);
    EXPECT_EQ(lease->device, d);
    EXPECT_EQ(lease->holder, p);
    EXPECT_EQ(lease->expires_ns, now + 5000);
    EXPECT_TRUE(w.k().lease_valid(l));
    // The handle works: revoke the lease with it; the device is free again.
    EXPECT_EQ(succeeds(p, proved(RVM_HC_DEVICE_LEASE_REVOKE, {h, 0, 0, 0, 0})), 0u);
    EXPECT_FALSE(w.st().leases.contains(l));
    EXPECT_TRUE(w.st().devices.get(d)->lease.is_null());
    succeeds(p, proved(RVM_HC_DEVICE_LEASE_ACQUIRE, {dc.value().raw(), kMaxLeaseNs, 0, 0, 0}));
}

TEST_F(SyscallTest, LeaseAcquireRejections) {
    const DeviceId d = device(0x78);
    const auto dc = w.k().grant(p, device_obj(d), Rights{RVM_RIGHT_LEASE});
    ASSERT_TRUE(dc.ok());
    const SyscallFrame good = proved(RVM_HC_DEVICE_LEASE_ACQUIRE, {dc.value().raw(), 1000, 0, 0, 0});
    expect_bad_handles(good, 0, dc.value(), stale(p, device_obj(d)));
    EXPECT_TRUE(rejects(p, proved(RVM_HC_DEVICE_LEASE_ACQUIRE, {self.raw(), 1000, 0, 0, 0}), RVM_E_WRONG_TYPE, 1));
    const auto no_lease = w.k().grant(p, device_obj(d), Rights{RVM_RIGHTS_ALL & ~RVM_RIGHT_LEASE});
    ASSERT_TRUE(no_lease.ok());
    EXPECT_TRUE(
        rejects(p, proved(RVM_HC_DEVICE_LEASE_ACQUIRE, {no_lease.value().raw(), 1000, 0, 0, 0}), RVM_E_RIGHTS, 1));
    for (const std::uint64_t ns : {std::uint64_t{0}, kMaxLeaseNs + 1, ~std::uint64_t{0}}) {
        EXPECT_TRUE(rejects(p, proved(RVM_HC_DEVICE_LEASE_ACQUIRE, {dc.value().raw(), ns, 0, 0, 0}), RVM_E_INVALID, 2))
            << ns;
    }
    EXPECT_TRUE(rejects(p, SyscallFrame{RVM_HC_DEVICE_LEASE_ACQUIRE, {dc.value().raw(), 1000, 0, 0, 0, 0}},
                        RVM_E_PROOF_MISSING, 6));
    // Leased by someone else: BUSY, and the token survives for a retry.
    const PartitionId q = w.partition();
    const auto ql = w.k().acquire_lease(q, d, 1'000'000);
    ASSERT_TRUE(ql.ok());
    EXPECT_TRUE(rejects(p, good, RVM_E_BUSY, 0));
    ASSERT_TRUE(w.k().revoke_lease(ql.value()).ok());
    succeeds(p, good);
    EXPECT_TRUE(rejects(p, good, RVM_E_PROOF_REPLAYED, 6, true));
}

TEST_F(SyscallTest, LeaseRevokeRejections) {
    const DeviceId d = device(0x79);
    const auto l = w.k().acquire_lease(p, d, 1000);
    ASSERT_TRUE(l.ok());
    const CapHandle lc = cap(p, lease_obj(l.value()));
    const SyscallFrame good = proved(RVM_HC_DEVICE_LEASE_REVOKE, {lc.raw(), 0, 0, 0, 0});
    expect_bad_handles(good, 0, lc, stale(p, lease_obj(l.value())));
    const auto dc = w.k().grant(p, device_obj(d), Rights::all());
    ASSERT_TRUE(dc.ok());
    EXPECT_TRUE(rejects(p, proved(RVM_HC_DEVICE_LEASE_REVOKE, {dc.value().raw(), 0, 0, 0, 0}), RVM_E_WRONG_TYPE, 1));
    const auto watch = w.k().grant(p, lease_obj(l.value()), Rights{RVM_RIGHT_READ});
    ASSERT_TRUE(watch.ok());
    EXPECT_TRUE(rejects(p, proved(RVM_HC_DEVICE_LEASE_REVOKE, {watch.value().raw(), 0, 0, 0, 0}), RVM_E_RIGHTS, 1));
    EXPECT_TRUE(
        rejects(p, SyscallFrame{RVM_HC_DEVICE_LEASE_REVOKE, {lc.raw(), 0, 0, 0, 0, 0}}, RVM_E_PROOF_MISSING, 6));
    // After expiry the lease, and so the handle, is gone.
    w.clock.advance(1000);
    EXPECT_EQ(w.k().expire_leases(), 1u);
    EXPECT_TRUE(rejects(p, good, RVM_E_BAD_HANDLE, 1));
}

}  // namespace
}  // namespace rvm
