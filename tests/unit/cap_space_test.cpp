#include <gtest/gtest.h>

#include <memory>

#include "nucleus/cap_space.hpp"
#include "nucleus/pool.hpp"

namespace rvm {
namespace {

const ObjectRef kObj{RVM_OBJ_REGION, 0x1'0000'0007};

TEST(Pool, StaleAndForgedHandlesAreRejected) {
    struct Tag;
    Pool<int, Tag, 4> pool;
    const auto a = pool.allocate();
    ASSERT_TRUE(a);
    *pool.get(*a) = 7;
    EXPECT_EQ(*pool.get(*a), 7);
    EXPECT_EQ(pool.get(Handle<Tag>{a->index, a->generation + 1}), nullptr);  // forged generation
    EXPECT_EQ(pool.get(Handle<Tag>{99, a->generation}), nullptr);            // index out of range
    EXPECT_EQ(pool.get(Handle<Tag>{a->index, 0}), nullptr);                  // null generation
    ASSERT_TRUE(pool.release(*a));
    EXPECT_FALSE(pool.release(*a));  // double free
    const auto b = pool.allocate();
    ASSERT_TRUE(b);
    EXPECT_EQ(b->index, a->index);  // lowest free slot: deterministic
    EXPECT_NE(b->generation, a->generation);
    EXPECT_EQ(pool.get(*a), nullptr);  // the old handle is stale
}

TEST(Pool, ExhaustionIsAStatus) {
    struct Tag;
    Pool<int, Tag, 2> pool;
    EXPECT_TRUE(pool.allocate());
    EXPECT_TRUE(pool.allocate());
    EXPECT_FALSE(pool.allocate());
    EXPECT_EQ(pool.live(), 2u);
}

TEST(Pool, GenerationsStayPositiveInRax) {
    struct Tag;
    Pool<int, Tag, 1> pool;
    for (int i = 0; i < 1000; ++i) {
        const auto h = pool.allocate();
        ASSERT_TRUE(h);
        EXPECT_LT(h->raw(), std::uint64_t{1} << 63);
        ASSERT_TRUE(pool.release(*h));
    }
}

class CapSpaceTest : public ::testing::Test {
protected:
    std::unique_ptr<CapSpace> caps = std::make_unique<CapSpace>();
};

TEST_F(CapSpaceTest, LookupChecksHandleTypeAndRights) {
    const auto h = caps->mint(0, kObj, Rights{RVM_RIGHT_READ | RVM_RIGHT_WRITE});
    ASSERT_TRUE(h);
    EXPECT_TRUE(caps->lookup(0, h.value(), RVM_OBJ_REGION, Rights{RVM_RIGHT_READ}));
    EXPECT_EQ(caps->lookup(0, h.value(), RVM_OBJ_TASK, Rights{}).error().code, RVM_E_WRONG_TYPE);
    EXPECT_EQ(caps->lookup(0, h.value(), RVM_OBJ_REGION, Rights{RVM_RIGHT_GRANT}).error().code, RVM_E_RIGHTS);
    EXPECT_EQ(caps->lookup(1, h.value(), RVM_OBJ_REGION, Rights{}).error().code, RVM_E_BAD_HANDLE);  // other table
    EXPECT_EQ(
        caps->lookup(0, CapHandle{h.value().index, h.value().generation + 1}, RVM_OBJ_REGION, Rights{}).error().code,
        RVM_E_BAD_HANDLE);
    EXPECT_EQ(caps->lookup(0, CapHandle{kCapsPerPartition, 1}, RVM_OBJ_REGION, Rights{}).error().code,
              RVM_E_BAD_HANDLE);
    EXPECT_EQ(caps->lookup(kMaxPartitions, h.value(), RVM_OBJ_REGION, Rights{}).error().code, RVM_E_BAD_HANDLE);
}

TEST_F(CapSpaceTest, DerivedRightsAreASubset) {
    const auto root = caps->mint(0, kObj, Rights{RVM_RIGHT_READ | RVM_RIGHT_GRANT});
    ASSERT_TRUE(root);
    EXPECT_EQ(caps->derive(0, root.value(), 1, Rights{RVM_RIGHT_WRITE}).error().code, RVM_E_RIGHTS);
    EXPECT_EQ(caps->derive(0, root.value(), 1, Rights{1u << 20}).error().code, RVM_E_RIGHTS);
    const auto child = caps->derive(0, root.value(), 1, Rights{RVM_RIGHT_READ});
    ASSERT_TRUE(child);
    const auto& c = caps->lookup(1, child.value(), RVM_OBJ_REGION, Rights{RVM_RIGHT_READ}).value();
    EXPECT_EQ(c.depth, 1);
    EXPECT_EQ(c.rights, Rights{RVM_RIGHT_READ});
    // Without GRANT the child cannot delegate.
    EXPECT_EQ(caps->derive(1, child.value(), 2, Rights{RVM_RIGHT_READ}).error().code, RVM_E_RIGHTS);
    EXPECT_TRUE(caps->invariants_hold());
}

TEST_F(CapSpaceTest, DepthIsBoundedAtEight) {
    auto h = caps->mint(0, kObj, Rights::all());
    ASSERT_TRUE(h);
    CapHandle cur = h.value();
    std::uint32_t table = 0;
    for (std::uint32_t d = 1; d <= RVM_CAP_MAX_DEPTH; ++d) {
        const auto next = caps->derive(table, cur, d, Rights::all().without(RVM_RIGHT_GRANT_ONCE));
        ASSERT_TRUE(next) << "depth " << d;
        cur = next.value();
        table = d;
    }
    EXPECT_EQ(caps->derive(table, cur, 0, Rights{RVM_RIGHT_READ}).error().code, RVM_E_DEPTH);
    EXPECT_TRUE(caps->chain_to_root_valid(table, cur));
    EXPECT_TRUE(caps->invariants_hold());
}

TEST_F(CapSpaceTest, GrantOnceAllowsExactlyOneLeafCopy) {
    const auto root = caps->mint(0, kObj, Rights{RVM_RIGHT_READ | RVM_RIGHT_GRANT_ONCE});
    ASSERT_TRUE(root);
    // A copy made under GRANT_ONCE may not carry a grant right.
    EXPECT_EQ(caps->derive(0, root.value(), 1, Rights{RVM_RIGHT_READ | RVM_RIGHT_GRANT_ONCE}).error().code,
              RVM_E_RIGHTS);
    const auto once = caps->derive(0, root.value(), 1, Rights{RVM_RIGHT_READ});
    ASSERT_TRUE(once);
    EXPECT_FALSE(caps->lookup(0, root.value(), RVM_OBJ_REGION, Rights{}).value().rights.has(RVM_RIGHT_GRANT_ONCE));
    EXPECT_EQ(caps->derive(0, root.value(), 2, Rights{RVM_RIGHT_READ}).error().code, RVM_E_RIGHTS);
    EXPECT_TRUE(caps->invariants_hold());
}

TEST_F(CapSpaceTest, RevokeRemovesTheWholeSubtreeAcrossTables) {
    const auto root = caps->mint(0, kObj, Rights::all());
    const Rights r = Rights::all().without(RVM_RIGHT_GRANT_ONCE);
    const auto a = caps->derive(0, root.value(), 1, r);
    const auto b = caps->derive(1, a.value(), 2, r);
    const auto c = caps->derive(1, a.value(), 3, r);
    const auto d = caps->derive(2, b.value(), 4, Rights{RVM_RIGHT_READ});
    const auto other = caps->derive(0, root.value(), 5, Rights{RVM_RIGHT_READ});
    ASSERT_TRUE(a && b && c && d && other);
    const auto n = caps->revoke(1, a.value(), false);
    ASSERT_TRUE(n);
    EXPECT_EQ(n.value(), 3u);  // b, c, d
    EXPECT_TRUE(caps->lookup(1, a.value(), RVM_OBJ_REGION, Rights{}));
    EXPECT_FALSE(caps->lookup(2, b.value(), RVM_OBJ_REGION, Rights{}));
    EXPECT_FALSE(caps->lookup(3, c.value(), RVM_OBJ_REGION, Rights{}));
    EXPECT_FALSE(caps->lookup(4, d.value(), RVM_OBJ_REGION, Rights{}));
    EXPECT_TRUE(caps->lookup(5, other.value(), RVM_OBJ_REGION, Rights{}));  // sibling subtree untouched
    EXPECT_EQ(caps->revoke(0, root.value(), true).value(), 3u);             // root, a, other
    for (std::uint32_t t = 0; t < 6; ++t) EXPECT_EQ(caps->count(t), 0u);
    EXPECT_TRUE(caps->invariants_hold());
}

TEST_F(CapSpaceTest, RevokeRequiresTheRevokeRight) {
    const auto root = caps->mint(0, kObj, Rights{RVM_RIGHT_READ | RVM_RIGHT_GRANT});
    ASSERT_TRUE(root);
    EXPECT_EQ(caps->revoke(0, root.value(), true).error().code, RVM_E_RIGHTS);
    EXPECT_EQ(caps->revoke(0, CapHandle{3, 9}, true).error().code, RVM_E_BAD_HANDLE);
}

TEST_F(CapSpaceTest, RevokeObjectAndClearTable) {
    const ObjectRef other{RVM_OBJ_TASK, 5};
    const auto root = caps->mint(0, kObj, Rights::all());
    (void)caps->derive(0, root.value(), 1, Rights{RVM_RIGHT_READ});
    (void)caps->mint(1, other, Rights::all());
    EXPECT_EQ(caps->revoke_object(kObj), 2u);
    EXPECT_EQ(caps->count(1), 1u);
    const auto r2 = caps->mint(1, kObj, Rights::all());
    (void)caps->derive(1, r2.value(), 2, Rights{RVM_RIGHT_READ});
    EXPECT_EQ(caps->clear_table(1), 3u);  // two roots + the copy in table 2
    EXPECT_EQ(caps->count(2), 0u);
    EXPECT_TRUE(caps->invariants_hold());
}

TEST_F(CapSpaceTest, FullTableIsAStatus) {
    for (std::size_t i = 0; i < kCapsPerPartition; ++i) ASSERT_TRUE(caps->mint(0, kObj, Rights::all()));
    EXPECT_EQ(caps->mint(0, kObj, Rights::all()).error().code, RVM_E_EXHAUSTED);
    const auto src = caps->mint(1, kObj, Rights::all());
    const auto before = std::make_unique<CapSpace>(*caps);
    EXPECT_EQ(caps->derive(1, src.value(), 0, Rights{RVM_RIGHT_READ}).error().code, RVM_E_EXHAUSTED);
    EXPECT_TRUE(*before == *caps);  // nothing changed
}

}  // namespace
}  // namespace rvm
