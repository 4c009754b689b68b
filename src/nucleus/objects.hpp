// Regions, communication edges, devices and device leases: the plain data of
// the kernel objects whose rules live in Kernel (nucleus/kernel.hpp).
#pragma once

#include <array>
#include <cstdint>

#include "abi/object.h"
#include "nucleus/config.hpp"
#include "nucleus/handle.hpp"

namespace rvm {

struct DeviceTag;
using DeviceId = Handle<DeviceTag>;

struct RegionShare {
    PartitionId partition;  // null = unused entry
    std::uint64_t gpa = 0;  // where it is mapped, read-only, in that partition
    friend constexpr bool operator==(const RegionShare&, const RegionShare&) = default;
};

struct Region {
    PartitionId owner;
    std::uint8_t policy = RVM_REGION_SLAB;  // enum rvm_region_policy
    std::uint8_t tier = RVM_TIER_HOT;       // enum rvm_memory_tier
    std::uint64_t pages = 0;                // size in 4 KiB pages as requested
    std::uint64_t gpa = 0;                  // placement in the owner's space
    std::array<RegionShare, kMaxSharesPerRegion> shares{};
    friend bool operator==(const Region&, const Region&) = default;
};

struct CommEdge {
    PartitionId source;
    PartitionId dest;
    std::uint64_t weight = 0;    // bytes moved, decayed per epoch
    std::uint64_t messages = 0;  // since the last epoch
    friend constexpr bool operator==(const CommEdge&, const CommEdge&) = default;
};

struct Device {
    std::uint64_t hw_id = 0;
    Handle<struct LeaseTag> lease;  // null when not leased
    friend constexpr bool operator==(const Device&, const Device&) = default;
};

struct DeviceLease {
    DeviceId device;
    PartitionId holder;
    std::uint64_t expires_ns = 0;
    friend constexpr bool operator==(const DeviceLease&, const DeviceLease&) = default;
};

}  // namespace rvm
