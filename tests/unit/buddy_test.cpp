#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <iterator>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "nucleus/buddy.hpp"

namespace rvm {
namespace {

constexpr std::uint64_t kPage = BuddyAllocator::kPageSize;
constexpr std::uint64_t KiB(std::uint64_t n) { return n << 10; }
constexpr std::uint64_t MiB(std::uint64_t n) { return n << 20; }

BuddyAllocator make(std::uint64_t base, unsigned shift) {
    auto r = BuddyAllocator::create(base, shift);
    EXPECT_TRUE(r.ok());
    return r.ok() ? r.value() : BuddyAllocator{};
}

std::uint64_t alloc_ok(BuddyAllocator& a, std::uint64_t bytes) {
    auto r = a.allocate(bytes);
    EXPECT_TRUE(r.ok()) << "allocate(" << bytes << ")";
    return r.ok() ? r.value() : ~std::uint64_t{0};
}

BuddyError alloc_err(BuddyAllocator& a, std::uint64_t bytes) {
    auto r = a.allocate(bytes);
    EXPECT_FALSE(r.ok()) << "allocate(" << bytes << ") returned " << (r.ok() ? r.value() : 0);
    return r.ok() ? BuddyError::InvalidArgument : r.error();
}

TEST(Buddy, CreateValidatesArguments) {
    auto bad = [](std::uint64_t base, unsigned shift) {
        auto r = BuddyAllocator::create(base, shift);
        return !r.ok() && r.error() == BuddyError::InvalidArgument;
    };
    EXPECT_TRUE(bad(0, 0));
    EXPECT_TRUE(bad(0, BuddyAllocator::kPageShift - 1));
    EXPECT_TRUE(bad(0, BuddyAllocator::kMaxSpaceShift + 1));
    EXPECT_TRUE(bad(0, 64));
    EXPECT_TRUE(bad(0x1000, 13));          // misaligned for an 8 KiB space
    EXPECT_TRUE(bad(MiB(1) + kPage, 20));  // page-aligned but not space-aligned
    EXPECT_TRUE(bad(1, 12));
    EXPECT_TRUE(bad(UINT64_MAX - kPage + 1, 12));  // base + size == 2^64
    EXPECT_TRUE(bad(UINT64_MAX - (std::uint64_t{1} << 40) + 1, 40));

    auto a = make(0, BuddyAllocator::kPageShift);
    EXPECT_EQ(a.size(), kPage);
    auto b = make(std::uint64_t{1} << 40, BuddyAllocator::kMaxSpaceShift);
    EXPECT_EQ(b.base(), std::uint64_t{1} << 40);
    EXPECT_EQ(b.size(), std::uint64_t{1} << 40);
    EXPECT_EQ(b.free_bytes(), b.size());
    EXPECT_EQ(b.live_allocations(), 0u);
    auto top = make(UINT64_MAX - 2 * kPage + 1, 12);  // the highest valid space
    EXPECT_EQ(alloc_ok(top, 1), UINT64_MAX - 2 * kPage + 1);
}

TEST(Buddy, DefaultManagesNothing) {
    BuddyAllocator a;
    EXPECT_EQ(a.size(), 0u);
    EXPECT_EQ(a.free_bytes(), 0u);
    EXPECT_EQ(alloc_err(a, 1), BuddyError::OutOfMemory);
    EXPECT_EQ(alloc_err(a, kPage), BuddyError::OutOfMemory);
    EXPECT_EQ(alloc_err(a, 0), BuddyError::InvalidArgument);
    auto f = a.free(0, kPage);
    ASSERT_FALSE(f.ok());
    EXPECT_EQ(f.error(), BuddyError::NotAllocated);
    EXPECT_EQ(a, BuddyAllocator{});
}

TEST(Buddy, BlockSizeRoundsUpToPowerOfTwoPages) {
    EXPECT_EQ(BuddyAllocator::block_size(0), 0u);
    EXPECT_EQ(BuddyAllocator::block_size(1), kPage);
    EXPECT_EQ(BuddyAllocator::block_size(kPage), kPage);
    EXPECT_EQ(BuddyAllocator::block_size(kPage + 1), 2 * kPage);
    EXPECT_EQ(BuddyAllocator::block_size(KiB(12)), KiB(16));
    EXPECT_EQ(BuddyAllocator::block_size(BuddyAllocator::kMaxBlockBytes), BuddyAllocator::kMaxBlockBytes);
    EXPECT_EQ(BuddyAllocator::block_size(BuddyAllocator::kMaxBlockBytes + 1), 0u);
    EXPECT_EQ(BuddyAllocator::block_size(UINT64_MAX), 0u);
}

TEST(Buddy, AllocatesAlignedBlocksAtTheLowestAddress) {
    const std::uint64_t base = std::uint64_t{1} << 32;
    auto a = make(base, 20);
    EXPECT_EQ(alloc_ok(a, 1), base);
    EXPECT_EQ(alloc_ok(a, KiB(64)), base + KiB(64));  // aligned: skips the hole at 4 KiB
    EXPECT_EQ(alloc_ok(a, kPage), base + KiB(4));     // lowest: fills the hole
    EXPECT_EQ(alloc_ok(a, KiB(5)), base + KiB(8));    // rounds to 8 KiB, 8 KiB aligned
    EXPECT_EQ(alloc_ok(a, KiB(32)), base + KiB(32));
    EXPECT_EQ(alloc_ok(a, KiB(16)), base + KiB(16));
    EXPECT_EQ(alloc_ok(a, kPage), base + KiB(128));
    EXPECT_EQ(a.live_allocations(), 7u);
    EXPECT_EQ(a.free_bytes(), MiB(1) - KiB(4 + 64 + 4 + 8 + 32 + 16 + 4));
    ASSERT_TRUE(a.free(base + KiB(4), kPage).ok());
    EXPECT_EQ(alloc_ok(a, 100), base + KiB(4));
    EXPECT_EQ(alloc_ok(a, KiB(256)), base + KiB(256));
    EXPECT_EQ(alloc_ok(a, KiB(512)), base + KiB(512));
}

TEST(Buddy, SameOperationsGiveSameAddressesAndStates) {
    auto run = [] {
        auto a = make(MiB(16), 24);
        std::vector<std::uint64_t> addrs;
        for (std::uint64_t i = 1; i <= 40; ++i) addrs.push_back(alloc_ok(a, (i * 7919) % KiB(200) + 1));
        for (std::size_t i = 0; i < addrs.size(); i += 3)
            EXPECT_TRUE(a.free(addrs[i], (((i + 1) * 7919) % KiB(200)) + 1).ok());
        for (std::uint64_t i = 1; i <= 10; ++i) addrs.push_back(alloc_ok(a, i * KiB(9)));
        return std::make_pair(a, addrs);
    };
    const auto [a1, addrs1] = run();
    const auto [a2, addrs2] = run();
    EXPECT_EQ(addrs1, addrs2);
    EXPECT_EQ(a1, a2);
}

TEST(Buddy, StateIsCanonicalWhateverTheHistory) {
    auto a = make(0, 16);
    EXPECT_EQ(alloc_ok(a, kPage), 0u);
    EXPECT_EQ(alloc_ok(a, kPage), kPage);
    EXPECT_EQ(alloc_ok(a, KiB(8)), KiB(8));
    ASSERT_TRUE(a.free(kPage, kPage).ok());
    auto b = make(0, 16);
    EXPECT_EQ(alloc_ok(b, kPage), 0u);
    EXPECT_EQ(alloc_ok(b, KiB(8)), KiB(8));
    EXPECT_EQ(a, b);
    ASSERT_TRUE(b.free(0, kPage).ok());
    EXPECT_NE(a, b);
}

TEST(Buddy, RejectsInvalidSizesWithoutChange) {
    auto a = make(0, 16);
    (void)alloc_ok(a, kPage);
    const BuddyAllocator before = a;
    EXPECT_EQ(alloc_err(a, 0), BuddyError::InvalidArgument);
    EXPECT_EQ(alloc_err(a, BuddyAllocator::kMaxBlockBytes + 1), BuddyError::InvalidArgument);
    EXPECT_EQ(alloc_err(a, UINT64_MAX), BuddyError::InvalidArgument);
    EXPECT_EQ(alloc_err(a, BuddyAllocator::kMaxBlockBytes), BuddyError::OutOfMemory);  // valid, larger than this space
    EXPECT_EQ(alloc_err(a, KiB(128)), BuddyError::OutOfMemory);
    EXPECT_EQ(a, before);
}

TEST(Buddy, ExhaustionIsAStatus) {
    auto a = make(0, 16);  // 16 pages
    std::vector<std::uint64_t> addrs;
    for (int i = 0; i < 16; ++i) addrs.push_back(alloc_ok(a, kPage));
    for (std::size_t i = 0; i < addrs.size(); ++i) EXPECT_EQ(addrs[i], i * kPage);
    EXPECT_EQ(a.free_bytes(), 0u);
    const BuddyAllocator full = a;
    EXPECT_EQ(alloc_err(a, kPage), BuddyError::OutOfMemory);
    EXPECT_EQ(a, full);

    // Fragmented: 8 free pages, but no free 8 KiB block.
    for (std::size_t i = 0; i < 16; i += 2) ASSERT_TRUE(a.free(addrs[i], kPage).ok());
    EXPECT_EQ(a.free_bytes(), KiB(32));
    EXPECT_EQ(alloc_err(a, KiB(8)), BuddyError::OutOfMemory);
    EXPECT_EQ(alloc_ok(a, kPage), 0u);
}

TEST(Buddy, CoalescesBackToOneBlockInAnyFreeOrder) {
    const std::uint64_t base = MiB(64);
    std::mt19937_64 rng(20240601);
    for (int round = 0; round < 20; ++round) {
        auto a = make(base, 22);
        const BuddyAllocator fresh = a;
        std::vector<std::pair<std::uint64_t, std::uint64_t>> live;
        const std::uint64_t sizes[] = {1, kPage, KiB(5), KiB(16), KiB(64), KiB(100), KiB(256)};
        for (int i = 0; i < 40; ++i) {
            const std::uint64_t bytes = sizes[static_cast<std::size_t>(i) % std::size(sizes)];
            auto r = a.allocate(bytes);
            if (r.ok()) live.emplace_back(r.value(), bytes);
        }
        ASSERT_GT(live.size(), 20u);
        if (round == 0) {
            std::reverse(live.begin(), live.end());
        } else if (round > 1) {
            std::shuffle(live.begin(), live.end(), rng);
        }  // round 1: allocation order
        for (const auto& [addr, bytes] : live) ASSERT_TRUE(a.free(addr, bytes).ok());
        EXPECT_EQ(a, fresh);
        EXPECT_EQ(a.free_bytes(), a.size());
        EXPECT_EQ(alloc_ok(a, a.size()), base);
    }
}

TEST(Buddy, RejectsBadFreesWithoutChange) {
    const std::uint64_t base = MiB(1);
    auto a = make(base, 20);
    const std::uint64_t p = alloc_ok(a, KiB(5));   // 8 KiB block at base
    const std::uint64_t q = alloc_ok(a, KiB(16));  // at base + 16 KiB
    const std::uint64_t r = alloc_ok(a, kPage);    // at base + 8 KiB
    ASSERT_EQ(p, base);
    ASSERT_EQ(q, base + KiB(16));
    ASSERT_EQ(r, base + KiB(8));
    const BuddyAllocator before = a;
    auto rejected = [&](std::uint64_t addr, std::uint64_t bytes) {
        auto f = a.free(addr, bytes);
        return !f.ok() && f.error() == BuddyError::NotAllocated && a == before;
    };
    EXPECT_TRUE(rejected(p, kPage));    // smaller size
    EXPECT_TRUE(rejected(p, KiB(16)));  // larger size (its buddy space)
    EXPECT_TRUE(rejected(p, 0));
    EXPECT_TRUE(rejected(p, UINT64_MAX));
    EXPECT_TRUE(rejected(p + kPage, kPage));         // inside a live block
    EXPECT_TRUE(rejected(q + KiB(8), KiB(8)));       // second half of a live block
    EXPECT_TRUE(rejected(base + KiB(12), kPage));    // never allocated
    EXPECT_TRUE(rejected(base + KiB(64), KiB(64)));  // free, aligned
    EXPECT_TRUE(rejected(base - kPage, kPage));      // below the space
    EXPECT_TRUE(rejected(base + MiB(1), kPage));     // above the space
    EXPECT_TRUE(rejected(0, kPage));
    EXPECT_TRUE(rejected(base, MiB(2)));  // larger than the space
    EXPECT_TRUE(rejected(UINT64_MAX, 1));

    // Same requested bytes, the rounded size, or any size rounding alike are accepted.
    ASSERT_TRUE(a.free(p, KiB(8)).ok());
    ASSERT_TRUE(a.free(q, KiB(13)).ok());
    const BuddyAllocator after = a;
    auto again = a.free(p, KiB(5));  // double free
    ASSERT_FALSE(again.ok());
    EXPECT_EQ(again.error(), BuddyError::NotAllocated);
    EXPECT_EQ(a, after);
    ASSERT_TRUE(a.free(r, 1).ok());
    EXPECT_EQ(a.free_bytes(), a.size());
}

TEST(Buddy, LiveBlockLimitIsAStatus) {
    auto a = make(0, 20);  // 256 pages
    std::vector<std::uint64_t> addrs;
    for (std::size_t i = 0; i < BuddyAllocator::kMaxAllocations; ++i) addrs.push_back(alloc_ok(a, kPage));
    EXPECT_EQ(a.live_allocations(), BuddyAllocator::kMaxAllocations);
    EXPECT_GT(a.free_bytes(), 0u);
    const BuddyAllocator full = a;
    EXPECT_EQ(alloc_err(a, kPage), BuddyError::TooManyBlocks);
    EXPECT_EQ(alloc_err(a, KiB(64)), BuddyError::TooManyBlocks);
    EXPECT_EQ(a, full);
    ASSERT_TRUE(a.free(addrs[10], kPage).ok());
    EXPECT_EQ(alloc_ok(a, kPage), addrs[10]);
    for (auto addr : addrs) ASSERT_TRUE(a.free(addr, kPage).ok());
    EXPECT_EQ(a, make(0, 20));
}

TEST(Buddy, CopiesAreIndependentCheckpoints) {
    auto a = make(0, 20);
    (void)alloc_ok(a, KiB(12));
    const BuddyAllocator checkpoint = a;
    const std::uint64_t x = alloc_ok(a, kPage);
    EXPECT_NE(a, checkpoint);
    BuddyAllocator replay = checkpoint;
    EXPECT_EQ(alloc_ok(replay, kPage), x);
    EXPECT_EQ(replay, a);
}

// Reference model: a page map of the space; a block is free when all its pages are.
struct Model {
    std::uint64_t base;
    std::vector<bool> used;  // per page
    struct Block {
        std::uint64_t addr, bytes, block;
    };
    std::vector<Block> live;
    std::uint64_t free_bytes;

