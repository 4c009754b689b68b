// Coherence score of a partition (seed 002, 3.7 and 11.3): how tightly its
// tasks are coupled, from the effective resistance between them in the
// partition's internal communication graph.
//
//   score = 1 / (1 + mean over pairs {i, j} of R(i, j))          in [0, 1]
//
// Per task i ("task contributions"): r_i = mean over j != i of R(i, j), and
// vertex_score_i = 1 / (1 + r_i). With X the grounded inverse (laplacian.hpp)
// and s the size of a component:
//   sum_{i<j} R(i,j) = s * tr(X) - 1^T X 1
//   sum_j R(i,j)     = s * X(i,i) + tr(X) - 2 (X 1)_i
//
// Conventions: no vertex or one vertex -> score 1. A disconnected partition
// (two or more components) -> score 0 and mean_resistance = infinity: its
// unreachable pairs have infinite resistance. Per task, unreachable pairs
// contribute 0: vertex_score_i = ((s_i - 1) / (n - 1)) / (1 + r_i^comp), where
// r_i^comp is the mean resistance to the s_i - 1 others in i's component
// (an isolated vertex of a larger partition scores 0).
//
// Resistances are in units of 1 / weight_unit (weights are divided by it).
// Up to exact_max_vertices the grounded inverse is computed exactly (one
// sparse LDLT, then n solves); above, R is estimated from a seeded
// Johnson–Lindenstrauss projection with jl_dimensions solves.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "coherence/compact_graph.hpp"

namespace rvm::coherence {

struct CoherenceOptions {
    double weight_unit = 1.0;
    std::uint32_t exact_max_vertices = 512;
    std::uint32_t jl_dimensions = 128;
    std::uint64_t seed = 0xC0E5;
};

struct CoherenceScore {
    double value = 1.0;                     // [0, 1]
    double mean_resistance = 0.0;           // infinity when disconnected
    std::vector<double> vertex_resistance;  // r_i (within i's component)
    std::vector<double> vertex_score;       // [0, 1], see above
    std::uint32_t components = 0;
    bool exact = true;  // false: JL estimate
};

// nullopt only if the Laplacian factorization fails (non-finite weights).
[[nodiscard]] std::optional<CoherenceScore> coherence(const CompactGraph& g, const CoherenceOptions& options = {});

}  // namespace rvm::coherence
