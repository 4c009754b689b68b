// CompactGraph: an immutable, index-based view of a weighted undirected graph,
// the input of every algorithm in the coherence engine (min-cut, Laplacian
// solves, sparsifier). Vertices are 0..n-1; ids[i] names vertex i.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace rvm::coherence {

using VertexId = std::uint64_t;  // a partition or a task: stable across epochs
using GroupId = std::uint64_t;   // the vertex's owner (its partition, for tasks)

struct WeightedEdge {
    std::uint32_t u;  // u < v for edges built by Graph; any order accepted
    std::uint32_t v;
    double weight;  // > 0
};

struct CompactGraph {
    std::vector<VertexId> ids;        // ids[i]: the stable id of vertex i
    std::vector<WeightedEdge> edges;  // no self loops; parallel edges allowed

    [[nodiscard]] std::size_t vertex_count() const { return ids.size(); }
    [[nodiscard]] double total_weight() const;

    // The subgraph induced by `vertices` (indices into this graph, any order;
    // the result keeps their order). Edges keep this graph's relative order.
    [[nodiscard]] CompactGraph induced(std::span<const std::uint32_t> vertices) const;
};

// Connected components: component[i] in 0..count-1, numbered in order of each
// component's smallest vertex.
struct Components {
    std::vector<std::uint32_t> component;
    std::uint32_t count = 0;
};
[[nodiscard]] Components connected_components(const CompactGraph& g);

}  // namespace rvm::coherence
