// AgentRunner: runs agent partitions: one thread per task driving its vCPU
// (a state machine fed by exits and by the control plane's stop/suspend
// flags), hypercalls handled by AgentCalls, faults failing only their own
// partition (witnessed), and a supervisor that enforces wall time and can
// preempt, suspend and resume a running partition from outside.
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

#include "backend/kvm/kvm_system.hpp"
#include "host/runtime/agent_partition.hpp"
#include "host/runtime/coherence_observer.hpp"
#include "host/runtime/edge_link.hpp"
#include "host/psi/psi_monitor.hpp"
#include "nucleus/kernel.hpp"
#include "nucleus/scheduler.hpp"
#include "nucleus/syscalls.hpp"

namespace rvm::host {

struct PartitionReport {
    std::string name;
    Outcome outcome = Outcome::Running;
    std::uint64_t exit_code = 0;
    std::uint64_t exits = 0;
    std::uint64_t hypercalls = 0;
    std::uint64_t run_ns = 0;
    std::uint64_t log_dropped = 0;
    std::string fault;
    PsiSummary psi;                  // Ψ (transition intensity) over the last window
    std::uint64_t throttled_ns = 0;  // time held out of the guest by the Ψ policy
    std::uint64_t boosted_epochs = 0;
    std::uint64_t c1_suspends = 0;     // HIBERNATE C1 requests served
    std::uint64_t psi_page_reads = 0;  // guest reports taken from the shared page
    std::vector<PsiMonitor::VcpuStats> vcpus;
};

struct EdgeReport {
    std::string from, to;
    std::uint64_t capacity = 0;
    std::uint64_t share = 0;                // zero-copy region bytes
    std::uint64_t bytes = 0, messages = 0;  // the sender's counters (guest-written: informational)
    double weight = 0;                      // decayed bytes per epoch (coherence input)
};

class AgentRunner {
public:
    using LogFn = std::function<void(const std::string& partition, const std::string& line)>;

    AgentRunner(Kernel& kernel, const Clock& clock, const kvm::KvmSystem& sys, LogFn log);
    ~AgentRunner();
    AgentRunner(const AgentRunner&) = delete;
    AgentRunner& operator=(const AgentRunner&) = delete;

    // Builds a partition; nothing runs until start(). Returns its index.
    [[nodiscard]] Result<std::size_t, std::string> add(const AgentSpec& spec);
    // Connects partition `from` (sender) to `to` (receiver) with a CommEdge
    // of `capacity` data bytes (a power of two, 4 KiB .. 1 MiB): the nucleus
    // creates the edge (witnessed) and mints a capability to each end; the
    // window is mapped into both. Before start().
    // `share`: bytes of a zero-copy region (0: none; else a multiple of
    // 4 KiB up to 2 MiB): an AppendOnly region the nucleus creates for the
    // sender and shares read-only with the receiver (both witnessed).
    [[nodiscard]] Result<EdgeId, std::string> connect(std::size_t from, std::size_t to, std::uint64_t capacity,
                                                      std::uint64_t share = 0);
    // Destroys an edge while its ends may be using it (witnessed): its
    // capabilities are revoked (notify calls: RVM_E_BAD_HANDLE), sleepers wake
    // with RVM_E_STATE, and the window is marked closed for the SDK.
    [[nodiscard]] KResult<void> destroy_edge(EdgeId e);
    void start();
    // Returns when every partition has ended or its wall time ran out.
    // `tick` runs on the supervisor every few milliseconds (witness flush).
    void wait(const std::function<void()>& tick = {});

    // Control plane (any thread): stop a partition's vCPUs and hold them;
    // resume lets them continue where they were.
    [[nodiscard]] KResult<void> suspend(std::size_t i);
    [[nodiscard]] KResult<void> resume(std::size_t i);
    // Ends a partition now (its outcome becomes TimedOut unless it already ended).
    void stop(std::size_t i);
    // Enforce the Ψ policy's CPU allowance by duty-cycling each partition's
    // vCPUs every epoch (off by default; seed 001's bands, DESIGN.md 6).
    // With it: the seed-000 boost (a transitioning partition's threads run at
    // a higher Linux priority for a few epochs, skipping the duty cycle) and
    // the memory allowance on RVM_HC_REGION_MAP.
    void set_psi_policy(bool on) { psi_policy_ = on; }
    // RVM decides which task runs (seed 002 section 5; nucleus/scheduler.hpp):
    // tasks are queued on `cfg.cpus` host CPUs (round robin, threads pinned),
    // and a task's thread enters the guest only while the policy has given
    // it its CPU; the supervisor's scheduler thread takes it back (kicking
    // the vCPU) when its quantum or job budget ends. Mode switches and
    // per-epoch switch counts are witnessed. Before start(); off by default
    // (then Linux schedules the vCPU threads).
    [[nodiscard]] Result<void, std::string> enable_scheduler(const SchedConfig& cfg);
    struct SchedStats {
        std::uint64_t decisions = 0, switches = 0, deadline_misses = 0;
        std::uint64_t decision_ns = 0;  // total time inside pick_next / tick
        // Partition switch: from the grant to the granted thread leaving the
        // gate for KVM_RUN (the previous holder was kicked at the grant).
        std::uint64_t handoffs = 0, handoff_ns = 0;
    };
    [[nodiscard]] SchedStats sched_stats() const;
    // Live reshaping (seed 002 5.3; cell.hpp). Moves running partitions
    // between cells (VMs): their vCPUs are held out of the guest and
    // recreated in the target VM with all their state, their memory and edge
    // windows are mapped there at the same guest-physical addresses, and
    // they simply continue. Per partition the capability (its SPLIT / MERGE
    // / MIGRATE right) and a Deep proof are checked; every step is
    // witnessed (state -> Splitting / Merging / Migrating, the cell change,
    // -> Active); a failure midway puts every vCPU and memslot back and
    // returns the partitions to Active (witnessed, aux 1 = rolled back).
    // Agent profile only. Any thread, after start(); one at a time.
    struct Reshape {
        std::uint8_t cell = 0;  // the nucleus cell the movers are in now
        std::uint32_t partitions = 0, vcpus = 0;
        std::uint64_t ns = 0;       // the whole reshape
        std::uint64_t held_ns = 0;  // vCPUs out of the guest
    };
    // Partition i joins the cell of partition `to`.
    [[nodiscard]] Result<Reshape, std::string> migrate(std::size_t i, std::size_t to);
    // Every partition of b's cell joins a's cell.
    [[nodiscard]] Result<Reshape, std::string> merge(std::size_t a, std::size_t b);
    // These partitions (all of one cell, not all of it) leave for a new cell.
    [[nodiscard]] Result<Reshape, std::string> split(const std::vector<std::size_t>& leave);
    [[nodiscard]] std::uint8_t cell_of(std::size_t i);
    // Tests: the next reshape fails after moving this many vCPUs.
    void fail_next_reshape_after(std::uint32_t vcpus) { fail_after_ = vcpus; }

