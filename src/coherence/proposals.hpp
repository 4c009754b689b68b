// ProposalEngine: per-epoch structural proposals for the partitions of a
// coherence graph (seed 002, 5.3 and 9.2). A vertex's group is its partition.
//
//  * Split P when its internal min cut is small against its internal weight
//    (cut < split_cut_ratio * W(P)), its coherence is low (< split_coherence)
//    and both sides would be more coherent than P. A disconnected P (cut 0)
//    splits along the cut without the side test. With max_split_parts > 2 the
//    parts are bisected again while they pass the cut and coherence tests;
//    parts no more coherent than P are pooled, and the pool must itself be
//    more coherent than P (else the plain bisection is tried).
//  * Merge P and Q across a heavy edge: the cross weight is at least
//    merge_edge_ratio * min(W(P), W(Q)), Q is P's heaviest neighbour or P is
//    Q's, the union has at most max_partition_vertices and its coherence is at
//    least merge_coherence (above split_coherence, so a merge never invites
//    the split that would undo it).
//  * Migrate vertex v from P to Q when more than migrate_share of v's traffic
//    goes to Q and Q has room.
//
// Hysteresis: a candidate is proposed only after it held for hold_epochs
// consecutive epochs (a candidate missing one epoch starts again). Once
// proposed, a split or merge marks every vertex of the partitions involved
// for cooldown_epochs: a partition holding a marked vertex is neither split
// nor merged. A migrated vertex may not migrate again for cooldown_epochs.
// Each epoch a partition takes part in at most one split or merge; migrations
// are taken first, and a partition a migration touched is not split or merged
// in the same epoch. The engine only proposes: applying a proposal is the
// caller's business, and the engine assumes every proposal it returns is
// applied.
//
// Resistances (coherence) are measured with weight_unit = the graph's
// traffic-weighted mean edge weight sum(w^2)/sum(w) unless configured, so
// decisions do not depend on the traffic unit (bytes or messages). The min-cut
// work of one epoch shares one budget (min_cut.budget): when it is spent,
// further cuts are best-so-far cuts. docs/coherence.md has the details.
#pragma once

#include <cstdint>
#include <map>
#include <tuple>
#include <utility>
#include <variant>
#include <vector>

#include "coherence/coherence.hpp"
#include "coherence/graph.hpp"
#include "coherence/min_cut.hpp"

namespace rvm::coherence {

struct ProposalConfig {
    double split_cut_ratio = 0.05;
    double split_coherence = 0.5;
    std::uint32_t max_split_parts = 2;
    double merge_edge_ratio = 0.5;
    double merge_coherence = 0.7;
    std::uint32_t max_partition_vertices = 64;  // seed 002 3.7: 64 task contributions
    double migrate_share = 0.6;
    std::uint32_t hold_epochs = 3;  // K
    std::uint32_t cooldown_epochs = 10;
    double weight_unit = 0.0;    // 0: sum(w^2) / sum(w) over the graph
    MinCutOptions min_cut;       // budget: seed DC-2, 50 µs per epoch
    CoherenceOptions coherence;  // weight_unit is overridden
};

struct SplitProposal {
    GroupId partition;
    std::vector<std::vector<VertexId>> parts;  // >= 2, each sorted; parts[0] holds the smallest id
    double cut_value;                          // of the first bisection
    double internal_weight;
    double coherence;   // of the partition before the split
    bool cut_complete;  // false: a best-so-far cut (budget)
};

struct MergeProposal {
    GroupId a;  // a < b
    GroupId b;
    double cross_weight;
    double merged_coherence;
};

struct MigrateProposal {
    VertexId vertex;
    GroupId from;
    GroupId to;
    double share;  // of the vertex's traffic that goes to `to`
};

using Proposal = std::variant<SplitProposal, MergeProposal, MigrateProposal>;

class ProposalEngine {
public:
    explicit ProposalEngine(ProposalConfig config = {}) : config_(std::move(config)) {}

    // Evaluates one epoch; returns the proposals due this epoch.
    [[nodiscard]] std::vector<Proposal> step(const Graph& graph);
    // This epoch's candidates (partitions in cooldown are not evaluated),
    // before hysteresis.
    [[nodiscard]] const std::vector<Proposal>& candidates() const { return candidates_; }
    [[nodiscard]] std::uint64_t epoch() const { return epoch_; }
    [[nodiscard]] const ProposalConfig& config() const { return config_; }

private:
    // (kind, x, y): split (0, P, 0), merge (1, a, b), migrate (2, v, to).
    using Key = std::tuple<int, std::uint64_t, std::uint64_t>;
    struct Marks {
        std::uint64_t reshape_until = 0;
        std::uint64_t migrate_until = 0;
    };

    ProposalConfig config_;
    std::uint64_t epoch_ = 0;
    std::vector<Proposal> candidates_;
    std::map<Key, std::uint32_t> held_;  // consecutive epochs each candidate held
    std::map<VertexId, Marks> marks_;
};

}  // namespace rvm::coherence
