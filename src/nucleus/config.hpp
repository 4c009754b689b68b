// Capacities of the nucleus's fixed tables (STYLE.md 7). Exhausting any of
// them is a status (RVM_E_EXHAUSTED), never a crash or an allocation.
#pragma once

#include <cstddef>
#include <cstdint>

namespace rvm {

inline constexpr std::size_t kMaxPartitions = 64;
inline constexpr std::size_t kMaxTasks = 256;
// A partition's task quota (PartitionConfig::max_tasks, 8 bits).
inline constexpr std::uint8_t kMaxTasksPerPartition = 255;
inline constexpr std::size_t kCapsPerPartition = 128;
inline constexpr std::size_t kMaxRegions = 256;
inline constexpr std::size_t kMaxSharesPerRegion = 8;
inline constexpr std::size_t kMaxEdges = 256;
inline constexpr std::size_t kMaxDevices = 16;
inline constexpr std::size_t kMaxLeases = 16;

static_assert(kMaxPartitions <= 255, "partition indices are packed into 8 bits of witness flags");
static_assert(kMaxTasksPerPartition <= kMaxTasks, "one partition cannot hold more tasks than the pool");
static_assert(kMaxDevices <= 255, "device indices are packed into 8 bits of witness flags");

}  // namespace rvm
