// LaplacianSolver: solves L x = b for the weighted Laplacian L of a graph,
// one sparse LDLT factorization (Eigen SimplicialLDLT) of the *grounded*
// Laplacian: in each connected component the highest-numbered vertex is held
// at potential 0 and its row and column dropped, which leaves a symmetric
// positive definite, block-diagonal matrix.
//
// Effective resistance between u and v of the same component, with X the
// grounded inverse padded with zeros to n x n:
//   R(u, v) = X(u,u) + X(v,v) - 2 X(u,v)
// For large graphs, jl_embedding() gives the Spielman–Srivastava random
// projection Z (n x k) with R(u, v) ~= |Z(u,:) - Z(v,:)|^2.
#pragma once

#include <Eigen/Core>
#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "coherence/compact_graph.hpp"

namespace rvm::coherence {

class LaplacianSolver {
public:
    // Edge weights are divided by `weight_unit` (> 0), so resistances come out
    // in units of 1 / weight_unit. nullopt if the factorization fails.
    [[nodiscard]] static std::optional<LaplacianSolver> create(const CompactGraph& g, double weight_unit = 1.0);

    LaplacianSolver(LaplacianSolver&&) noexcept;
    LaplacianSolver& operator=(LaplacianSolver&&) noexcept;
    LaplacianSolver(const LaplacianSolver&) = delete;
    LaplacianSolver& operator=(const LaplacianSolver&) = delete;
    ~LaplacianSolver();

    [[nodiscard]] std::size_t vertex_count() const;
    [[nodiscard]] const Components& components() const;

    // X with L X = B for every column of B (n rows) that sums to zero on each
    // component; grounded vertices get 0.
    [[nodiscard]] Eigen::MatrixXd solve(const Eigen::MatrixXd& b) const;
    // The grounded inverse, padded to n x n (zero rows/columns at grounds).
    [[nodiscard]] Eigen::MatrixXd grounded_inverse() const;
    // Diagonal of the grounded inverse and its row sums (X * 1), without
    // keeping the whole inverse.
    struct DiagAndRowSums {
        Eigen::VectorXd diag;
        Eigen::VectorXd row_sums;
    };
    [[nodiscard]] DiagAndRowSums grounded_inverse_summary() const;
    // Exact effective resistance of every edge of `g` (the graph this solver
    // was built from), in g.edges order.
    [[nodiscard]] std::vector<double> edge_resistances(const CompactGraph& g) const;
    // Random projection (n x dims) whose row distances approximate effective
    // resistances (Spielman–Srivastava): Z = L^+ B^T W^{1/2} Q^T, Q random +-1/sqrt(dims).
    [[nodiscard]] Eigen::MatrixXd jl_embedding(const CompactGraph& g, std::uint32_t dims, std::uint64_t seed) const;

private:
    struct Impl;
    explicit LaplacianSolver(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
};

}  // namespace rvm::coherence
