#include "backend/kvm/page_tables.hpp"

#include <cstring>

namespace rvm::kvm {

namespace {
constexpr std::uint64_t kPresent = 1u << 0;
constexpr std::uint64_t kWritable = 1u << 1;
constexpr std::uint64_t kUser = 1u << 2;
constexpr std::uint64_t kNoExec = std::uint64_t{1} << 63;
constexpr std::uint64_t kAddrMask = 0x000f'ffff'ffff'f000ull;
constexpr std::uint64_t kUpper = kPresent | kWritable | kUser;
constexpr std::uint64_t kLowerHalfEnd = std::uint64_t{1} << 47;

constexpr std::uint64_t index(std::uint64_t va, unsigned level) { return (va >> (12 + 9 * level)) & 0x1ff; }
constexpr std::uint64_t div_up(std::uint64_t a, std::uint64_t b) { return a / b + (a % b != 0 ? 1 : 0); }
}  // namespace

std::uint64_t PageTableBuilder::table_pages_for(std::uint64_t bytes) {
    return 1 + div_up(bytes, std::uint64_t{1} << 39) + div_up(bytes, std::uint64_t{1} << 30) +
           div_up(bytes, std::uint64_t{1} << 21);
}

PageTableBuilder::PageTableBuilder(std::span<std::uint8_t> guest, std::uint64_t table_base, std::uint64_t table_end,
                                   std::uint64_t base)
    : guest_(guest), base_(base), next_(table_base), end_(table_end) {
    if (table_base % kPage != 0 || table_end % kPage != 0 || table_end > guest.size() || table_base >= table_end ||
        base % kPage != 0 || base + guest.size() < base || base + guest.size() > kAddrMask) {
        ok_ = false;
        return;
    }
    const auto r = alloc_table();
    if (r) root_ = *r;
}

std::optional<std::uint64_t> PageTableBuilder::alloc_table() {
    if (!ok_ || next_ >= end_) return std::nullopt;
    const std::uint64_t t = next_;
    next_ += kPage;
    std::memset(guest_.data() + t, 0, kPage);
    return t;
}

std::uint64_t PageTableBuilder::load(std::uint64_t off) const {
    std::uint64_t v;
    std::memcpy(&v, guest_.data() + off, sizeof v);
    return v;
}

void PageTableBuilder::store(std::uint64_t off, std::uint64_t v) { std::memcpy(guest_.data() + off, &v, sizeof v); }

bool PageTableBuilder::map(std::uint64_t va, std::uint64_t gpa, std::uint64_t bytes, PageFlags flags) {
    if (!ok_ || root_ == 0 || va % kPage != 0 || gpa % kPage != 0 || bytes % kPage != 0) return false;
    std::uint64_t va_end = 0, gpa_end = 0;
    if (__builtin_add_overflow(va, bytes, &va_end) || __builtin_add_overflow(gpa, bytes, &gpa_end)) return false;
    if (va_end > kLowerHalfEnd) return false;
    // Inside the guest memory, or wholly outside it below the limit.
    const bool inside = gpa >= base_ && gpa_end <= base_ + guest_.size();
    const bool outside = gpa_end <= base_ || gpa >= base_ + guest_.size();
    if (!inside && !(outside && gpa_end <= gpa_limit_)) return false;
    const std::uint64_t leaf =
        kPresent | (flags.write ? kWritable : 0) | (flags.user ? kUser : 0) | (flags.exec ? 0 : kNoExec);
    for (std::uint64_t off = 0; off < bytes; off += kPage) {
        std::uint64_t table = root_;
        for (unsigned level = 3; level > 0; --level) {
            const std::uint64_t slot = table + 8 * index(va + off, level);
            std::uint64_t e = load(slot);
            if ((e & kPresent) == 0) {
                const auto t = alloc_table();
                if (!t) return false;
                e = (base_ + *t) | kUpper;
                store(slot, e);
            }
            table = (e & kAddrMask) - base_;  // a table this builder allocated
        }
        store(table + 8 * index(va + off, 0), ((gpa + off) & kAddrMask) | leaf);
    }
    return true;
}

std::optional<Translation> PageTableBuilder::walk(std::uint64_t va) const {
    if (root_ == 0 || va >= kLowerHalfEnd) return std::nullopt;
    std::uint64_t table = root_;
    for (unsigned level = 3; level > 0; --level) {
        const std::uint64_t e = load(table + 8 * index(va, level));
        if ((e & kPresent) == 0) return std::nullopt;
        if ((e & kAddrMask) < base_) return std::nullopt;
        table = (e & kAddrMask) - base_;
        if (table + kPage > guest_.size()) return std::nullopt;
    }
    const std::uint64_t e = load(table + 8 * index(va, 0));
    if ((e & kPresent) == 0) return std::nullopt;
    return Translation{(e & kAddrMask) | (va & (kPage - 1)),
                       PageFlags{(e & kWritable) != 0, (e & kNoExec) == 0, (e & kUser) != 0}};
}

}  // namespace rvm::kvm
