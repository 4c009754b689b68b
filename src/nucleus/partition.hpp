// Partition: a coherence domain (DESIGN.md section 3) and its checked
// lifecycle. Illegal transitions return RVM_E_STATE and change nothing.
#pragma once

#include <cstdint>

#include "nucleus/buddy.hpp"
#include "nucleus/handle.hpp"
#include "nucleus/status.hpp"

namespace rvm {

enum class PartitionState : std::uint8_t {
    Active,
    Suspended,
    Warm,
    Dormant,
    Splitting,
    Merging,
    Migrating,
    Failed,
    Destroyed,
};
inline constexpr std::uint8_t kPartitionStateCount = 9;

[[nodiscard]] bool partition_transition_allowed(PartitionState from, PartitionState to);
[[nodiscard]] const char* partition_state_name(PartitionState s);

// Why a partition failed (flags bits 24..31 of its witness record).
enum class FailReason : std::uint8_t { None, TripleFault, BadAccess, IllegalInstruction, EmulationFailure, Other };

// Kernel::set_cell: a cell nobody else uses.
inline constexpr std::uint8_t kNewCell = 0xff;

struct PartitionConfig {
    std::uint8_t gpa_shift = 30;        // guest-physical space: 2^gpa_shift bytes
    std::uint8_t max_tasks = 16;        // quota, at most kMaxTasksPerPartition
    std::uint8_t max_regions = 32;      // quota
    std::uint64_t mem_quota_pages = 0;  // 4 KiB pages of regions; 0 = the whole space
    friend constexpr bool operator==(const PartitionConfig&, const PartitionConfig&) = default;
};

// Witness aux packing of a PartitionConfig (see docs/abi.md).
[[nodiscard]] std::uint64_t pack_config(const PartitionConfig& c);
[[nodiscard]] PartitionConfig unpack_config(std::uint64_t aux);

struct Partition {
    PartitionState state = PartitionState::Active;
    PartitionId parent;  // null when created by the host
    PartitionConfig config;
    BuddyAllocator gpa;  // placement of regions in guest-physical space
    std::uint32_t tasks = 0;
    std::uint32_t regions = 0;
    std::uint64_t mem_pages = 0;
    std::uint16_t coherence_milli = 1000;  // [0, 1000]; written by the coherence engine
    // The cell it lives in: the isolation boundary it shares with the other
    // partitions of the same cell (on KVM: one VM). A new partition gets the
    // smallest cell number no other live partition uses; live reshaping
    // (split, merge, migrate) moves partitions between cells (Kernel::set_cell).
    std::uint8_t cell = 0;
    FailReason fail_reason = FailReason::None;
    std::uint64_t fail_detail = 0;  // e.g. guest rip
    friend bool operator==(const Partition&, const Partition&) = default;
};

}  // namespace rvm
