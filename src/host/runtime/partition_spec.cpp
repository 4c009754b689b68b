#include "host/runtime/partition_spec.hpp"

#include <fmt/format.h>

namespace rvm::host {

namespace {

using Fail = Err<SpecError>;

Fail range(SpecField f, std::uint64_t v, std::uint64_t lo, std::uint64_t hi) {
    return Fail{SpecError{SpecErrc::kRange, f, v, lo, hi}};
}

// A size in [lo, hi] and a multiple of 4 KiB; the range is checked first.
Result<void, SpecError> size_ok(SpecField f, std::uint64_t v, std::uint64_t lo, std::uint64_t hi) {
    if (v < lo || v > hi) return range(f, v, lo, hi);
    if (v % kSpecPage != 0) return Fail{SpecError{SpecErrc::kNotPageMultiple, f, v, lo, hi}};
    return {};
}

// 0 (none) or a duration in [kSpecMinDurationNs, kSpecMaxDurationNs].
bool duration_ok(std::uint64_t ns, bool zero_ok) {
    if (ns == 0) return zero_ok;
    return ns >= kSpecMinDurationNs && ns <= kSpecMaxDurationNs;
}

Result<void, SpecError> timing_ok(const PartitionSpec& s) {
    for (const std::uint64_t ns : {s.period_ns, s.deadline_ns, s.budget_ns}) {
        if (!duration_ok(ns, true)) return range(SpecField::kTiming, ns, kSpecMinDurationNs, kSpecMaxDurationNs);
    }
    const auto fail = [](SpecErrc c) { return Fail{SpecError{c, SpecField::kTiming, 0, 0, 0}}; };
    if (s.deadline_ns == 0 && (s.budget_ns != 0 || s.critical)) return fail(SpecErrc::kNeedsDeadline);
    if (s.deadline_ns != 0 && (s.budget_ns == 0 || s.budget_ns > s.deadline_ns)) {
        return fail(SpecErrc::kBudgetOutsideDeadline);
    }
    if (s.period_ns != 0 && s.deadline_ns > s.period_ns) return fail(SpecErrc::kDeadlineAfterPeriod);
    return {};
}

}  // namespace

Result<void, SpecError> validate(const PartitionSpec& s) {
    RVM_TRY_VOID(size_ok(SpecField::kMemory, s.memory, kSpecMinMemory, kSpecMaxMemory));
    if (s.max_tasks < 1 || s.max_tasks > kSpecMaxTasks)
        return range(SpecField::kMaxTasks, s.max_tasks, 1, kSpecMaxTasks);
    if (s.tasks < 1 || s.tasks > s.max_tasks) return range(SpecField::kTasks, s.tasks, 1, s.max_tasks);
    RVM_TRY_VOID(size_ok(SpecField::kStack, s.stack_size, kSpecMinStack, kSpecMaxStack));
    if (!duration_ok(s.wall_time_ns, false)) {
        return range(SpecField::kWallTime, s.wall_time_ns, kSpecMinDurationNs, kSpecMaxDurationNs);
    }
    if (s.log_rate < 1 || s.log_rate > kSpecMaxLogRate)
        return range(SpecField::kLogRate, s.log_rate, 1, kSpecMaxLogRate);
    // Bounded above (8 MiB x 255 + 4 MiB + 4 KiB), so this cannot overflow.
    const std::uint64_t stacks = s.stack_size * s.max_tasks;
    if (stacks + kSpecImageBase + kSpecMinImageRoom > s.memory) {
        return Fail{SpecError{SpecErrc::kStacksDoNotFit, SpecField::kMemory, stacks, 0, s.memory}};
    }
    return timing_ok(s);
}

const char* timing_rule(SpecErrc code) {
    switch (code) {
        case SpecErrc::kNeedsDeadline: return "a budget or critical needs a deadline";
        case SpecErrc::kBudgetOutsideDeadline: return "the budget must be between 1 ms and the deadline";
        case SpecErrc::kDeadlineAfterPeriod: return "the deadline must not exceed the period";
        case SpecErrc::kRange: return "period, deadline and budget must be 0 or 1 ms .. 7 days";
        case SpecErrc::kNotPageMultiple:
        case SpecErrc::kStacksDoNotFit: break;
    }
    return "?";
}

std::string describe(const SpecError& e, const PartitionSpec& s) {
    switch (e.field) {
        case SpecField::kMemory:
            if (e.code == SpecErrc::kStacksDoNotFit) {
                return fmt::format("{} stacks of {} bytes leave no room for the image in {} bytes", s.max_tasks,
                                   s.stack_size, s.memory);
            }
            return fmt::format("memory {} is not a multiple of 4 KiB between 1 MiB and 1 GiB", s.memory);
        case SpecField::kStack:
            return fmt::format("stack is not a multiple of 4 KiB between 4 KiB and 8 MiB ({})", s.stack_size);
        case SpecField::kMaxTasks:
        case SpecField::kTasks:
            return fmt::format("tasks {} / max_tasks {} out of range (1 .. max_tasks .. {})", s.tasks, s.max_tasks,
                               kSpecMaxTasks);
        case SpecField::kWallTime:
            return fmt::format("wall time {} ns out of range ({} .. {} ns)", s.wall_time_ns, e.lo, e.hi);
        case SpecField::kLogRate: return fmt::format("log rate {} out of range (1 .. {})", s.log_rate, e.hi);
        case SpecField::kTiming: return fmt::format("timing: {}", timing_rule(e.code));
    }
    return "?";
}

}  // namespace rvm::host
