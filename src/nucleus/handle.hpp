// Generational handles: (slot index, generation). A handle whose slot has been
// freed and reused carries an old generation and is rejected.
#pragma once

#include <compare>
#include <cstdint>

namespace rvm {

// Generations stay below 2^31 so that a handle returned in rax is never
// mistaken for a negative error value.
inline constexpr std::uint32_t kMaxGeneration = 0x7fffffffu;

template <typename Tag>
struct Handle {
    std::uint32_t index = 0;
    std::uint32_t generation = 0;  // 0 = null; live slots start at 1

    [[nodiscard]] constexpr bool is_null() const { return generation == 0; }
    [[nodiscard]] constexpr std::uint64_t raw() const { return (static_cast<std::uint64_t>(generation) << 32) | index; }
    [[nodiscard]] static constexpr Handle from_raw(std::uint64_t raw) {
        return Handle{static_cast<std::uint32_t>(raw & 0xffffffffu), static_cast<std::uint32_t>(raw >> 32)};
    }
    friend constexpr bool operator==(Handle, Handle) = default;
};

struct PartitionTag;
struct TaskTag;
struct RegionTag;
struct EdgeTag;
struct LeaseTag;
struct CapTag;

using PartitionId = Handle<PartitionTag>;
using TaskId = Handle<TaskTag>;
using RegionId = Handle<RegionTag>;
using EdgeId = Handle<EdgeTag>;
using LeaseId = Handle<LeaseTag>;
// A capability handle indexes the holder's own capability table.
using CapHandle = Handle<CapTag>;

}  // namespace rvm
