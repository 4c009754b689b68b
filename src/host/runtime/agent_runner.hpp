// AgentRunner: a runtime of agent partitions, assembled from its parts with
// dependencies that run one way (docs/architecture.md):
//   NucleusGate <- EdgeHub, HostScheduler, PsiGovernor <- PartitionControl
//   <- TaskThreads <- Reshaper <- Supervisor <- AgentRunner
// This type only wires them and is the API the CLI, tests and benchmarks use.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "backend/kvm/kvm_system.hpp"
#include "host/psi/psi_monitor.hpp"
#include "host/runtime/agent_partition.hpp"
#include "host/runtime/edge_hub.hpp"
#include "host/runtime/host_scheduler.hpp"
#include "host/runtime/nucleus_gate.hpp"
#include "host/runtime/partition_control.hpp"
#include "host/runtime/psi_governor.hpp"
#include "host/runtime/reshaper.hpp"
#include "host/runtime/supervisor.hpp"
#include "host/runtime/task_thread.hpp"
#include "host/sandbox/sandbox.hpp"
#include "nucleus/kernel.hpp"
#include "nucleus/scheduler.hpp"

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

class AgentRunner {
public:
    using LogFn = host::LogFn;
    using SchedStats = HostScheduler::Stats;
    using Reshape = ReshapeResult;

    AgentRunner(Kernel& kernel, const Clock& clock, const kvm::KvmSystem& sys, LogFn log);
    ~AgentRunner();
    AgentRunner(const AgentRunner&) = delete;
    AgentRunner& operator=(const AgentRunner&) = delete;

    // Builds a partition; nothing runs until start(). Returns its index.
    [[nodiscard]] Result<std::size_t, std::string> add(const PartitionSpec& spec);
    // Connects partition `from` (sender) to `to` (receiver) with a CommEdge
    // (EdgeHub::connect). Before start().
    [[nodiscard]] Result<EdgeId, std::string> connect(std::size_t from, std::size_t to, std::uint64_t capacity,
                                                      std::uint64_t share = 0);
    // Destroys an edge while its ends may be using it (witnessed): its
    // capabilities are revoked (notify calls: RVM_E_BAD_HANDLE), sleepers wake
    // with RVM_E_STATE, and the window is marked closed for the SDK.
    [[nodiscard]] KResult<void> destroy_edge(EdgeId e) { return edges_.destroy(e); }
    // Sandboxes the process (host/sandbox): after every add() and connect(),
    // before start(); task threads then narrow their own filters.
    [[nodiscard]] Result<SandboxReport, std::string> enter_sandbox(const SandboxOptions& options = {});
    void start();
    // Returns when every partition has ended or its wall time ran out.
    // `tick` runs on the supervisor every few milliseconds (witness flush).
    void wait(const std::function<void()>& tick = {}) { supervisor_.run(tick); }

    // Control plane (any thread): stop a partition's vCPUs and hold them;
    // resume lets them continue where they were.
    [[nodiscard]] KResult<void> suspend(std::size_t i) { return control_.suspend(*parts_[i], 0); }
    [[nodiscard]] KResult<void> resume(std::size_t i) { return control_.resume(*parts_[i]); }
    // Ends a partition now (its outcome becomes TimedOut unless it already ended).
    void stop(std::size_t i) { control_.stop(*parts_[i]); }
    // Ends every partition now (a signal, a witness write error).
    void stop_all() {
        for (auto& p : parts_) control_.stop(*p);
    }
    // Enforce the Ψ policy (PsiGovernor); off by default.
    void set_psi_policy(bool on) { psi_.set_policy(on); }
    // RVM decides which task runs (HostScheduler). Before start(); off by
    // default (then Linux schedules the vCPU threads).
    [[nodiscard]] Result<void, std::string> enable_scheduler(const SchedConfig& cfg) { return sched_.enable(cfg); }
    [[nodiscard]] SchedStats sched_stats() const { return sched_.stats(); }
    // Live reshaping (Reshaper). Any thread, after start(); one at a time.
    [[nodiscard]] Result<Reshape, std::string> migrate(std::size_t i, std::size_t to) {
        return reshaper_.migrate(i, to);
    }
    [[nodiscard]] Result<Reshape, std::string> merge(std::size_t a, std::size_t b) { return reshaper_.merge(a, b); }
    [[nodiscard]] Result<Reshape, std::string> split(const std::vector<std::size_t>& leave) {
        return reshaper_.split(leave);
    }
    [[nodiscard]] std::uint8_t cell_of(std::size_t i) { return reshaper_.cell_of(i); }
    void fail_next_reshape_after(std::uint32_t vcpus) { reshaper_.fail_next_after(vcpus); }
    // Feeds the coherence engine each epoch; with `reshape` its proposals are
    // applied to the running partitions, without only logged.
    void enable_coherence(bool reshape = false) { reshaper_.enable_coherence(reshape); }
    [[nodiscard]] std::vector<Reshape> reshapes() const { return reshaper_.reshapes(); }
    [[nodiscard]] std::vector<std::string> coherence_proposals() const { return reshaper_.coherence_proposals(); }
    // Destroys every partition in the nucleus (witnessed) after wait().
    void destroy_all();

    [[nodiscard]] std::vector<PartitionReport> reports() const;
    [[nodiscard]] std::vector<EdgeReport> edge_reports() const { return edges_.reports(parts_); }
    [[nodiscard]] AgentPartition& partition(std::size_t i) { return *parts_[i]; }
    [[nodiscard]] const PsiMonitor& psi() const { return psi_.monitor(); }

private:
    const Clock& clock_;
    const kvm::KvmSystem& sys_;
    LogFn log_;
    // Declaration order is construction order; the partitions (whose
    // destructors join their threads) go before everything their threads
    // use, and the edges (mapped by the partitions' VMs) after them.
    NucleusGate nucleus_;
    PsiGovernor psi_;
    EdgeHub edges_;
    HostScheduler sched_;
    PartitionControl control_;
    std::atomic<bool> sandboxed_{false};
    TaskThreads threads_;
    PartitionList parts_;
    Reshaper reshaper_;
    Supervisor supervisor_;
};

}  // namespace rvm::host
