#include "host/runtime/partition_control.hpp"

#include <fmt/format.h>

namespace rvm::host {

void PartitionControl::halt(AgentPartition& p) {
    p.stop = true;
    p.kick_all();
    edges_.wake_all();
    sched_.wake_gates();
}

void PartitionControl::fail(AgentPartition& p, FailReason reason, std::uint64_t rip, const std::string& why) {
    {
        std::lock_guard<std::mutex> g(p.mu);
        if (p.outcome != Outcome::Running) return;
        p.outcome = Outcome::Failed;
        p.fault = fmt::format("{} at rip {:#x}", why, rip);
        p.end_ns = clock_.now_ns();
    }
    nucleus_.with([&](Kernel& k) { (void)k.set_partition_state(p.id, PartitionState::Failed, reason, rip); });
    halt(p);
}

void PartitionControl::stop(AgentPartition& p) {
    {
        std::lock_guard<std::mutex> g(p.mu);
        if (p.outcome == Outcome::Running) {
            p.outcome = Outcome::TimedOut;
            p.end_ns = clock_.now_ns();
        }
    }
    halt(p);
}

void PartitionControl::task_exited(AgentPartition& p, AgentTask& t, std::uint64_t code) {
    nucleus_.with([&](Kernel& k) { (void)k.terminate_task(t.id, code); });
    std::lock_guard<std::mutex> g(p.mu);
    t.done = true;
    p.slot_used[t.slot] = false;
    if (t.slot == 0 || code != 0) p.exit_code = p.exit_code != 0 ? p.exit_code : code;
    bool all = true;
    for (const auto& other : p.tasks) all = all && other->done.load();
    if (all && p.outcome == Outcome::Running) {
        p.outcome = Outcome::Exited;
        p.end_ns = clock_.now_ns();
    }
}

KResult<void> PartitionControl::suspend(AgentPartition& p, std::uint64_t resume_at) {
    const auto r = nucleus_.with([&](Kernel& k) { return k.set_partition_state(p.id, PartitionState::Suspended); });
    if (!r) return r;
    p.resume_at = resume_at;
    p.suspended = true;
    p.kick_all();
    return {};
}

// Seed 001: C1 = Suspended. The wake-up time is set before the vCPUs stop,
// so the supervisor never sees a C1 suspension without it.
void PartitionControl::guest_suspend(AgentPartition& p, std::uint64_t ns) {
    if (!suspend(p, clock_.now_ns() + ns)) return;  // e.g. already suspended
    ++p.c1_suspends;
}

KResult<void> PartitionControl::resume(AgentPartition& p) {
    const auto r = nucleus_.with([&](Kernel& k) { return k.set_partition_state(p.id, PartitionState::Active); });
    if (!r) return r;
    {
        std::lock_guard<std::mutex> g(p.mu);
        p.suspended = false;
    }
    p.resume_at = 0;
    p.cv.notify_all();
    return {};
}

void PartitionControl::destroy(AgentPartition& p) {
    nucleus_.with([&](Kernel& k) { (void)k.destroy_partition(p.id); });
}

}  // namespace rvm::host
