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

    // `guest` is guest-physical memory from gpa 0; table pages are taken from
    // [table_base, table_end), which must be page-aligned and inside `guest`.
    PageTableBuilder(std::span<std::uint8_t> guest, std::uint64_t table_base, std::uint64_t table_end);

    // Maps [va, va + bytes) to [gpa, gpa + bytes). All page-aligned, canonical
    // lower-half addresses, gpa range inside guest memory. False (and a
    // partially built table) if not; the caller then discards the partition.
    [[nodiscard]] bool map(std::uint64_t va, std::uint64_t gpa, std::uint64_t bytes, PageFlags flags);

    // Lets map() target guest-physical addresses up to `limit` (memory outside
    // `guest`, e.g. other memslots); table pages still come from `guest`.
    void set_gpa_limit(std::uint64_t limit) { gpa_limit_ = limit; }

    [[nodiscard]] std::uint64_t root() const { return root_; }  // CR3
    [[nodiscard]] std::optional<Translation> walk(std::uint64_t va) const;

private:
    [[nodiscard]] std::optional<std::uint64_t> alloc_table();
    [[nodiscard]] std::uint64_t load(std::uint64_t gpa) const;
    void store(std::uint64_t gpa, std::uint64_t v);

    std::span<std::uint8_t> guest_;
    std::uint64_t next_;
    std::uint64_t end_;
    std::uint64_t root_ = 0;
    std::uint64_t gpa_limit_ = 0;
    bool ok_ = true;
};

}  // namespace rvm::kvm