    std::uint64_t pages() const { return used.size(); }
    bool range_free(std::uint64_t first, std::uint64_t n) const {
        for (std::uint64_t i = first; i < first + n; ++i) {
            if (used[i]) return false;
        }
        return true;
    }
    // Lowest aligned free block of n pages, or pages() if none.
    std::uint64_t lowest(std::uint64_t n) const {
        for (std::uint64_t first = 0; first + n <= pages(); first += n) {
            if (range_free(first, n)) return first;
        }
        return pages();
    }
    void mark(std::uint64_t first, std::uint64_t n, bool v) {
        for (std::uint64_t i = first; i < first + n; ++i) {
            ASSERT_NE(used[i], v) << "overlap at page " << i;
            used[i] = v;
        }
    }
};

struct Outcomes {
    int allocated = 0, out_of_memory = 0, too_many = 0, freed = 0, probes = 0;
};

void random_ops(std::uint64_t seed, std::uint64_t base, unsigned shift, unsigned max_order, int ops, Outcomes& count) {
    SCOPED_TRACE("seed=" + std::to_string(seed) + " shift=" + std::to_string(shift));
    std::mt19937_64 rng(seed);
    auto a = make(base, shift);
    const BuddyAllocator fresh = a;
    Model m{base, std::vector<bool>(a.size() / kPage), {}, a.size()};
    std::vector<Model::Block> freed;  // recent frees, for double-free probes
    auto pick = [&](std::uint64_t n) { return std::uniform_int_distribution<std::uint64_t>(0, n - 1)(rng); };

    for (int op = 0; op < ops; ++op) {
        SCOPED_TRACE("op=" + std::to_string(op));
        const std::uint64_t roll = pick(100);
        if (roll < 55) {
            const std::uint64_t order = pick(max_order + 1);
            const std::uint64_t hi = kPage << order;
            const std::uint64_t bytes = pick(2) == 0 ? hi : (hi / 2) + 1 + pick(hi / 2);
            const std::uint64_t block = BuddyAllocator::block_size(bytes);
            ASSERT_EQ(block, order == 0 ? kPage : hi);
            const std::uint64_t first = m.lowest(block / kPage);
            auto r = a.allocate(bytes);
            if (m.live.size() == BuddyAllocator::kMaxAllocations) {
                ASSERT_FALSE(r.ok());
                ASSERT_EQ(r.error(), BuddyError::TooManyBlocks);
                ++count.too_many;
            } else if (first == m.pages()) {
                ASSERT_FALSE(r.ok());
                ASSERT_EQ(r.error(), BuddyError::OutOfMemory);
                ++count.out_of_memory;
            } else {
                ASSERT_TRUE(r.ok());
                const std::uint64_t addr = r.value();
                ASSERT_EQ(addr, base + first * kPage);
                ASSERT_GE(addr, a.base());
                ASSERT_LE(addr + block, a.base() + a.size());
                ASSERT_EQ((addr - base) % block, 0u);
                m.mark(first, block / kPage, true);
                ASSERT_FALSE(::testing::Test::HasFatalFailure());
                m.live.push_back({addr, bytes, block});
                m.free_bytes -= block;
                ++count.allocated;
            }
        } else if (roll < 95) {
            if (m.live.empty()) continue;
            const std::size_t i = static_cast<std::size_t>(pick(m.live.size()));
            const Model::Block b = m.live[i];
            ASSERT_TRUE(a.free(b.addr, pick(2) == 0 ? b.bytes : b.block).ok());
            m.mark((b.addr - base) / kPage, b.block / kPage, false);
            ASSERT_FALSE(::testing::Test::HasFatalFailure());
            m.live.erase(m.live.begin() + static_cast<std::ptrdiff_t>(i));
            m.free_bytes += b.block;
            ++count.freed;
            freed.push_back(b);
            if (freed.size() > 8) freed.erase(freed.begin());
        } else {
            // Probes that must fail and change nothing: a stale block (unless
            // the same block was handed out again) or a misaligned address.
            const BuddyAllocator before = a;
            if (!freed.empty() && pick(2) == 0) {
                const Model::Block b = freed[static_cast<std::size_t>(pick(freed.size()))];
                const bool reissued = std::any_of(m.live.begin(), m.live.end(), [&](const Model::Block& l) {
                    return l.addr == b.addr && l.block == b.block;
                });
                if (reissued) continue;
                auto f = a.free(b.addr, b.bytes);
                ASSERT_FALSE(f.ok());
                ASSERT_EQ(f.error(), BuddyError::NotAllocated);
            } else if (!m.live.empty()) {
                const Model::Block b = m.live[static_cast<std::size_t>(pick(m.live.size()))];
                auto f = a.free(b.addr, b.block * 2);
                ASSERT_FALSE(f.ok());
                if (b.block > kPage) {
                    ASSERT_FALSE(a.free(b.addr + b.block / 2, b.block / 2).ok());
                }
            }
            ASSERT_EQ(a, before);
            ++count.probes;
        }
        ASSERT_EQ(a.free_bytes(), m.free_bytes);
        ASSERT_EQ(a.live_allocations(), m.live.size());
    }

    std::shuffle(m.live.begin(), m.live.end(), rng);
    for (const auto& b : m.live) ASSERT_TRUE(a.free(b.addr, b.bytes).ok());
    EXPECT_EQ(a, fresh);
    EXPECT_EQ(a.free_bytes(), a.size());
    EXPECT_EQ(alloc_ok(a, a.size()), base);
}

TEST(Buddy, RandomOpsMatchReferenceModel) {
    // Small space: memory runs out often. Large space: the live-block limit does.
    Outcomes small;
    Outcomes large;
    for (std::uint64_t seed : {0x5eed0001ull, 0x5eed0002ull, 0xb0dd1e5ull}) {
        random_ops(seed, MiB(1), 20, 6, 4000, small);
        random_ops(seed ^ 0xffff, std::uint64_t{1} << 34, 28, 12, 4000, large);
    }
    random_ops(42, 0, BuddyAllocator::kMaxSpaceShift, 14, 2000, large);
    // The model was exercised on every path, not only the easy one.
    for (const Outcomes* n : {&small, &large}) {
        EXPECT_GT(n->allocated, 1000);
        EXPECT_GT(n->freed, 1000);
        EXPECT_GT(n->probes, 100);
    }
    EXPECT_GT(small.out_of_memory, 100);
    EXPECT_GT(large.too_many, 100);
    std::printf("buddy random ops: small space ok=%d oom=%d; large space ok=%d too_many=%d\n", small.allocated,
                small.out_of_memory, large.allocated, large.too_many);
}

}  // namespace
}  // namespace rvm
