// A placement simulation without KVM: agents on a host of `cores` cores in
// `domains` cache domains, talking over a drifting communication graph, placed
// either round-robin (agent i on core i mod cores) or by the coherence engine
// (partitions found by split/merge/migrate proposals on the decayed graph,
// packed onto domains). Both placements see the same traffic; the measure is
// the traffic that crosses cache domains.
//
// Workload: agents belong to clusters of about cluster_size (random
// membership, so round-robin does not line up with them by accident). Every
// epoch each agent sends messages_per_agent messages (size uniform in
// [0.5, 1.5)), a fraction intra_fraction to a random member of its cluster and
// the rest to a random agent; and drift_per_epoch of the agents move to another
// cluster, so the clusters slowly re-form.
//
// Coherence placement: the coherence graph starts with one partition per
// domain (the round-robin placement); each epoch its traffic is observed, the
// epoch closed, the proposals applied, and partitions re-packed onto domains
// (largest first, each to the domain it talks to most, sticking to where most
// of its agents already are; a partition that fits nowhere is spread).
// Per-domain capacity: cores_per_domain * ceil(agents * (1 + capacity_slack) / cores).
#pragma once

#include <cstdint>

#include "coherence/proposals.hpp"

namespace rvm::coherence {

struct SimConfig {
    std::uint64_t seed = 1;
    std::uint32_t agents = 1000;
    std::uint32_t cores = 64;
    std::uint32_t domains = 4;
    std::uint32_t epochs = 200;
    std::uint32_t cluster_size = 20;
    std::uint32_t messages_per_agent = 6;
    double intra_fraction = 0.9;
    double drift_per_epoch = 0.005;
    double capacity_slack = 0.05;
    std::uint32_t warmup_epochs = 50;  // excluded from the steady-state figures
    double graph_epsilon = 0.25;       // edges lighter than ~ a quarter message are dropped
};

// The engine configuration the simulation uses by default.
[[nodiscard]] ProposalConfig sim_proposal_config();

struct SimTotals {
    double traffic = 0.0;      // all messages (same for both placements)
    double round_robin = 0.0;  // cross-domain traffic, round-robin placement
    double coherence = 0.0;    // cross-domain traffic, coherence placement
    [[nodiscard]] double reduction() const { return round_robin > 0.0 ? 1.0 - coherence / round_robin : 0.0; }
};

struct SimResult {
    SimTotals all;     // every epoch
    SimTotals steady;  // after warmup_epochs
    std::uint64_t splits = 0;
    std::uint64_t merges = 0;
    std::uint64_t migrations = 0;
    std::uint64_t agent_moves = 0;  // agents whose domain changed (coherence placement)
    std::uint32_t final_partitions = 0;
    std::uint32_t domain_capacity = 0;
    std::uint32_t max_domain_load = 0;  // over all epochs (coherence placement)
    bool capacity_respected = true;
};

[[nodiscard]] SimResult run_placement_sim(const SimConfig& config,
                                          const ProposalConfig& engine = sim_proposal_config());

}  // namespace rvm::coherence
