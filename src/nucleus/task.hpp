// Task: a vCPU running agent code, with the checked lifecycle of seed 002.
#pragma once

#include <cstdint>

#include "nucleus/handle.hpp"

namespace rvm {

enum class TaskState : std::uint8_t {
    Initializing,
    Running,
    Suspended,
    Migrating,
    Hibernated,
    Reconstructing,
    Terminated,
};
inline constexpr std::uint8_t kTaskStateCount = 7;

[[nodiscard]] bool task_transition_allowed(TaskState from, TaskState to);
[[nodiscard]] const char* task_state_name(TaskState s);

struct Task {
    PartitionId partition;
    TaskState state = TaskState::Initializing;
    friend bool operator==(const Task&, const Task&) = default;
};

}  // namespace rvm
