// PartitionSpec: what one partition is to be -- the runtime's input, filled
// by the manifest parser (src/host/config) or directly by tests and
// benchmarks -- and validate(), the one place its limits are checked. The
// bounds are named here once; the manifest, the runtime and docs/manifest.md
// follow them.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "abi/agent.h"
#include "nucleus/config.hpp"
#include "nucleus/result.hpp"

namespace rvm::host {

// Agent: CPL3 (native speed everywhere). Kernel: CPL0 with supervisor-only
// pages, for guest kernels of the seed-001 ABI (CPUID leaf, Ψ MSRs); on PVM
// its code is emulated (~1 µs per instruction, DESIGN.md 1).
enum class Profile : std::uint8_t { Agent, Kernel };

inline constexpr std::uint64_t kSpecPage = 4096;
inline constexpr std::uint64_t kSpecMinMemory = std::uint64_t{1} << 20;
inline constexpr std::uint64_t kSpecMaxMemory = std::uint64_t{1} << 30;
inline constexpr std::uint64_t kSpecMinStack = kSpecPage;
inline constexpr std::uint64_t kSpecMaxStack = std::uint64_t{8} << 20;
// The nucleus's own quota limit (PartitionConfig::max_tasks).
inline constexpr std::uint32_t kSpecMaxTasks = kMaxTasksPerPartition;
inline constexpr std::uint32_t kSpecMaxLogRate = 100'000;
inline constexpr std::uint64_t kSpecMinDurationNs = 1'000'000;                         // 1 ms
inline constexpr std::uint64_t kSpecMaxDurationNs = 7ULL * 24 * 3600 * 1'000'000'000;  // a week
// The stacks sit at the top of memory and the image starts at
// RVM_IMAGE_MIN_VA (abi/agent.h): they fit when at least one page is left
// between them. Whether the image itself fits is the ELF loader's check.
inline constexpr std::uint64_t kSpecImageBase = RVM_IMAGE_MIN_VA;
inline constexpr std::uint64_t kSpecMinImageRoom = kSpecPage;

struct PartitionSpec {
    std::string name;
    Profile profile = Profile::Agent;
    std::string agent_path;         // where the image comes from (the manifest's, resolved)
    std::vector<std::uint8_t> elf;  // the agent image (hostile input)
    std::uint64_t memory = std::uint64_t{16} << 20;
    std::uint64_t stack_size = std::uint64_t{64} << 10;
    std::uint32_t tasks = 1;      // started at the ELF entry
    std::uint32_t max_tasks = 8;  // nucleus quota, also the number of stacks
    std::uint64_t wall_time_ns = 30'000'000'000;
    std::uint32_t log_rate = 100;  // log hypercalls per second
    std::uint64_t arg = 0;         // rdx of the initial tasks (the agent's start argument)
    // For RVM's scheduler (AgentRunner::enable_scheduler), per task: a
    // periodic job of budget_ns CPU time due deadline_ns after each release;
    // critical selects Reflex (EDF). All 0: an ordinary (Flow) task.
    std::uint64_t period_ns = 0, deadline_ns = 0, budget_ns = 0;
    bool critical = false;
    std::uint32_t line = 0;  // the manifest line declaring it (0: not from a manifest)
};

enum class SpecField : std::uint8_t { kMemory, kMaxTasks, kTasks, kStack, kWallTime, kLogRate, kTiming };

enum class SpecErrc : std::uint8_t {
    kRange,                  // value outside [lo, hi]
    kNotPageMultiple,        // a size that is not a multiple of 4 KiB
    kStacksDoNotFit,         // stack_size * max_tasks leaves no room for the image
    kNeedsDeadline,          // a budget or critical without a deadline
    kBudgetOutsideDeadline,  // budget 0 or above the deadline
    kDeadlineAfterPeriod,    // deadline above the period
};

// Which rule failed, and the numbers (value, lo, hi: the field's, in its
// unit -- bytes, tasks, ns; for kStacksDoNotFit value is the stacks' bytes).
struct SpecError {
    SpecErrc code = SpecErrc::kRange;
    SpecField field = SpecField::kMemory;
    std::uint64_t value = 0, lo = 0, hi = 0;
};

// Checks in the order the fields are listed above; the first failure wins.
[[nodiscard]] Result<void, SpecError> validate(const PartitionSpec& spec);

// The rule a timing error breaks ("the deadline must not exceed the period").
[[nodiscard]] const char* timing_rule(SpecErrc code);

// A one-line English description (the runtime's message for a refused spec).
[[nodiscard]] std::string describe(const SpecError& e, const PartitionSpec& spec);

}  // namespace rvm::host
