// Graph: the coherence graph. Vertices are partitions or tasks (a stable
// 64-bit id and an owner/group id); undirected edges carry the traffic
// observed between them, decayed per epoch (DESIGN.md 3, CommEdge weight).
//
// Per epoch: observe() accumulates traffic; end_epoch() folds it in as
//   w <- decay * w + observed
// and drops edges whose weight falls below `epsilon`. Iteration order is
// deterministic: vertices by id, edges by (smaller id, larger id).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <unordered_map>
#include <vector>

#include "coherence/compact_graph.hpp"

namespace rvm::coherence {

struct GraphConfig {
    double decay = 0.95;    // per-epoch multiplier (seed 002, 11.4)
    double epsilon = 1e-6;  // edges lighter than this after an epoch are dropped
};

struct GraphEdge {
    VertexId a;  // a < b
    VertexId b;
    double weight;
};

class Graph {
public:
    explicit Graph(GraphConfig config = {}) : config_(config) {}

    // False if the id is already present (its group is left unchanged).
    bool add_vertex(VertexId id, GroupId group);
    // Removes the vertex and every incident edge; false if absent.
    bool remove_vertex(VertexId id);
    bool set_group(VertexId id, GroupId group);
    [[nodiscard]] std::optional<GroupId> group_of(VertexId id) const;
    [[nodiscard]] bool contains(VertexId id) const { return slot_.contains(id); }

    // Records `amount` (> 0) of traffic between a and b in the current epoch.
    // False (and nothing recorded) for a self loop, an unknown vertex or a
    // non-positive or non-finite amount.
    bool observe(VertexId a, VertexId b, double amount);
    // Folds the epoch's observations into the weights and decays the rest.
    void end_epoch();

    // Current (decayed) weight; 0 for no edge. Pending observations excluded.
    [[nodiscard]] double weight(VertexId a, VertexId b) const;
    [[nodiscard]] std::size_t vertex_count() const { return vertices_.size(); }
    [[nodiscard]] std::size_t edge_count() const { return edges_.size(); }
    [[nodiscard]] std::uint64_t epoch() const { return epoch_; }
    [[nodiscard]] const GraphConfig& config() const { return config_; }

    struct Vertex {
        VertexId id;
        GroupId group;
    };
    // Sorted by id.
    [[nodiscard]] std::vector<Vertex> vertices() const;
    // Sorted by (a, b).
    [[nodiscard]] std::vector<GraphEdge> edges() const;
    // The whole graph, vertices sorted by id, edges sorted.
    [[nodiscard]] CompactGraph compact() const;
    // The subgraph of one group's vertices (sorted by id) and their internal edges.
    [[nodiscard]] CompactGraph compact_group(GroupId group) const;

private:
    struct VertexRec {
        VertexId id;
        GroupId group;
    };
    struct EdgeRec {
        std::uint32_t u;  // slots
        std::uint32_t v;
        double weight;
        double observed;
    };
    static std::uint64_t key(std::uint32_t u, std::uint32_t v) {
        return u < v ? (std::uint64_t{u} << 32) | v : (std::uint64_t{v} << 32) | u;
    }
    [[nodiscard]] CompactGraph compact_if(std::span<const std::uint32_t> slots) const;
    void rebuild_index();

    GraphConfig config_;
    std::uint64_t epoch_ = 0;
    std::vector<VertexRec> vertices_;                   // by slot (dense; swap-removed)
    std::unordered_map<VertexId, std::uint32_t> slot_;  // id -> slot
    std::vector<EdgeRec> edges_;
    std::unordered_map<std::uint64_t, std::uint32_t> edge_index_;  // key(u, v) -> index in edges_
};

}  // namespace rvm::coherence
