// Reshaper: live reshaping of running partitions between cells (VMs) (seed
// 002 5.3; cell.hpp), and the coherence engine that proposes it. A reshape
// is a short sequence of steps: check the movers, get the nucleus's
// authority (capability right + Deep proof, witnessed) and enter Splitting /
// Merging / Migrating, hold every partition of the cells involved out of
// its vCPUs, map the movers' memory into the target VM and recreate their
// vCPUs there with all their state, then commit (old cells drop them, the
// nucleus records the cell change, back to Active). A failure midway puts
// every vCPU and memslot back and returns the movers to Active (witnessed,
// aux 1 = rolled back). One reshape at a time; agent profile only.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "backend/kvm/kvm_system.hpp"
#include "host/runtime/coherence_observer.hpp"
#include "host/runtime/edge_hub.hpp"
#include "host/runtime/nucleus_gate.hpp"
#include "host/runtime/partition_control.hpp"
#include "host/runtime/psi_governor.hpp"
#include "host/runtime/task_thread.hpp"

namespace rvm::host {

struct ReshapeResult {
    std::uint8_t cell = 0;  // the nucleus cell the movers are in now
    std::uint32_t partitions = 0, vcpus = 0;
    std::uint64_t ns = 0;       // the whole reshape
    std::uint64_t held_ns = 0;  // vCPUs out of the guest
};

class Reshaper {
public:
    Reshaper(NucleusGate& nucleus, const Clock& clock, const kvm::KvmSystem& sys, PartitionList& parts,
             PartitionControl& control, PsiGovernor& psi, const LogFn& log)
        : nucleus_(nucleus), clock_(clock), sys_(sys), parts_(parts), control_(control), psi_(psi), log_(log) {}

    // Partition i joins the cell of partition `to`.
    [[nodiscard]] Result<ReshapeResult, std::string> migrate(std::size_t i, std::size_t to);
    // Every partition of b's cell joins a's cell.
    [[nodiscard]] Result<ReshapeResult, std::string> merge(std::size_t a, std::size_t b);
    // These partitions (all of one cell, not all of it) leave for a new cell.
    [[nodiscard]] Result<ReshapeResult, std::string> split(const std::vector<std::size_t>& leave);
    [[nodiscard]] std::uint8_t cell_of(std::size_t i);
    [[nodiscard]] std::vector<ReshapeResult> reshapes() const;
    // Tests: the next reshape fails after moving this many vCPUs.
    void fail_next_after(std::uint32_t vcpus) { fail_after_ = vcpus; }

    // The coherence engine: fed every epoch with each edge's traffic; with
    // `reshape` its proposals are applied, without only logged, each once.
    void enable_coherence(bool reshape);
    void partition_added(std::size_t i);
    void epoch(const std::vector<EdgeTraffic>& traffic);
    [[nodiscard]] std::vector<std::string> coherence_proposals() const;

private:
    struct Moved {
        AgentPartition* p;
        AgentTask* t;
    };
    // One reshape in flight (under mu_).
    struct Move {
        std::vector<AgentPartition*> movers;
        std::shared_ptr<Cell> target;
        ReshapeKind kind;
        std::vector<AgentPartition*> held;    // every partition of the cells involved
        std::vector<AgentPartition*> mapped;  // movers the target maps
        std::vector<Moved> moved;             // vCPUs in the target
    };

    [[nodiscard]] Result<ReshapeResult, std::string> move_cells(Move m);
    [[nodiscard]] Result<void, std::string> check_movers(const Move& m) const;
    [[nodiscard]] Result<void, std::string> authorize(const Move& m);
    [[nodiscard]] bool hold(Move& m);
    void release(const Move& m);
    [[nodiscard]] Result<void, std::string> move_vcpus(Move& m);
    [[nodiscard]] std::string roll_back(Move& m, const std::string& why);
    [[nodiscard]] ReshapeResult commit(const Move& m, bool fresh, std::uint64_t held_at);
    void back_to_active(const Move& m, std::uint64_t detail);
    void apply(const CoherenceObserver::Observed& o);
    [[nodiscard]] std::vector<AgentPartition*> members(std::uint64_t cell, const std::vector<std::uint64_t>* only);
    [[nodiscard]] AgentPartition* by_raw(std::uint64_t raw);

    NucleusGate& nucleus_;
    const Clock& clock_;
    const kvm::KvmSystem& sys_;
    PartitionList& parts_;
    PartitionControl& control_;
    PsiGovernor& psi_;
    const LogFn& log_;
    std::mutex mu_;  // one reshape at a time; partitions' `cell` pointers
    std::atomic<std::uint32_t> fail_after_{~0u};
    std::unique_ptr<CoherenceObserver> coherence_;
    bool reshape_on_ = false;
    mutable std::mutex done_mu_;
    std::vector<ReshapeResult> done_;
};

}  // namespace rvm::host
