#include "nucleus/task.hpp"

namespace rvm {

bool task_transition_allowed(TaskState from, TaskState to) {
    using S = TaskState;
    if (from == S::Terminated || from == to) return false;
    if (to == S::Terminated) return true;
    switch (from) {
        case S::Initializing: return to == S::Running;
        case S::Running: return to == S::Suspended || to == S::Migrating || to == S::Hibernated;
        case S::Suspended: return to == S::Running || to == S::Migrating || to == S::Hibernated;
        case S::Migrating: return to == S::Running || to == S::Suspended;
        case S::Hibernated: return to == S::Reconstructing;
        case S::Reconstructing: return to == S::Running || to == S::Suspended;
        case S::Terminated: return false;
    }
    return false;
}

const char* task_state_name(TaskState s) {
    switch (s) {
        case TaskState::Initializing: return "initializing";
        case TaskState::Running: return "running";
        case TaskState::Suspended: return "suspended";
        case TaskState::Migrating: return "migrating";
        case TaskState::Hibernated: return "hibernated";
        case TaskState::Reconstructing: return "reconstructing";
        case TaskState::Terminated: return "terminated";
    }
    return "?";
}

}  // namespace rvm
