#include "nucleus/partition.hpp"

namespace rvm {

bool partition_transition_allowed(PartitionState from, PartitionState to) {
    using S = PartitionState;
    if (to == S::Failed) return from != S::Failed && from != S::Destroyed;
    switch (from) {
        case S::Active:
            return to == S::Suspended || to == S::Splitting || to == S::Merging || to == S::Migrating ||
                   to == S::Destroyed;
        case S::Suspended: return to == S::Active || to == S::Warm || to == S::Migrating || to == S::Destroyed;
        case S::Warm: return to == S::Suspended || to == S::Dormant || to == S::Destroyed;
        case S::Dormant: return to == S::Warm || to == S::Destroyed;
        case S::Splitting:
        case S::Migrating: return to == S::Active || to == S::Suspended;
        case S::Merging: return to == S::Active || to == S::Destroyed;  // the absorbed side is destroyed
        case S::Failed: return to == S::Destroyed;
        case S::Destroyed: return false;
    }
    return false;
}

const char* partition_state_name(PartitionState s) {
    switch (s) {
        case PartitionState::Active: return "active";
        case PartitionState::Suspended: return "suspended";
        case PartitionState::Warm: return "warm";
        case PartitionState::Dormant: return "dormant";
        case PartitionState::Splitting: return "splitting";
        case PartitionState::Merging: return "merging";
        case PartitionState::Migrating: return "migrating";
        case PartitionState::Failed: return "failed";
        case PartitionState::Destroyed: return "destroyed";
    }
    return "?";
}

// aux: bits 0..7 gpa_shift, 8..15 max_tasks, 16..23 max_regions, 24..63 mem_quota_pages.
std::uint64_t pack_config(const PartitionConfig& c) {
    return std::uint64_t{c.gpa_shift} | (std::uint64_t{c.max_tasks} << 8) | (std::uint64_t{c.max_regions} << 16) |
           ((c.mem_quota_pages & ((std::uint64_t{1} << 40) - 1)) << 24);
}

PartitionConfig unpack_config(std::uint64_t aux) {
    PartitionConfig c;
    c.gpa_shift = static_cast<std::uint8_t>(aux & 0xff);
    c.max_tasks = static_cast<std::uint8_t>((aux >> 8) & 0xff);
    c.max_regions = static_cast<std::uint8_t>((aux >> 16) & 0xff);
    c.mem_quota_pages = aux >> 24;
    return c;
}

}  // namespace rvm
