// PartitionControl: a running partition's lifecycle in one place -- fail,
// a task's exit, suspend (by the control plane or the guest's C1), resume,
// stop, destroy. Every transition goes through the nucleus's checked state
// machine first (witnessed); a refused one changes nothing on the host.
#pragma once

#include <cstdint>
#include <string>

#include "host/runtime/agent_partition.hpp"
#include "host/runtime/edge_hub.hpp"
#include "host/runtime/host_scheduler.hpp"
#include "host/runtime/nucleus_gate.hpp"
#include "nucleus/clock.hpp"

namespace rvm::host {

class PartitionControl {
public:
    PartitionControl(NucleusGate& nucleus, const Clock& clock, EdgeHub& edges, HostScheduler& sched)
        : nucleus_(nucleus), clock_(clock), edges_(edges), sched_(sched) {}

    // Ends guest execution: its vCPUs leave the guest, and its threads
    // waiting in the host (edges, the scheduler's gate) look again.
    void halt(AgentPartition& p);
    // Failed (witnessed with reason and rip), then halted; once.
    void fail(AgentPartition& p, FailReason reason, std::uint64_t rip, const std::string& why);
    // Outcome TimedOut unless it already ended, then halted.
    void stop(AgentPartition& p);
    // A task ended with `code`; the partition has Exited when its last has.
    void task_exited(AgentPartition& p, AgentTask& t, std::uint64_t code);
    // Suspended in the nucleus (witnessed), then every vCPU leaves the guest;
    // `resume_at` (monotonic ns, 0: never) is when the supervisor resumes it.
    [[nodiscard]] KResult<void> suspend(AgentPartition& p, std::uint64_t resume_at);
    // HIBERNATE C1 from the guest: suspended for `ns`.
    void guest_suspend(AgentPartition& p, std::uint64_t ns);
    [[nodiscard]] KResult<void> resume(AgentPartition& p);
    // Destroyed in the nucleus (witnessed), after its threads are gone.
    void destroy(AgentPartition& p);

private:
    NucleusGate& nucleus_;
    const Clock& clock_;
    EdgeHub& edges_;
    HostScheduler& sched_;
};

}  // namespace rvm::host
