#include "host/runtime/agent_memory.hpp"

#include <algorithm>
#include <cstring>

namespace rvm::host {

AgentMemory::AgentMemory(std::span<std::uint8_t> ram, std::vector<GuestRange> ranges)
    : ram_(ram), ranges_(std::move(ranges)) {
    std::sort(ranges_.begin(), ranges_.end(),
              [](const GuestRange& a, const GuestRange& b) { return a.start < b.start; });
}

AgentMemory::View AgentMemory::view(std::uint64_t gpa, std::uint64_t len, bool write) const {
    std::uint64_t end = 0;
    if (__builtin_add_overflow(gpa, len, &end) || end > ram_.size()) return {};
    if (len == 0) return View{true, {}};
    // Walk the sorted ranges: [gpa, end) must be covered without a gap.
    std::uint64_t cur = gpa;
    for (const GuestRange& r : ranges_) {
        if (r.end <= cur) continue;
        if (r.start > cur || (write && !r.writable)) return {};
        cur = r.end;
        if (cur >= end) return View{true, ram_.subspan(gpa, len)};
    }
    return {};
}

bool AgentMemory::executable(std::uint64_t va) const {
    return std::any_of(ranges_.begin(), ranges_.end(),
                       [&](const GuestRange& r) { return r.executable && va >= r.start && va < r.end; });
}

bool AgentMemory::read(PartitionId, std::uint64_t gpa, std::span<std::uint8_t> out) const {
    const View v = view(gpa, out.size(), false);
    if (!v.ok) return false;
    std::memcpy(out.data(), v.bytes.data(), out.size());
    return true;
}

}  // namespace rvm::host
