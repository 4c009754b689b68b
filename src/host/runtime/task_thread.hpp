// TaskThreads: one host thread per task, driving its vCPU through
// run_task_loop (task_loop.hpp). The thread's TaskHost answers the loop's
// steps: hypercalls (agent_calls.hpp) and their side effects (edges, spawn,
// logs), faults and exits (PartitionControl), and the waits that keep a task
// out of the guest -- suspended, duty-cycled by the Ψ policy, or waiting for
// its CPU from RVM's scheduler.
#pragma once

#include <atomic>
#include <functional>
#include <string>

#include "host/runtime/agent_partition.hpp"
#include "host/runtime/edge_hub.hpp"
#include "host/runtime/host_scheduler.hpp"
#include "host/runtime/nucleus_gate.hpp"
#include "host/runtime/partition_control.hpp"
#include "host/runtime/psi_governor.hpp"
#include "nucleus/clock.hpp"

namespace rvm::host {

using LogFn = std::function<void(const std::string& partition, const std::string& line)>;

// What a task thread reaches; all of it outlives the threads.
struct TaskServices {
    NucleusGate& nucleus;
    const Clock& clock;
    const LogFn& log;
    PartitionControl& control;
    HostScheduler& sched;
    EdgeHub& edges;
    PsiGovernor& psi;
    // The process is sandboxed: each task thread narrows its own filter.
    const std::atomic<bool>& sandboxed;
};

class TaskThreads {
public:
    explicit TaskThreads(TaskServices s) : s_(s) {}

    // Running in the nucleus, attached to the Ψ monitor and the scheduler,
    // and its thread started. Under p.mu.
    void start(AgentPartition& p, AgentTask& t);

private:
    friend class TaskHostImpl;
    void run(AgentPartition& p, AgentTask& t);
    TaskServices s_;
};

}  // namespace rvm::host