    // Feeds the coherence engine each epoch with the bytes every edge moved.
    // With `reshape` its split / merge / migrate proposals are applied to
    // the running partitions; without, only logged (as partition
    // "coherence"), each once.
    void enable_coherence(bool reshape = false);
    [[nodiscard]] std::vector<Reshape> reshapes() const;
    [[nodiscard]] std::vector<std::string> coherence_proposals() const;
    // Destroys every partition in the nucleus (witnessed) after wait().
    void destroy_all();

    [[nodiscard]] std::vector<PartitionReport> reports() const;
    [[nodiscard]] std::vector<EdgeReport> edge_reports() const;
    [[nodiscard]] AgentPartition& partition(std::size_t i) { return *parts_[i]; }
    [[nodiscard]] const PsiMonitor& psi() const { return psi_; }

private:
    enum class How : std::uint8_t { Split, Merge, Migrate };
    // Under reshape_mu_, which also guards every partition's `cell` pointer
    // against concurrent reshapes (AgentPartition reads it under its mu).
    [[nodiscard]] Result<Reshape, std::string> move_cells(std::vector<AgentPartition*> movers,
                                                          std::shared_ptr<Cell> target, How how);
    void apply_proposal(const CoherenceObserver::Observed& o);
    [[nodiscard]] AgentPartition* partition_by_raw(std::uint64_t raw);
    void run_task(AgentPartition& p, AgentTask& t);
    void start_task(AgentPartition& p, AgentTask& t);
    void fail(AgentPartition& p, FailReason reason, std::uint64_t rip, const std::string& why);
    void task_exited(AgentPartition& p, AgentTask& t, std::uint64_t code);
    void throttle(std::uint64_t now, std::uint64_t epoch_ns);
    void boost(AgentPartition& p, bool on);
    void exchange_psi_page(AgentPartition& p, std::uint64_t now);
    void guest_suspend(AgentPartition& p, std::uint64_t ns);
    void notify(AgentPartition& p, AgentTask& t, const NotifyRequest& n, CallResult& r);
    void off_cpu(AgentTask& t, const std::function<void()>& wait);
    [[nodiscard]] EdgeLink* edge(EdgeId e);
    void wake_edges();
    void halt(AgentPartition& p);
    [[nodiscard]] KResult<void> suspend_partition(AgentPartition& p, std::uint64_t resume_at);
    void sched_loop();
    void sched_enqueue(AgentPartition& p, AgentTask& t);
    void sched_remove(AgentTask& t);
    void sched_witness();
    void sched_balance(std::uint64_t now);

    Kernel& kernel_;
    const Clock& clock_;
    const kvm::KvmSystem& sys_;
    LogFn log_;
    std::mutex kernel_mu_;
    Syscalls syscalls_;
    PsiMonitor psi_;
    std::atomic<bool> psi_policy_{false};
    // RVM's scheduler (enable_scheduler); sched_mu_ guards the policy and
    // the grants, gate_cv_ wakes task threads waiting for their CPU.
    bool sched_on_ = false;
    std::unique_ptr<Scheduler> sched_;
    mutable std::mutex sched_mu_;
    std::condition_variable gate_cv_;
    std::condition_variable sched_cv_;  // wakes the scheduler thread early
    bool sched_poke_ = false;
    std::vector<AgentTask*> sched_tasks_;   // by sched id
    std::uint32_t sched_rotor_ = 0;         // the next task considered for migration
    std::vector<std::uint32_t> sched_cur_;  // per CPU: the task holding it (kSchedIdle: none)
    std::uint32_t sched_next_cpu_ = 0;
    std::uint64_t sched_epoch_start_ = 0;
    SchedStats sched_stats_;
    std::atomic<bool> sched_stop_{false};
    std::thread sched_thread_;
    std::unique_ptr<CoherenceObserver> coherence_;
    std::mutex reshape_mu_;  // one reshape at a time; partitions' `cell` pointers
    std::atomic<std::uint32_t> fail_after_{~0u};
    bool reshape_on_ = false;
    mutable std::mutex reshapes_mu_;
    std::vector<Reshape> reshapes_;
    mutable std::mutex edges_mu_;
    std::vector<std::unique_ptr<EdgeLink>> edges_;  // outlive the VMs that map them
    std::vector<std::unique_ptr<AgentPartition>> parts_;
};

}  // namespace rvm::host
