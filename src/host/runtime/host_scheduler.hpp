// HostScheduler: the host side of RVM's scheduler (nucleus/scheduler.hpp).
// Tasks are queued on `cfg.cpus` host CPUs (round robin, threads pinned); a
// task's thread enters the guest only while the policy has given it its CPU
// (wait_for_cpu), and the scheduler thread takes it back, kicking the vCPU,
// when its quantum or job budget ends. A task that waits in the host gives
// its CPU away (off_cpu). Once per epoch the queues are balanced and the
// policy's events are witnessed. Off unless enable() is called.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "host/runtime/agent_partition.hpp"
#include "host/runtime/nucleus_gate.hpp"
#include "nucleus/clock.hpp"
#include "nucleus/scheduler.hpp"

namespace rvm::host {

class HostScheduler {
public:
    struct Stats {
        std::uint64_t decisions = 0, switches = 0, deadline_misses = 0;
        std::uint64_t decision_ns = 0;  // total time inside pick_next / tick
        // Partition switch: from the grant to the granted thread leaving the
        // gate for KVM_RUN (the previous holder was kicked at the grant).
        std::uint64_t handoffs = 0, handoff_ns = 0;
    };

    HostScheduler(NucleusGate& nucleus, const Clock& clock) : nucleus_(nucleus), clock_(clock) {}
    ~HostScheduler() { finish(false); }
    HostScheduler(const HostScheduler&) = delete;
    HostScheduler& operator=(const HostScheduler&) = delete;

    [[nodiscard]] Result<void, std::string> enable(const SchedConfig& cfg);
    [[nodiscard]] bool on() const { return on_; }
    void start();  // the scheduler thread
    // Stops and joins the thread; `witness_rest`: the last epoch's batch too.
    void finish(bool witness_rest = true);

    void enqueue(const AgentPartition& p, AgentTask& t);
    void remove(AgentTask& t);
    // Blocks until the policy grants `t` its CPU (or `stop`), then pins the
    // calling thread to that CPU.
    void wait_for_cpu(AgentTask& t, const std::atomic<bool>& stop);
    // Runs `wait` with the task blocked in the policy: its CPU goes to the
    // next task at once, and the task queues for it again afterwards.
    void off_cpu(AgentTask& t, const std::function<void()>& wait);
    // Every thread waiting for its CPU looks at its stop flag again.
    void wake_gates();
    [[nodiscard]] Stats stats() const;

private:
    void loop();
    void balance(std::uint64_t now);
    void witness();
    // One CPU's turn in the loop (under mu_): true if it was decided again.
    void decide(std::uint32_t cpu, std::uint64_t now, std::vector<std::uint64_t>& slice_end);

    NucleusGate& nucleus_;
    const Clock& clock_;
    bool on_ = false;
    std::unique_ptr<Scheduler> policy_;
    // mu_ guards the policy and the grants; gate_cv_ wakes task threads
    // waiting for their CPU, cv_ the scheduler thread.
    mutable std::mutex mu_;
    std::condition_variable gate_cv_;
    std::condition_variable cv_;
    bool poke_ = false;
    std::vector<AgentTask*> tasks_;   // by sched id
    std::uint32_t rotor_ = 0;         // the next task considered for migration
    std::vector<std::uint32_t> cur_;  // per CPU: the task holding it (kSchedIdle: none)
    std::uint32_t next_cpu_ = 0;
    std::uint64_t epoch_start_ = 0;
    Stats stats_;
    std::atomic<bool> stop_{false};
    std::thread thread_;
};

}  // namespace rvm::host
