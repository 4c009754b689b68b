// AgentPartition: one agent partition on KVM, built all-or-nothing: the
// nucleus partition, memfd guest RAM, the VM and its memslot, the ELF image,
// the page tables, the info page, and the vCPUs of its tasks. Threads live in
// AgentRunner; this type owns resources and the per-partition bookkeeping.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "backend/kvm/guest_ram.hpp"
#include "backend/kvm/kvm_vcpu.hpp"
#include "backend/kvm/kvm_vm.hpp"
#include "backend/kvm/page_tables.hpp"
#include "host/runtime/agent_calls.hpp"
#include "host/runtime/agent_memory.hpp"
#include "host/runtime/cell.hpp"
#include "host/runtime/nucleus_gate.hpp"
#include "host/runtime/partition_spec.hpp"
#include "nucleus/kernel.hpp"

namespace rvm::host {

enum class Outcome : std::uint8_t { Running, Exited, Failed, TimedOut };
[[nodiscard]] const char* outcome_name(Outcome o);

struct AgentTask {
    TaskId id;
    std::uint32_t slot = 0;  // stack slot and rsi at entry
    std::unique_ptr<kvm::KvmVcpu> vcpu;
    std::thread thread;
    std::atomic<bool> done{false};
    std::atomic<std::uint64_t> exits{0};       // this task's vCPU exits
    std::atomic<std::uint64_t> hypercalls{0};  // and hypercalls (Ψ input)
    std::atomic<int> tid{0};                   // its thread's Linux tid (the boost's target)
    // RVM's scheduler: the host CPU and id it is queued under, and whether it
    // holds that CPU now (its thread enters the guest only while it does).
    std::atomic<std::uint32_t> sched_cpu{0};
    std::uint32_t sched_id = 0;
    std::atomic<bool> granted{false};
    std::atomic<std::uint64_t> granted_at{0};  // when the scheduler granted it (monotonic ns)
    std::uint32_t pinned_cpu = ~0u;            // its thread's affinity (the thread's own)
};

class AgentPartition {
public:
    // Builds everything; on error nothing is left behind (nucleus partition destroyed).
    [[nodiscard]] static Result<std::unique_ptr<AgentPartition>, std::string> create(NucleusGate& nucleus,
                                                                                     const kvm::KvmSystem& sys,
                                                                                     const PartitionSpec& spec,
                                                                                     std::uint64_t now_ns);
    ~AgentPartition();
    AgentPartition(const AgentPartition&) = delete;
    AgentPartition& operator=(const AgentPartition&) = delete;

    // Creates the vCPU of a task the nucleus has spawned, with its start
    // registers. Does not start a thread.
    [[nodiscard]] Result<AgentTask*, std::string> add_task(TaskId id, std::uint64_t entry, std::uint64_t arg);

    const PartitionSpec spec;
    const PartitionId id;
    const AgentLayout layout;

    kvm::GuestRam ram;
    // Where its guest-physical space sits host-wide (cell.hpp), and the cell
    // (VM) it lives in now: its own at first, another after a reshape.
    const std::uint64_t gpa_base;
    // What it maps -- its RAM, edge windows and zero-copy regions -- is what
    // its cell holds for it (Cell::maps_of); a cell it joins maps the same.
    std::shared_ptr<Cell> cell;
    std::unique_ptr<AgentMemory> memory;
    rvm_info info{};
    std::uint64_t entry = 0;
    std::uint64_t start_ns = 0;

    // Bookkeeping shared by the task threads (guarded by mu unless atomic).
    std::mutex mu;
    std::condition_variable cv;
    std::vector<std::unique_ptr<AgentTask>> tasks;
    std::vector<bool> slot_used;
    std::atomic<bool> stop{false};
    std::atomic<bool> suspended{false};
    bool reshaping = false;  // (mu) moving between cells: no new task may start
    // Ψ policy: the partition's vCPUs stay out of the guest until this time
    // (monotonic ns) -- the duty cycle that enforces its CPU allowance.
    std::atomic<std::uint64_t> throttle_until{0};
    std::atomic<std::uint64_t> throttled_ns{0};
    // Guest address of the registered shared Ψ page (0: none).
    std::atomic<std::uint64_t> psi_page{0};
    std::atomic<std::uint64_t> psi_page_reads{0};  // guest reports taken from the page
    // HIBERNATE C1: the partition sleeps until this time (monotonic ns, 0: not
    // asleep by its own request); the supervisor resumes it.
    std::atomic<std::uint64_t> resume_at{0};
    std::atomic<std::uint64_t> c1_suspends{0};
    std::atomic<std::uint64_t> boosted_epochs{0};  // epochs its threads ran boosted
    bool boosted = false;                          // supervisor only
    Outcome outcome = Outcome::Running;
    std::uint64_t exit_code = 0;
    std::string fault;  // reason and rip when Failed
    std::uint64_t end_ns = 0;
    LogLimiter limiter;
    std::mutex limiter_mu;

    void kick_all();

    // Live reshaping: while held, no task thread touches its vCPU (run,
    // set_result, complete_msr: enter_vcpu / leave_vcpu around each), so
    // the vCPUs can be recreated in another VM. hold() kicks every vCPU out
    // of the guest and waits until none is inside; false if that took longer
    // than `timeout_ns` (still held: release()).
    void enter_vcpu();
    void leave_vcpu();
    [[nodiscard]] bool hold(std::uint64_t timeout_ns);
    void release();

    // Maps CommEdge `link` into this partition as its next edge (abi/agent.h):
    // page tables and memslots writable only where this side owns the window,
    // and an entry in the info page's edge table. Before or while running.
    // `share_gpa`: where the nucleus placed the edge's zero-copy region in
    // this partition (0: the edge has none).
    [[nodiscard]] Result<void, std::string> attach_edge(const class EdgeLink& link, bool sender, CapHandle cap,
                                                        std::uint32_t peer, std::uint64_t share_gpa);
    std::uint32_t edge_count = 0;

private:
    std::mutex gate_mu_;
    std::condition_variable gate_cv_;
    bool held_ = false;
    std::uint32_t inside_ = 0;

    AgentPartition(PartitionSpec s, PartitionId p, AgentLayout l, kvm::GuestRam r, std::shared_ptr<Cell> c);
    std::uint64_t cr3_ = 0;
    std::uint32_t tss_limit_ = 0;
    std::unique_ptr<kvm::PageTableBuilder> pt_;  // kept: edge windows are mapped later
};

}  // namespace rvm::host
