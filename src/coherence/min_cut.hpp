// Global minimum cut of a weighted undirected graph (Stoer–Wagner), under a
// compute budget.
//
// Each Stoer–Wagner phase ends with a "cut of the phase" that is a real cut of
// the original graph; the minimum over all n-1 phases is the global minimum.
// Before the first phase the best cut is the lightest single vertex (its
// weighted degree). The budget is checked before every phase: when it runs
// out, the result has complete = false and carries the lightest cut seen so
// far — a valid cut, only perhaps not minimal. A phase in progress is not
// interrupted, so a call can overrun its budget by one phase. A disconnected
// graph is answered exactly (value 0, one component against the rest) without
// running any phase.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "coherence/compact_graph.hpp"
#include "coherence/compute_budget.hpp"

namespace rvm::coherence {

enum class MinCutMethod : std::uint8_t {
    Auto,   // Dense for small graphs, Heap otherwise
    Dense,  // adjacency matrix, O(n^3); fastest for small n
    Heap,   // contracted adjacency lists + binary heap, O(n (m + n) log n)
};

struct MinCutOptions {
    ComputeBudget budget;
    MinCutMethod method = MinCutMethod::Auto;
};

struct MinCut {
    double value = 0.0;                    // sum of the weights of cut_edges
    std::vector<std::uint32_t> side_a;     // sorted vertex indices; non-empty
    std::vector<std::uint32_t> side_b;     // sorted; non-empty; the complement of side_a
    std::vector<std::uint32_t> cut_edges;  // indices into the graph's edges, ascending
    bool complete = true;                  // false: the budget ran out first
    std::uint32_t phases = 0;              // Stoer–Wagner phases run
};

// Graphs with the Auto method use Dense up to this many vertices.
inline constexpr std::uint32_t kMinCutDenseMaxVertices = 128;

// nullopt for fewer than two vertices (no cut exists). Edge weights must be > 0.
[[nodiscard]] std::optional<MinCut> min_cut(const CompactGraph& g, const MinCutOptions& options = {});

}  // namespace rvm::coherence
