// Spectral sparsifier (Spielman–Srivastava): keeps a weighted sample of the
// edges whose Laplacian L_H satisfies, with high probability,
//   (1 - eps) x^T L x <= x^T L_H x <= (1 + eps) x^T L x   for every x.
// Edge e is sampled with probability p_e = w_e R_e / sum(w R) (R_e its
// effective resistance; sum(w R) = n - components), q times with replacement,
// and each draw adds w_e / (q p_e) to its edge in H. The RNG is seeded, so the
// result is a function of (graph, options).
//
// The audit measures what was achieved: the largest relative error of
// x^T L_H x against x^T L x over random test vectors and, for graphs up to
// spectral_max_vertices, the extreme generalized eigenvalues of (L_H, L) on
// the complement of L's null space (exact eps = max(lambda_max - 1, 1 - lambda_min)).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>

#include "coherence/compact_graph.hpp"

namespace rvm::coherence {

struct SparsifierOptions {
    double epsilon = 0.5;       // target
    double oversampling = 2.0;  // q = ceil(oversampling * n ln n / eps^2)
    std::uint64_t seed = 0x5EA5;
    std::uint32_t exact_max_vertices = 512;  // above: JL-estimated resistances
    std::uint32_t jl_dimensions = 64;
};

struct Sparsified {
    CompactGraph graph;       // same vertices (ids, order) as the input
    std::size_t samples = 0;  // q
    bool exact_resistances = true;
};

// nullopt if the Laplacian factorization fails. A graph with no more edges
// than q draws would keep is returned unchanged (samples = 0).
[[nodiscard]] std::optional<Sparsified> sparsify(const CompactGraph& g, const SparsifierOptions& options = {});

struct AuditOptions {
    std::uint32_t test_vectors = 64;
    std::uint64_t seed = 0xA0D1;
    std::uint32_t spectral_max_vertices = 400;
};

struct SparsifierAudit {
    double max_vector_error = 0.0;  // max |x^T L_H x / x^T L x - 1| over the test vectors
    bool spectral = false;          // lambda_min/max computed
    double lambda_min = 1.0;
    double lambda_max = 1.0;
    double epsilon_achieved = 0.0;  // spectral bound if computed, else the vector estimate
};

// `h` must have the same vertex count as `g` (the output of sparsify()).
[[nodiscard]] SparsifierAudit audit_sparsifier(const CompactGraph& g, const CompactGraph& h,
                                               const AuditOptions& options = {});

}  // namespace rvm::coherence
