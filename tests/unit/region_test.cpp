// Regions: placement in the owner's guest-physical space, quotas, owner
// rights, read-only sharing, ownership transfer, tiers and teardown. Every
// refused operation changes nothing and witnesses nothing; every test ends
// with replay == live and the whole-state invariants.
#include <gtest/gtest.h>

#include <bit>
#include <memory>
#include <utility>
#include <vector>

#include "support/world.hpp"

namespace rvm {
namespace {

using test::holders;
using test::refused;
using test::World;

constexpr std::uint32_t kAllButWrite = RVM_RIGHTS_ALL & ~RVM_RIGHT_WRITE;
constexpr std::uint64_t kMaxPages = std::uint64_t{1} << (BuddyAllocator::kMaxSpaceShift - 12);

// The one capability `holder` has to `o` (fails the test if it has another number).
const Capability* only_cap(const World& w, PartitionId holder, ObjectRef o) {
    const Capability* found = nullptr;
    int n = 0;
    for (const CapSpace::Slot& s : w.st().caps.table(holder.index)) {
        if (s.live && s.cap.object == o) {
            found = &s.cap;
            ++n;
        }
    }
    EXPECT_EQ(n, 1);
    return n == 1 ? found : nullptr;
}

ObjectRef obj(RegionId r) { return ObjectRef{RVM_OBJ_REGION, r.raw()}; }

std::uint64_t block_bytes(std::uint64_t pages) { return std::bit_ceil(pages) * kPageSize; }

class RegionTest : public ::testing::Test {
protected:
    void TearDown() override {
        EXPECT_TRUE(w.sync());
        EXPECT_TRUE(w.k().invariants_hold());
    }
    const Partition& part(PartitionId p) {
        const Partition* x = w.k().partition(p);
        EXPECT_NE(x, nullptr);
        return *x;
    }
    const Region& region(RegionId r) {
        const Region* x = w.st().regions.get(r);
        EXPECT_NE(x, nullptr);
        return *x;
    }
    RegionId make(PartitionId owner, std::uint64_t pages, std::uint8_t policy = RVM_REGION_SLAB) {
        const auto r = w.k().create_region(owner, pages, policy, RVM_TIER_HOT);
        EXPECT_TRUE(r.ok());
        return r.ok() ? r.value() : RegionId{};
    }
    // Fills `p`'s capability table to capacity with extra capabilities to itself.
    void fill_table(PartitionId p) {
        while (w.st().caps.count(p.index) < kCapsPerPartition) {
            ASSERT_TRUE(w.k().grant(p, ObjectRef{RVM_OBJ_PARTITION, p.raw()}, Rights{RVM_RIGHT_READ}).ok());
        }
    }
    World w;
};

// --- create ----------------------------------------------------------------

TEST_F(RegionTest, CreatePlacesAlignedDisjointRegionsInsideTheOwnersSpace) {
    const PartitionId p = w.partition(PartitionConfig{24, 16, 32, 0});
    const std::uint64_t space = std::uint64_t{1} << 24;
    ASSERT_EQ(part(p).gpa.free_bytes(), space);
    std::vector<std::pair<std::uint64_t, std::uint64_t>> placed;  // [gpa, gpa + block)
    std::uint64_t pages_total = 0;
    for (const std::uint64_t pages : {1u, 3u, 16u, 5u, 2u, 64u, 1u, 100u}) {
        SCOPED_TRACE(pages);
        const std::uint64_t free_before = part(p).gpa.free_bytes();
        const std::size_t n = w.records();
        const RegionId r = make(p, pages);
        ASSERT_FALSE(r.is_null());
        const Region& reg = region(r);
        const std::uint64_t block = block_bytes(pages);
        EXPECT_EQ(reg.owner, p);
        EXPECT_EQ(reg.pages, pages);
        EXPECT_EQ(reg.gpa % block, 0u) << "aligned to its block";
        EXPECT_LE(reg.gpa + block, space) << "inside the owner's space";
        for (const auto& [lo, hi] : placed) EXPECT_TRUE(reg.gpa + block <= lo || reg.gpa >= hi) << "overlap";
        placed.emplace_back(reg.gpa, reg.gpa + block);
        EXPECT_EQ(part(p).gpa.free_bytes(), free_before - block);
        pages_total += pages;
        EXPECT_EQ(part(p).mem_pages, pages_total);
        EXPECT_EQ(part(p).regions, placed.size());
        ASSERT_EQ(w.records(), n + 1);
        const WitnessRecord& rec = w.sink.records.back();
        EXPECT_EQ(rec.kind(), std::uint8_t{RVM_WK_REGION_CREATE});
        EXPECT_EQ(rec.subject(), p.raw());
        EXPECT_EQ(rec.object(), r.raw());
        EXPECT_EQ(rec.aux(), pages | (std::uint64_t{RVM_REGION_SLAB} << 40) | (std::uint64_t{RVM_TIER_HOT} << 48));
    }
}

TEST_F(RegionTest, CreateKeepsPolicyAndTier) {
    const PartitionId p = w.partition();
    for (std::uint8_t policy = 0; policy <= RVM_REGION_SLAB; ++policy) {
        for (std::uint8_t tier = 0; tier <= RVM_TIER_COLD; ++tier) {
            const auto r = w.k().create_region(p, 1, policy, tier);
            ASSERT_TRUE(r.ok());
            EXPECT_EQ(region(r.value()).policy, policy);
            EXPECT_EQ(region(r.value()).tier, tier);
        }
    }
}

TEST_F(RegionTest, CreateRejectsBadArguments) {
    const PartitionId p = w.partition();
    EXPECT_TRUE(refused(w, RVM_E_INVALID, [&] { return w.k().create_region(p, 0, RVM_REGION_SLAB, 0); }));
    EXPECT_TRUE(refused(w, RVM_E_INVALID, [&] { return w.k().create_region(p, kMaxPages + 1, RVM_REGION_SLAB, 0); }));
    EXPECT_TRUE(refused(w, RVM_E_INVALID, [&] { return w.k().create_region(p, ~std::uint64_t{0}, 0, 0); }));
    EXPECT_TRUE(refused(w, RVM_E_INVALID, [&] { return w.k().create_region(p, 1, RVM_REGION_SLAB + 1, 0); }));
    EXPECT_TRUE(refused(w, RVM_E_INVALID, [&] { return w.k().create_region(p, 1, 0xff, 0); }));
    EXPECT_TRUE(refused(w, RVM_E_INVALID, [&] { return w.k().create_region(p, 1, 0, RVM_TIER_COLD + 1); }));
    EXPECT_TRUE(refused(w, RVM_E_INVALID, [&] { return w.k().create_region(p, 1, 0, 0xff); }));
    EXPECT_EQ(part(p).regions, 0u);
}

TEST_F(RegionTest, CreateRejectsDeadOwners) {
    const PartitionId failed = w.partition();
    ASSERT_TRUE(w.k().set_partition_state(failed, PartitionState::Failed).ok());
    EXPECT_TRUE(refused(w, RVM_E_BAD_HANDLE, [&] { return w.k().create_region(failed, 1, 0, 0); }));
    const PartitionId gone = w.partition();
    ASSERT_TRUE(w.k().destroy_partition(gone).ok());
    EXPECT_TRUE(refused(w, RVM_E_BAD_HANDLE, [&] { return w.k().create_region(gone, 1, 0, 0); }));
    EXPECT_TRUE(refused(w, RVM_E_BAD_HANDLE, [&] { return w.k().create_region(PartitionId{}, 1, 0, 0); }));
}

TEST_F(RegionTest, TheLargestRegionFillsAWholeTerabyteSpace) {
    const PartitionId p = w.partition(PartitionConfig{40, 1, 2, 0});
    const RegionId r = make(p, kMaxPages);
    ASSERT_FALSE(r.is_null());
    EXPECT_EQ(region(r).gpa, 0u);
    EXPECT_EQ(part(p).gpa.free_bytes(), 0u);
    EXPECT_TRUE(refused(w, RVM_E_NO_MEMORY, [&] { return w.k().create_region(p, 1, 0, 0); }));
}

TEST_F(RegionTest, MaxRegionsQuotaIsAPolicyRefusal) {
    const PartitionId p = w.partition(PartitionConfig{30, 1, 2, 0});
    const RegionId a = make(p, 1);
    make(p, 1);
    EXPECT_TRUE(refused(w, RVM_E_POLICY, [&] { return w.k().create_region(p, 1, 0, 0); }));
    ASSERT_TRUE(w.k().destroy_region(a).ok());
    EXPECT_TRUE(w.k().create_region(p, 1, 0, 0).ok());
    EXPECT_TRUE(refused(w, RVM_E_POLICY, [&] { return w.k().create_region(p, 1, 0, 0); }));
}

TEST_F(RegionTest, MemQuotaCountsRequestedPages) {
    const PartitionId p = w.partition(PartitionConfig{30, 1, 16, 10});
    const RegionId a = make(p, 8);
    EXPECT_TRUE(refused(w, RVM_E_POLICY, [&] { return w.k().create_region(p, 3, 0, 0); }));
    make(p, 2);  // exactly at the quota
    EXPECT_EQ(part(p).mem_pages, 10u);
    EXPECT_TRUE(refused(w, RVM_E_POLICY, [&] { return w.k().create_region(p, 1, 0, 0); }));
    ASSERT_TRUE(w.k().destroy_region(a).ok());
    EXPECT_EQ(part(p).mem_pages, 2u);
    EXPECT_TRUE(w.k().create_region(p, 8, 0, 0).ok());
}

TEST_F(RegionTest, SpaceExhaustionIsNoMemory) {
    const PartitionId p = w.partition(PartitionConfig{21, 1, 16, 0});  // 2 MiB = 512 pages
    EXPECT_TRUE(refused(w, RVM_E_NO_MEMORY, [&] { return w.k().create_region(p, 513, 0, 0); }));
    const RegionId half = make(p, 256);
    EXPECT_TRUE(refused(w, RVM_E_NO_MEMORY, [&] { return w.k().create_region(p, 257, 0, 0); }));  // 512-page block
    make(p, 200);                                                                                 // 256-page block
    EXPECT_EQ(part(p).gpa.free_bytes(), 0u);
    EXPECT_TRUE(refused(w, RVM_E_NO_MEMORY, [&] { return w.k().create_region(p, 1, 0, 0); }));
    ASSERT_TRUE(w.k().destroy_region(half).ok());
    EXPECT_TRUE(w.k().create_region(p, 256, 0, 0).ok());
}

TEST_F(RegionTest, TheAllocatorsBlockLimitIsNoMemory) {
    const PartitionId p = w.partition(PartitionConfig{30, 1, 100, 0});
    for (std::size_t i = 0; i < BuddyAllocator::kMaxAllocations; ++i) make(p, 1);
    EXPECT_TRUE(refused(w, RVM_E_NO_MEMORY, [&] { return w.k().create_region(p, 1, 0, 0); }));
}

TEST_F(RegionTest, PoolExhaustionIsAStatusAndReturnsTheSpace) {
    // 256 regions: each allocator places at most 64 blocks.
    std::vector<PartitionId> parts;
    for (int i = 0; i < 4; ++i) parts.push_back(w.partition(PartitionConfig{30, 1, 64, 0}));
    for (const PartitionId p : parts) {
        for (std::size_t i = 0; i < kMaxRegions / parts.size(); ++i) ASSERT_FALSE(make(p, 1).is_null());
    }
    ASSERT_EQ(w.st().regions.live(), kMaxRegions);
    const PartitionId q = w.partition();
    EXPECT_TRUE(refused(w, RVM_E_EXHAUSTED, [&] { return w.k().create_region(q, 4, 0, 0); }));
    EXPECT_EQ(part(q).gpa.free_bytes(), part(q).gpa.size());
}

TEST_F(RegionTest, CreateWithAFullCapabilityTableChangesNothing) {
    const PartitionId p = w.partition();
    fill_table(p);
    EXPECT_TRUE(refused(w, RVM_E_EXHAUSTED, [&] { return w.k().create_region(p, 1, 0, 0); }));
    EXPECT_EQ(part(p).gpa.free_bytes(), part(p).gpa.size());
    const PartitionId q = w.partition();
    EXPECT_TRUE(w.k().create_region(q, 1, 0, 0).ok());  // must be the region replay creates
}

TEST_F(RegionTest, OwnerRightsFollowThePolicy) {
    const PartitionId p = w.partition();
    const RegionId imm = make(p, 1, RVM_REGION_IMMUTABLE);
    const RegionId app = make(p, 1, RVM_REGION_APPEND_ONLY);
    const RegionId slab = make(p, 1, RVM_REGION_SLAB);
    const Capability* c = only_cap(w, p, obj(imm));
    ASSERT_NE(c, nullptr);
    EXPECT_EQ(c->rights.bits, kAllButWrite);  // Immutable contents are fixed at creation
    EXPECT_EQ(c->depth, 0u);
    c = only_cap(w, p, obj(app));
    ASSERT_NE(c, nullptr);
    EXPECT_EQ(c->rights.bits, RVM_RIGHTS_ALL);
    c = only_cap(w, p, obj(slab));
    ASSERT_NE(c, nullptr);
    EXPECT_EQ(c->rights.bits, RVM_RIGHTS_ALL);
    // Rights only shrink: the owner cannot derive WRITE to an Immutable region.
    EXPECT_TRUE(refused(w, RVM_E_RIGHTS, [&] {
        return w.k().derive(p, w.cap_to(p, obj(imm)), p, Rights{RVM_RIGHT_READ | RVM_RIGHT_WRITE});
    }));
}

// --- share -----------------------------------------------------------------

TEST_F(RegionTest, ImmutableAndAppendOnlyRegionsAreSharedReadOnly) {
    const PartitionId p = w.partition();
    const PartitionId q = w.partition(PartitionConfig{24, 1, 1, 5});
    for (const std::uint8_t policy : {std::uint8_t{RVM_REGION_IMMUTABLE}, std::uint8_t{RVM_REGION_APPEND_ONLY}}) {
        SCOPED_TRACE(int{policy});
        const RegionId r = make(p, 6, policy);
        const std::uint64_t q_free = part(q).gpa.free_bytes();
        const std::size_t n = w.records();
        const auto gpa = w.k().share_region(r, q);
        ASSERT_TRUE(gpa.ok());
        EXPECT_EQ(gpa.value() % block_bytes(6), 0u);
        EXPECT_LE(gpa.value() + block_bytes(6), part(q).gpa.size());
        EXPECT_EQ(part(q).gpa.free_bytes(), q_free - block_bytes(6));
        // Sharing is not ownership: q's quotas and counts are untouched.
        EXPECT_EQ(part(q).regions, 0u);
        EXPECT_EQ(part(q).mem_pages, 0u);
        const Capability* c = only_cap(w, q, obj(r));
        ASSERT_NE(c, nullptr);
        EXPECT_EQ(c->rights.bits, RVM_RIGHT_READ);
        EXPECT_EQ(region(r).owner, p);
        EXPECT_EQ(region(r).shares[0], (RegionShare{q, gpa.value()}));
        ASSERT_EQ(w.records(), n + 1);
        const WitnessRecord& rec = w.sink.records.back();
        EXPECT_EQ(rec.kind(), std::uint8_t{RVM_WK_REGION_SHARE});
        EXPECT_EQ(rec.subject(), q.raw());
        EXPECT_EQ(rec.object(), r.raw());
        EXPECT_EQ(rec.aux(), gpa.value());
    }
}

TEST_F(RegionTest, ShareRefusals) {
    const PartitionId p = w.partition();
    const PartitionId q = w.partition();
    const RegionId slab = make(p, 1, RVM_REGION_SLAB);
    const RegionId imm = make(p, 1, RVM_REGION_IMMUTABLE);
    EXPECT_TRUE(refused(w, RVM_E_INVALID, [&] { return w.k().share_region(slab, q); }));  // mutable: never shared
    EXPECT_TRUE(refused(w, RVM_E_INVALID, [&] { return w.k().share_region(imm, p); }));   // to its owner
    ASSERT_TRUE(w.k().share_region(imm, q).ok());
    EXPECT_TRUE(refused(w, RVM_E_BUSY, [&] { return w.k().share_region(imm, q); }));  // same target twice
    EXPECT_TRUE(refused(w, RVM_E_BAD_HANDLE, [&] { return w.k().share_region(RegionId{}, q); }));
    EXPECT_TRUE(refused(w, RVM_E_BAD_HANDLE, [&] {
        return w.k().share_region(RegionId{imm.index, imm.generation + 1}, q);
    }));
    EXPECT_TRUE(refused(w, RVM_E_BAD_HANDLE, [&] { return w.k().share_region(imm, PartitionId{}); }));
    const PartitionId failed = w.partition();
    ASSERT_TRUE(w.k().set_partition_state(failed, PartitionState::Failed).ok());
    EXPECT_TRUE(refused(w, RVM_E_BAD_HANDLE, [&] { return w.k().share_region(imm, failed); }));
    const RegionId gone = make(p, 1, RVM_REGION_IMMUTABLE);
    ASSERT_TRUE(w.k().destroy_region(gone).ok());
    EXPECT_TRUE(refused(w, RVM_E_BAD_HANDLE, [&] { return w.k().share_region(gone, q); }));
}

TEST_F(RegionTest, ShareSlotsAreBounded) {
    const PartitionId p = w.partition();
    const RegionId r = make(p, 1, RVM_REGION_APPEND_ONLY);
    std::vector<PartitionId> readers;
    for (std::size_t i = 0; i <= kMaxSharesPerRegion; ++i) readers.push_back(w.partition(PartitionConfig{21, 1, 1, 0}));
    for (std::size_t i = 0; i < kMaxSharesPerRegion; ++i) ASSERT_TRUE(w.k().share_region(r, readers[i]).ok());
    EXPECT_TRUE(refused(w, RVM_E_EXHAUSTED, [&] { return w.k().share_region(r, readers.back()); }));
    // A reader going away frees its slot.
    ASSERT_TRUE(w.k().destroy_partition(readers[3]).ok());
    EXPECT_TRUE(w.k().share_region(r, readers.back()).ok());
}

TEST_F(RegionTest, ShareNeedsSpaceAndASlotInTheTarget) {
    const PartitionId p = w.partition();
    const PartitionId small = w.partition(PartitionConfig{21, 1, 2, 0});
    const RegionId big = make(p, 1024, RVM_REGION_IMMUTABLE);  // larger than small's 2 MiB
    EXPECT_TRUE(refused(w, RVM_E_NO_MEMORY, [&] { return w.k().share_region(big, small); }));
    const RegionId r = make(p, 1, RVM_REGION_IMMUTABLE);
    const PartitionId full = w.partition();
    fill_table(full);
    EXPECT_TRUE(refused(w, RVM_E_EXHAUSTED, [&] { return w.k().share_region(r, full); }));
    EXPECT_EQ(part(full).gpa.free_bytes(), part(full).gpa.size());  // the placement was undone
}

// --- transfer --------------------------------------------------------------

TEST_F(RegionTest, TransferMovesOwnershipAndEveryOldCapabilityGoes) {
    const PartitionId p = w.partition();
    const PartitionId q = w.partition();
    const PartitionId x = w.partition();
    const RegionId r = make(p, 4, RVM_REGION_APPEND_ONLY);
    const CapHandle root = w.cap_to(p, obj(r));
    // Copies the old owner made: one for itself, one for x, and x's own copy of that.
    ASSERT_TRUE(w.k().derive(p, root, p, Rights{RVM_RIGHT_READ}).ok());
    const auto to_x = w.k().derive(p, root, x, Rights{RVM_RIGHT_READ | RVM_RIGHT_GRANT});
    ASSERT_TRUE(to_x.ok());
    ASSERT_TRUE(w.k().derive(x, to_x.value(), x, Rights{RVM_RIGHT_READ}).ok());
    ASSERT_TRUE(w.k().grant(q, obj(r), Rights{RVM_RIGHT_READ}).ok());  // the new owner's old copy
    EXPECT_EQ(holders(w, obj(r)), 5u);
    const std::uint64_t q_free = part(q).gpa.free_bytes();

    const std::size_t n = w.records();
    ASSERT_TRUE(w.k().transfer_region(r, q).ok());
    ASSERT_EQ(w.records(), n + 1);
    const Region& reg = region(r);
    EXPECT_EQ(reg.owner, q);
    EXPECT_EQ(reg.pages, 4u);
    EXPECT_EQ(reg.gpa % block_bytes(4), 0u);
    EXPECT_EQ(part(q).gpa.free_bytes(), q_free - block_bytes(4));
    EXPECT_EQ(part(p).gpa.free_bytes(), part(p).gpa.size());
    EXPECT_EQ(part(p).regions, 0u);
    EXPECT_EQ(part(p).mem_pages, 0u);
    EXPECT_EQ(part(q).regions, 1u);
    EXPECT_EQ(part(q).mem_pages, 4u);
    // Only the new owner holds it now, with full owner rights at the root.
    EXPECT_FALSE(w.st().caps.holds(p.index, obj(r), Rights{}));
    EXPECT_FALSE(w.st().caps.holds(x.index, obj(r), Rights{}));
    EXPECT_EQ(holders(w, obj(r)), 1u);
    const Capability* c = only_cap(w, q, obj(r));
    ASSERT_NE(c, nullptr);
    EXPECT_EQ(c->rights.bits, RVM_RIGHTS_ALL);
    EXPECT_EQ(c->depth, 0u);
    const WitnessRecord& rec = w.sink.records.back();
    EXPECT_EQ(rec.kind(), std::uint8_t{RVM_WK_REGION_TRANSFER});
    EXPECT_EQ(rec.subject(), q.raw());
    EXPECT_EQ(rec.object(), r.raw());
    EXPECT_EQ(rec.aux(), reg.gpa);
    // The old owner's handle is dead.
    EXPECT_FALSE(w.st().caps.lookup(p.index, root, RVM_OBJ_REGION, Rights{}).ok());
    // The new owner can use it: share it on, move it back.
    EXPECT_TRUE(w.k().share_region(r, x).ok());
}

TEST_F(RegionTest, TransferOfAnImmutableRegionKeepsWriteOff) {
    const PartitionId p = w.partition();
    const PartitionId q = w.partition();
    const RegionId r = make(p, 1, RVM_REGION_IMMUTABLE);
    ASSERT_TRUE(w.k().transfer_region(r, q).ok());
    const Capability* c = only_cap(w, q, obj(r));
    ASSERT_NE(c, nullptr);
    EXPECT_EQ(c->rights.bits, kAllButWrite);
    ASSERT_TRUE(w.k().transfer_region(r, p).ok());  // and back again
    EXPECT_EQ(region(r).owner, p);
}

TEST_F(RegionTest, TransferRefusalsChangeNothing) {
    const PartitionId p = w.partition();
    const PartitionId q = w.partition();
    const RegionId r = make(p, 8, RVM_REGION_IMMUTABLE);

    EXPECT_TRUE(refused(w, RVM_E_INVALID, [&] { return w.k().transfer_region(r, p); }));
    EXPECT_TRUE(refused(w, RVM_E_BAD_HANDLE, [&] { return w.k().transfer_region(RegionId{}, q); }));
    EXPECT_TRUE(refused(w, RVM_E_BAD_HANDLE, [&] { return w.k().transfer_region(r, PartitionId{}); }));
    const PartitionId failed = w.partition();
    ASSERT_TRUE(w.k().set_partition_state(failed, PartitionState::Failed).ok());
    EXPECT_TRUE(refused(w, RVM_E_BAD_HANDLE, [&] { return w.k().transfer_region(r, failed); }));

    // While shared: readers would keep a view of moved memory.
    ASSERT_TRUE(w.k().share_region(r, q).ok());
    const PartitionId z = w.partition();
    EXPECT_TRUE(refused(w, RVM_E_BUSY, [&] { return w.k().transfer_region(r, z); }));
    EXPECT_TRUE(refused(w, RVM_E_BUSY, [&] { return w.k().transfer_region(r, q); }));

    // The target's quotas, table and space.
    const RegionId r2 = make(p, 8, RVM_REGION_SLAB);
    const PartitionId few = w.partition(PartitionConfig{30, 1, 1, 0});
    make(few, 1);
    EXPECT_TRUE(refused(w, RVM_E_POLICY, [&] { return w.k().transfer_region(r2, few); }));
    const PartitionId quota = w.partition(PartitionConfig{30, 1, 8, 10});
    make(quota, 3);
    EXPECT_TRUE(refused(w, RVM_E_POLICY, [&] { return w.k().transfer_region(r2, quota); }));
    const PartitionId full = w.partition();
    fill_table(full);
    EXPECT_TRUE(refused(w, RVM_E_EXHAUSTED, [&] { return w.k().transfer_region(r2, full); }));
    const PartitionId tiny = w.partition(PartitionConfig{21, 1, 8, 0});
    make(tiny, 510);  // a 512-page block: no room left
    EXPECT_TRUE(refused(w, RVM_E_NO_MEMORY, [&] { return w.k().transfer_region(r2, tiny); }));

    EXPECT_EQ(region(r2).owner, p);
    EXPECT_EQ(holders(w, obj(r2)), 1u);
    // Exactly at the target's quota is allowed.
    const PartitionId exact = w.partition(PartitionConfig{30, 1, 8, 11});
    make(exact, 3);
    EXPECT_TRUE(w.k().transfer_region(r2, exact).ok());
}

// --- tiers -----------------------------------------------------------------

TEST_F(RegionTest, TierChangesAreWitnessedAndChecked) {
    const PartitionId p = w.partition();
    const RegionId r = make(p, 2, RVM_REGION_APPEND_ONLY);
    std::uint8_t from = RVM_TIER_HOT;
    for (const std::uint8_t to :
         {std::uint8_t{RVM_TIER_WARM}, std::uint8_t{RVM_TIER_DORMANT}, std::uint8_t{RVM_TIER_COLD},
          std::uint8_t{RVM_TIER_HOT}, std::uint8_t{RVM_TIER_COLD}}) {
        const std::size_t n = w.records();
        ASSERT_TRUE(w.k().set_region_tier(r, to).ok());
        EXPECT_EQ(region(r).tier, to);
        ASSERT_EQ(w.records(), n + 1);
        const WitnessRecord& rec = w.sink.records.back();
        EXPECT_EQ(rec.kind(), std::uint8_t{RVM_WK_REGION_TIER_CHANGE});
        EXPECT_EQ(rec.subject(), p.raw());
        EXPECT_EQ(rec.object(), r.raw());
        EXPECT_EQ(rec.flags(), (std::uint32_t{from} << 8) | (std::uint32_t{to} << 16));
        from = to;
    }
    EXPECT_TRUE(refused(w, RVM_E_STATE, [&] { return w.k().set_region_tier(r, RVM_TIER_COLD); }));
    EXPECT_TRUE(refused(w, RVM_E_INVALID, [&] { return w.k().set_region_tier(r, RVM_TIER_COLD + 1); }));
    EXPECT_TRUE(refused(w, RVM_E_BAD_HANDLE, [&] { return w.k().set_region_tier(RegionId{}, RVM_TIER_HOT); }));
    // Tier does not move the region or change its accounting.
    EXPECT_EQ(part(p).mem_pages, 2u);
}

// --- destroy ---------------------------------------------------------------

TEST_F(RegionTest, DestroyFreesSpaceInTheOwnerAndEverySharer) {
    const PartitionId p = w.partition();
    const PartitionId q = w.partition();
    const PartitionId s = w.partition();
    const std::uint64_t p_free = part(p).gpa.free_bytes();
    const std::uint64_t q_free = part(q).gpa.free_bytes();
    const std::uint64_t s_free = part(s).gpa.free_bytes();
    const RegionId keep = make(p, 2, RVM_REGION_SLAB);
    const RegionId r = make(p, 32, RVM_REGION_IMMUTABLE);
    ASSERT_TRUE(w.k().share_region(r, q).ok());
    ASSERT_TRUE(w.k().share_region(r, s).ok());
    ASSERT_TRUE(w.k().derive(p, w.cap_to(p, obj(r)), s, Rights{RVM_RIGHT_READ}).ok());
    EXPECT_EQ(holders(w, obj(r)), 4u);

    const std::size_t n = w.records();
    ASSERT_TRUE(w.k().destroy_region(r).ok());
    ASSERT_EQ(w.records(), n + 1);
    EXPECT_EQ(w.sink.records.back().kind(), std::uint8_t{RVM_WK_REGION_DESTROY});
    EXPECT_EQ(w.sink.records.back().subject(), p.raw());
    EXPECT_EQ(w.sink.records.back().object(), r.raw());
    EXPECT_FALSE(w.st().regions.contains(r));
    EXPECT_EQ(holders(w, obj(r)), 0u);
    EXPECT_EQ(part(p).gpa.free_bytes(), p_free - block_bytes(2));
    EXPECT_EQ(part(q).gpa.free_bytes(), q_free);
    EXPECT_EQ(part(s).gpa.free_bytes(), s_free);
    EXPECT_EQ(part(p).regions, 1u);
    EXPECT_EQ(part(p).mem_pages, 2u);

    EXPECT_TRUE(refused(w, RVM_E_BAD_HANDLE, [&] { return w.k().destroy_region(r); }));
    EXPECT_TRUE(refused(w, RVM_E_BAD_HANDLE, [&] { return w.k().share_region(r, q); }));
    EXPECT_TRUE(refused(w, RVM_E_BAD_HANDLE, [&] { return w.k().transfer_region(r, q); }));
    EXPECT_TRUE(refused(w, RVM_E_BAD_HANDLE, [&] { return w.k().set_region_tier(r, RVM_TIER_WARM); }));
    // The slot comes back with a new generation.
    const RegionId again = make(p, 1);
    EXPECT_EQ(again.index, r.index);
    EXPECT_NE(again.generation, r.generation);
    EXPECT_TRUE(w.st().regions.contains(keep));
}

}  // namespace
}  // namespace rvm
