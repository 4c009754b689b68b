#include "nucleus/buddy.hpp"

#include <algorithm>
#include <cstdint>

namespace rvm {
namespace {

// Key of a block of `pages` (a power of two) pages at page `first`; see buddy.hpp.
constexpr std::uint32_t make_key(std::uint64_t first, std::uint64_t pages) {
    return static_cast<std::uint32_t>(2 * first + pages);
}
constexpr std::uint64_t key_pages(std::uint32_t key) { return key & (~key + 1u); }
constexpr std::uint64_t key_first(std::uint32_t key) { return (key - key_pages(key)) >> 1; }
constexpr std::uint64_t key_end(std::uint32_t key) { return (key + key_pages(key)) >> 1; }

static_assert(key_first(make_key(8, 8)) == 8 && key_end(make_key(8, 8)) == 16);
static_assert(key_first(make_key(0, 1)) == 0 && key_end(make_key(0, 1)) == 1);
static_assert(make_key(0, 4) < make_key(4, 1) && make_key(4, 1) < make_key(6, 2));
static_assert(make_key(0, std::uint64_t{1} << 28) == (1u << 28));

constexpr std::uint64_t align_up(std::uint64_t v, std::uint64_t pow2) { return (v + pow2 - 1) & ~(pow2 - 1); }

}  // namespace

Result<BuddyAllocator, BuddyError> BuddyAllocator::create(std::uint64_t base, unsigned space_shift) {
    if (space_shift < kPageShift || space_shift > kMaxSpaceShift) return err(BuddyError::InvalidArgument);
    const std::uint64_t size = std::uint64_t{1} << space_shift;
    if ((base & (size - 1)) != 0) return err(BuddyError::InvalidArgument);
    if (base > UINT64_MAX - size) return err(BuddyError::InvalidArgument);
    return BuddyAllocator(base, static_cast<std::uint8_t>(space_shift));
}

Result<std::uint64_t, BuddyError> BuddyAllocator::allocate(std::uint64_t bytes) {
    const std::uint64_t block = block_size(bytes);
    if (block == 0) return err(BuddyError::InvalidArgument);
    if (count_ == kMaxAllocations) return err(BuddyError::TooManyBlocks);
    const std::uint64_t pages = block >> kPageShift;
    const std::uint64_t total = total_pages();
    if (pages > total - used_pages_) return err(BuddyError::OutOfMemory);

    // First fit in address order: the lowest aligned candidate that ends
    // before the next live block. Live blocks are disjoint and sorted, so the
    // cursor only moves forward and the hole found lies between keys_[i-1]
    // and keys_[i]: inserting at i keeps the order.
    std::uint64_t cursor = 0;
    std::size_t i = 0;
    for (; i < count_; ++i) {
        if (cursor + pages <= key_first(keys_[i])) break;
        cursor = std::max(cursor, align_up(key_end(keys_[i]), pages));
    }
    if (i == count_ && cursor + pages > total) return err(BuddyError::OutOfMemory);

    insert_at(i, make_key(cursor, pages));
    used_pages_ += static_cast<std::uint32_t>(pages);
    return base_ + (cursor << kPageShift);
}

Result<void, BuddyError> BuddyAllocator::free(std::uint64_t addr, std::uint64_t bytes) {
    const std::uint64_t block = block_size(bytes);
    if (block == 0 || block > size() || addr < base_) return err(BuddyError::NotAllocated);
    const std::uint64_t offset = addr - base_;
    if (offset >= size() || (offset & (block - 1)) != 0) return err(BuddyError::NotAllocated);

    const std::uint64_t pages = block >> kPageShift;
    const std::uint32_t key = make_key(offset >> kPageShift, pages);
    std::size_t lo = 0;
    std::size_t hi = count_;
    while (lo < hi) {
        const std::size_t mid = lo + (hi - lo) / 2;
        if (keys_[mid] < key) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    if (lo == count_ || keys_[lo] != key) return err(BuddyError::NotAllocated);

    // Coalescing is implicit: the freed pages rejoin the maximal free blocks
    // around them (see buddy.hpp).
    erase_at(lo);
    used_pages_ -= static_cast<std::uint32_t>(pages);
    return {};
}

// Callers guarantee count_ < kMaxAllocations and pos <= count_ (allocate
// checks the limit first; pos comes from the scan over [0, count_]).
void BuddyAllocator::insert_at(std::size_t pos, std::uint32_t key) {
    for (std::size_t j = count_; j > pos; --j) keys_[j] = keys_[j - 1];
    keys_[pos] = key;
    ++count_;
}

// Callers guarantee pos < count_ (free found keys_[pos]).
void BuddyAllocator::erase_at(std::size_t pos) {
    for (std::size_t j = pos + 1; j < count_; ++j) keys_[j - 1] = keys_[j];
    --count_;
    keys_[count_] = 0;  // canonical form: unused entries are zero
}

}  // namespace rvm
