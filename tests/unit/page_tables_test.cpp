// PageTableBuilder without KVM: what map() writes is read back with walk()
// and by decoding the raw entries: exact leaf permissions (U/W/NX), permissive
// upper levels, nothing mapped that was not asked for, exhaustion of the
// table area and every malformed argument refused.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <vector>

#include "backend/kvm/page_tables.hpp"

namespace rvm::kvm {
namespace {

constexpr std::uint64_t kPage = PageTableBuilder::kPage;
constexpr std::uint64_t kMiB = 1ull << 20;
constexpr std::uint64_t kLowerHalfEnd = 1ull << 47;

// Guest memory of `data` bytes followed by `tables` pages for the tables.
struct Guest {
    Guest(std::uint64_t data, std::uint64_t tables)
        : ram(data + tables * kPage, 0xcc), base(data), builder(ram, data, data + tables * kPage) {}
    std::vector<std::uint8_t> ram;
    std::uint64_t base;
    PageTableBuilder builder;

    [[nodiscard]] std::uint64_t entry(std::uint64_t gpa) const {
        std::uint64_t v;
        std::memcpy(&v, ram.data() + gpa, sizeof v);
        return v;
    }
};

void expect_flags(const std::optional<Translation>& t, std::uint64_t gpa, bool write, bool exec, bool user) {
    ASSERT_TRUE(t.has_value());
    EXPECT_EQ(t->gpa, gpa);
    EXPECT_EQ(t->flags.write, write);
    EXPECT_EQ(t->flags.exec, exec);
    EXPECT_EQ(t->flags.user, user);
}

TEST(PageTables, RootIsTheFirstTablePage) {
    Guest g(kMiB, 8);
    EXPECT_EQ(g.builder.root(), g.base);
    // A fresh table page is zeroed: nothing is mapped.
    for (std::uint64_t i = 0; i < 512; ++i) EXPECT_EQ(g.entry(g.base + 8 * i), 0u);
    EXPECT_FALSE(g.builder.walk(0).has_value());
    EXPECT_FALSE(g.builder.walk(0x10000).has_value());
}

TEST(PageTables, LeafPermissionsAreExact) {
    Guest g(kMiB, 8);
    struct Case {
        std::uint64_t va;
        PageFlags f;
    };
    const Case cases[] = {
        {0x10000, {false, false, true}},   // R, NX (info page)
        {0x20000, {false, true, true}},    // R+X (text)
        {0x30000, {true, false, true}},    // R+W, NX (data)
        {0x40000, {false, false, false}},  // supervisor-only (TSS)
        {0x50000, {true, true, true}},     // the builder itself does not forbid W+X
    };
    for (const Case& c : cases) ASSERT_TRUE(g.builder.map(c.va, c.va, kPage, c.f));
    for (const Case& c : cases) {
        expect_flags(g.builder.walk(c.va), c.va, c.f.write, c.f.exec, c.f.user);
        expect_flags(g.builder.walk(c.va + 0xabc), c.va + 0xabc, c.f.write, c.f.exec, c.f.user);
    }

    // Raw bits: the leaf says P, and RW / US / NX exactly as asked; the upper
    // levels are P|RW|US without NX so that the leaf alone decides.
    const std::uint64_t pml4e = g.entry(g.builder.root());
    EXPECT_EQ(pml4e & 0x7, 0x7u);
    EXPECT_EQ(pml4e >> 63, 0u);
    const std::uint64_t pdpte = g.entry(pml4e & 0x000f'ffff'ffff'f000ull);
    EXPECT_EQ(pdpte & 0x87, 0x7u);  // and not a 1 GiB page (PS clear)
    const std::uint64_t pde = g.entry(pdpte & 0x000f'ffff'ffff'f000ull);
    EXPECT_EQ(pde & 0x87, 0x7u);  // not a 2 MiB page
    const std::uint64_t pt = pde & 0x000f'ffff'ffff'f000ull;
    for (const Case& c : cases) {
        const std::uint64_t pte = g.entry(pt + 8 * ((c.va >> 12) & 0x1ff));
        EXPECT_EQ(pte & 0x000f'ffff'ffff'f000ull, c.va);
        EXPECT_EQ(pte & 1, 1u);
        EXPECT_EQ((pte >> 1) & 1, c.f.write ? 1u : 0u);
        EXPECT_EQ((pte >> 2) & 1, c.f.user ? 1u : 0u);
        EXPECT_EQ(pte >> 63, c.f.exec ? 0u : 1u);
    }
}

TEST(PageTables, TranslatesToTheGivenGuestPhysicalAddress) {
    Guest g(4 * kMiB, 8);
    ASSERT_TRUE(g.builder.map(0x400000, 0x100000, 3 * kPage, {true, false, true}));
    for (std::uint64_t i = 0; i < 3; ++i) {
        expect_flags(g.builder.walk(0x400000 + i * kPage + 8), 0x100000 + i * kPage + 8, true, false, true);
    }
    // Nothing around the range, and not the identity mapping either.
    EXPECT_FALSE(g.builder.walk(0x400000 - kPage).has_value());
    EXPECT_FALSE(g.builder.walk(0x400000 + 3 * kPage).has_value());
    EXPECT_FALSE(g.builder.walk(0x100000).has_value());
}

TEST(PageTables, UnmappedAddressesAreAbsent) {
    Guest g(4 * kMiB, 16);
    ASSERT_TRUE(g.builder.map(0x200000, 0x200000, 2 * kPage, {false, true, true}));
    EXPECT_TRUE(g.builder.walk(0x200000).has_value());
    EXPECT_TRUE(g.builder.walk(0x201fff).has_value());
    for (const std::uint64_t va : std::initializer_list<std::uint64_t>{
             0x0ull, 0x1ff000ull, 0x202000ull, 0x400000ull, 0x40000000ull, 0x8000000000ull, kLowerHalfEnd - kPage,
             kLowerHalfEnd, 0x8000000000000000ull, 0xffff800000000000ull, ~0ull}) {
        EXPECT_FALSE(g.builder.walk(va).has_value()) << std::hex << va;
    }
}

TEST(PageTables, TablePagesForIsEnoughAndExhaustionIsRefused) {
    // [0, 4 MiB) needs 1 PML4 + 1 PDPT + 1 PD + 2 PT pages.
    EXPECT_EQ(PageTableBuilder::table_pages_for(4 * kMiB), 5u);
    EXPECT_EQ(PageTableBuilder::table_pages_for(kPage), 4u);
    EXPECT_EQ(PageTableBuilder::table_pages_for((1ull << 30) + kPage), 1u + 1u + 2u + 513u);
    {
        Guest g(4 * kMiB, PageTableBuilder::table_pages_for(4 * kMiB));
        ASSERT_TRUE(g.builder.map(0, 0, 4 * kMiB, {true, false, true}));
        expect_flags(g.builder.walk(4 * kMiB - 1), 4 * kMiB - 1, true, false, true);
        // The area is used up: a page in another 2 MiB region needs a sixth table page.
        EXPECT_FALSE(g.builder.map(0x800000, 0, kPage, {true, false, true}));
    }
    {
        Guest g(4 * kMiB, PageTableBuilder::table_pages_for(4 * kMiB) - 1);
        EXPECT_FALSE(g.builder.map(0, 0, 4 * kMiB, {true, false, true}));
    }
    {
        // Only the root: even one page needs three more tables.
        Guest g(kMiB, 1);
        EXPECT_FALSE(g.builder.map(0x10000, 0x10000, kPage, {}));
        EXPECT_FALSE(g.builder.walk(0x10000).has_value());
    }
}

TEST(PageTables, MalformedArgumentsAreRefused) {
    Guest g(4 * kMiB, 16);
    const PageFlags rw{true, false, true};
    EXPECT_FALSE(g.builder.map(0x10001, 0x10000, kPage, rw)) << "misaligned va";
    EXPECT_FALSE(g.builder.map(0x10000, 0x10800, kPage, rw)) << "misaligned gpa";
    EXPECT_FALSE(g.builder.map(0x10000, 0x10000, 100, rw)) << "misaligned size";
    EXPECT_FALSE(g.builder.map(~0ull & ~(kPage - 1), 0x10000, 2 * kPage, rw)) << "va + bytes overflows";
    EXPECT_FALSE(g.builder.map(0x10000, ~0ull & ~(kPage - 1), 2 * kPage, rw)) << "gpa + bytes overflows";
    EXPECT_FALSE(g.builder.map(0x10000, 4 * kMiB + 16 * kPage, kPage, rw)) << "gpa beyond guest memory";
    EXPECT_FALSE(g.builder.map(0x10000, 4 * kMiB + 15 * kPage, 2 * kPage, rw)) << "gpa range crosses the end";
    EXPECT_FALSE(g.builder.map(kLowerHalfEnd, 0x10000, kPage, rw)) << "non-canonical va";
    EXPECT_FALSE(g.builder.map(kLowerHalfEnd - kPage, 0x10000, 2 * kPage, rw)) << "va range leaves the lower half";
    EXPECT_FALSE(g.builder.map(0x8000000000000000ull, 0x10000, kPage, rw)) << "non-canonical va";
    EXPECT_FALSE(g.builder.map(0xffff800000000000ull, 0x10000, kPage, rw)) << "kernel-half va";
    // None of the refusals mapped anything.
    for (const std::uint64_t va : std::initializer_list<std::uint64_t>{0x10000ull, kLowerHalfEnd - kPage})
        EXPECT_FALSE(g.builder.walk(va).has_value());
    // The last page of the lower half is fine.
    EXPECT_TRUE(g.builder.map(kLowerHalfEnd - kPage, 0x10000, kPage, rw));
    expect_flags(g.builder.walk(kLowerHalfEnd - 1), 0x10fff, true, false, true);
}

TEST(PageTables, BadTableAreaMapsNothing) {
    std::vector<std::uint8_t> ram(kMiB + 8 * kPage);
    const std::uint64_t base = kMiB;
    PageTableBuilder misaligned(ram, base + 8, base + 8 * kPage);
    EXPECT_FALSE(misaligned.map(0x10000, 0x10000, kPage, {}));
    PageTableBuilder past_end(ram, base, base + 9 * kPage);
    EXPECT_FALSE(past_end.map(0x10000, 0x10000, kPage, {}));
    PageTableBuilder empty(ram, base, base);
    EXPECT_FALSE(empty.map(0x10000, 0x10000, kPage, {}));
    EXPECT_EQ(empty.root(), 0u);
    EXPECT_FALSE(empty.walk(0x10000).has_value());
}

// Memory placed at a high guest-physical base (a partition's window in the
// host-wide layout): every entry holds base + offset, CR3 too, and a mapping
// must lie inside [base, base + size) or wholly outside it below the limit.
TEST(PageTables, TablesAtAHighBaseHoldAbsoluteAddresses) {
    const PageFlags rw{true, false, true};
    const std::uint64_t base = 8ull << 30;
    std::vector<std::uint8_t> ram(kMiB + 8 * kPage);
    PageTableBuilder b(ram, kMiB, kMiB + 8 * kPage, base);
    EXPECT_EQ(b.root(), base + kMiB);
    ASSERT_TRUE(b.map(0x10000, base + 0x10000, 2 * kPage, rw));
    expect_flags(b.walk(0x10008), base + 0x10008, true, false, true);
    std::uint64_t pml4e;
    std::memcpy(&pml4e, ram.data() + kMiB, sizeof pml4e);
    EXPECT_EQ(pml4e & 0x000f'ffff'ffff'f000ull, base + kMiB + kPage);  // the next table page, absolute
    EXPECT_FALSE(b.map(0x20000, 0x10000, kPage, rw));                  // below the base: outside, above no limit
    EXPECT_FALSE(b.map(0x20000, base + kMiB, 9 * kPage, rw));          // straddles the end
    b.set_gpa_limit(base + (1ull << 32));
    EXPECT_TRUE(b.map(0x30000, base + 0x8000'0000, kPage, rw));  // another memslot above
    expect_flags(b.walk(0x30000), base + 0x8000'0000, true, false, true);
}

}  // namespace
}  // namespace rvm::kvm
