// EdgeHub: every CommEdge of a runtime. It creates an edge in the nucleus
// (witnessed, a capability to each end), maps its window into both
// partitions, serves notify_signal / notify_wait, closes edges, and once per
// epoch reads their traffic for the coherence engine. Edge links outlive the
// VMs that map them: the hub is destroyed after the partitions.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "abi/status.h"
#include "host/runtime/agent_calls.hpp"
#include "host/runtime/agent_partition.hpp"
#include "host/runtime/coherence_observer.hpp"
#include "host/runtime/edge_link.hpp"
#include "host/runtime/nucleus_gate.hpp"

namespace rvm::host {

struct EdgeReport {
    std::string from, to;
    std::uint64_t capacity = 0;
    std::uint64_t share = 0;                // zero-copy region bytes
    std::uint64_t bytes = 0, messages = 0;  // the sender's counters (guest-written: informational)
    double weight = 0;                      // decayed bytes per epoch (coherence input)
};

using PartitionList = std::vector<std::unique_ptr<AgentPartition>>;

class EdgeHub {
public:
    explicit EdgeHub(NucleusGate& nucleus) : nucleus_(nucleus) {}
    EdgeHub(const EdgeHub&) = delete;
    EdgeHub& operator=(const EdgeHub&) = delete;

    // Connects `a` (sender) to `b` (receiver) with `capacity` data bytes (a
    // power of two, 4 KiB .. 1 MiB) and an optional zero-copy region of
    // `share` bytes (0, or a multiple of 4 KiB up to 2 MiB).
    [[nodiscard]] Result<EdgeId, std::string> connect(AgentPartition& a, AgentPartition& b, std::uint64_t capacity,
                                                      std::uint64_t share);
    // Destroys an edge in the nucleus (witnessed) and closes its window.
    [[nodiscard]] KResult<void> destroy(EdgeId e);
    // Wakes every sleeper to look at its stop flag again.
    void wake_all();

    // The side effect of notify_signal / notify_wait: the value for rax.
    // `park(wait)` runs the sleep of a wait (off the task's CPU).
    template <class Park>
    [[nodiscard]] std::uint64_t notify(const NotifyRequest& n, const std::atomic<bool>& stop, Park&& park) {
        EdgeLink* l = find(n.edge);
        const auto closed = static_cast<std::uint64_t>(Status{RVM_E_STATE, 0}.to_ret());
        if (l == nullptr || l->closed()) return closed;
        if (!n.wait) {
            l->signal(!n.sender, n.bits);
            return 0;
        }
        std::uint64_t bits = 0;
        park([&] { bits = l->wait(n.sender, n.bits, n.timeout_ns, stop); });
        return bits == 0 && l->closed() ? closed : bits;
    }

    // Once per epoch: every edge's weight decays and takes what it moved.
    [[nodiscard]] std::vector<EdgeTraffic> epoch_traffic();
    [[nodiscard]] std::vector<EdgeReport> reports(const PartitionList& parts) const;

private:
    [[nodiscard]] EdgeLink* find(EdgeId e);
    // The zero-copy region of a new edge: created for the sender, shared
    // read-only with the receiver; where each side sees it.
    [[nodiscard]] Result<void, std::string> add_share(EdgeLink& l, AgentPartition& a, AgentPartition& b,
                                                      std::uint64_t share, std::uint64_t& gpa_a, std::uint64_t& gpa_b);

    NucleusGate& nucleus_;
    mutable std::mutex mu_;
    std::vector<std::unique_ptr<EdgeLink>> links_;
};

}  // namespace rvm::host
