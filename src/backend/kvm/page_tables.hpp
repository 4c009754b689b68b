// PageTableBuilder: 4-level x86-64 page tables written into guest memory by
// the host (DESIGN.md section 4). Leaves are 4 KiB pages with exact
// permissions; upper levels are permissive (P|RW|US) so the leaf decides.
// No KVM here: the builder works on a byte span and is unit-tested by walking.
#pragma once

#include <cstdint>
#include <optional>
#include <span>

namespace rvm::kvm {

struct PageFlags {
    bool write = false;
    bool exec = false;
    bool user = true;
};

struct Translation {
    std::uint64_t gpa = 0;
    PageFlags flags;
};

class PageTableBuilder {
public:
    static constexpr std::uint64_t kPage = 4096;

    // Page-table pages needed to map [0, bytes) with 4 KiB pages.
    [[nodiscard]] static std::uint64_t table_pages_for(std::uint64_t bytes);

    // `guest` is guest-physical memory from gpa `base` (page-aligned); table
    // pages are taken from [table_base, table_end), offsets into `guest` that
    // must be page-aligned and inside it. Entries hold guest-physical
    // addresses (base + offset), so the same tables work wherever the memory
    // is placed, as long as it is at `base`.
    PageTableBuilder(std::span<std::uint8_t> guest, std::uint64_t table_base, std::uint64_t table_end,
                     std::uint64_t base = 0);

    // Maps [va, va + bytes) to [gpa, gpa + bytes). All page-aligned, canonical
    // lower-half addresses, gpa range inside guest memory [base, base + size). False (and a
    // partially built table) if not; the caller then discards the partition.
    [[nodiscard]] bool map(std::uint64_t va, std::uint64_t gpa, std::uint64_t bytes, PageFlags flags);

    // Lets map() target any guest-physical address below `limit` (memory
    // outside `guest`, e.g. other memslots); table pages still come from `guest`.
    void set_gpa_limit(std::uint64_t limit) { gpa_limit_ = limit; }

    [[nodiscard]] std::uint64_t root() const { return root_ == 0 ? 0 : base_ + root_; }  // CR3
    [[nodiscard]] std::optional<Translation> walk(std::uint64_t va) const;

private:
    [[nodiscard]] std::optional<std::uint64_t> alloc_table();
    [[nodiscard]] std::uint64_t load(std::uint64_t off) const;
    void store(std::uint64_t off, std::uint64_t v);

    std::span<std::uint8_t> guest_;
    std::uint64_t base_;
    std::uint64_t next_;
    std::uint64_t end_;
    std::uint64_t root_ = 0;       // offset into guest_ (0: none)
    std::uint64_t gpa_limit_ = 0;  // 0: only inside guest memory
    bool ok_ = true;
};

}  // namespace rvm::kvm
