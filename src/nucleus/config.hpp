// Capacities of the nucleus's fixed tables (STYLE.md 7). Exhausting any of
// them is a status (RVM_E_EXHAUSTED), never a crash or an allocation.
#pragma once

#include <cstddef>

namespace rvm {

inline constexpr std::size_t kMaxPartitions = 64;
inline constexpr std::size_t kMaxTasks = 256;
inline constexpr std::size_t kCapsPerPartition = 128;
inline constexpr std::size_t kMaxRegions = 256;
inline constexpr std::size_t kMaxSharesPerRegion = 8;
inline constexpr std::size_t kMaxEdges = 256;
inline constexpr std::size_t kMaxDevices = 16;
inline constexpr std::size_t kMaxLeases = 16;

static_assert(kMaxPartitions <= 255, "partition indices are packed into 8 bits of witness flags");
static_assert(kMaxDevices <= 255, "device indices are packed into 8 bits of witness flags");

}  // namespace rvm
