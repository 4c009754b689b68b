#include "coherence/coherence.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include "coherence/laplacian.hpp"

namespace rvm::coherence {

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

// Per component c: sum over pairs of R, and per vertex sum over its component
// of R, from either the exact grounded inverse or a JL embedding.
struct Sums {
    std::vector<double> pair_sum;    // by component
    std::vector<double> vertex_sum;  // by vertex
};

Sums exact_sums(const LaplacianSolver& solver) {
    const Components& comps = solver.components();
    const std::size_t n = solver.vertex_count();
    const LaplacianSolver::DiagAndRowSums x = solver.grounded_inverse_summary();
    std::vector<double> size(comps.count, 0.0);
    std::vector<double> trace(comps.count, 0.0);
    std::vector<double> total(comps.count, 0.0);  // 1^T X 1 over the component
    for (std::size_t v = 0; v < n; ++v) {
        const std::uint32_t c = comps.component[v];
        const auto i = static_cast<Eigen::Index>(v);
        size[c] += 1.0;
        trace[c] += x.diag(i);
        total[c] += x.row_sums(i);
    }
    Sums out{std::vector<double>(comps.count), std::vector<double>(n)};
    for (std::uint32_t c = 0; c < comps.count; ++c) out.pair_sum[c] = size[c] * trace[c] - total[c];
    for (std::size_t v = 0; v < n; ++v) {
        const std::uint32_t c = comps.component[v];
        const auto i = static_cast<Eigen::Index>(v);
        out.vertex_sum[v] = size[c] * x.diag(i) + trace[c] - 2.0 * x.row_sums(i);
    }
    return out;
}

Sums jl_sums(const CompactGraph& g, const LaplacianSolver& solver, const CoherenceOptions& options) {
    const Components& comps = solver.components();
    const std::size_t n = solver.vertex_count();
    const Eigen::MatrixXd z = solver.jl_embedding(g, options.jl_dimensions, options.seed);
    std::vector<double> size(comps.count, 0.0);
    std::vector<double> sq(comps.count, 0.0);                                 // sum of |z_i|^2
    Eigen::MatrixXd centroid = Eigen::MatrixXd::Zero(comps.count, z.cols());  // sum of z_i
    for (std::size_t v = 0; v < n; ++v) {
        const std::uint32_t c = comps.component[v];
        const auto i = static_cast<Eigen::Index>(v);
        size[c] += 1.0;
        sq[c] += z.row(i).squaredNorm();
        centroid.row(c) += z.row(i);
    }
    Sums out{std::vector<double>(comps.count), std::vector<double>(n)};
    for (std::uint32_t c = 0; c < comps.count; ++c) out.pair_sum[c] = size[c] * sq[c] - centroid.row(c).squaredNorm();
    for (std::size_t v = 0; v < n; ++v) {
        const std::uint32_t c = comps.component[v];
        const auto i = static_cast<Eigen::Index>(v);
        out.vertex_sum[v] = size[c] * z.row(i).squaredNorm() + sq[c] - 2.0 * z.row(i).dot(centroid.row(c));
    }
    return out;
}

}  // namespace

std::optional<CoherenceScore> coherence(const CompactGraph& g, const CoherenceOptions& options) {
    const std::size_t n = g.vertex_count();
    CoherenceScore score;
    if (n <= 1) {
        score.components = static_cast<std::uint32_t>(n);
        score.vertex_resistance.assign(n, 0.0);
        score.vertex_score.assign(n, 1.0);
        return score;
    }
    std::optional<LaplacianSolver> solver = LaplacianSolver::create(g, options.weight_unit);
    if (!solver) return std::nullopt;
    const Components& comps = solver->components();
    score.components = comps.count;
    score.exact = n <= options.exact_max_vertices;
    const Sums sums = score.exact ? exact_sums(*solver) : jl_sums(g, *solver, options);

    std::vector<double> size(comps.count, 0.0);
    for (std::uint32_t c : comps.component) size[c] += 1.0;
    const double others = static_cast<double>(n - 1);
    score.vertex_resistance.resize(n);
    score.vertex_score.resize(n);
    for (std::size_t v = 0; v < n; ++v) {
        const double s = size[comps.component[v]];
        const double r = s > 1.0 ? std::max(0.0, sums.vertex_sum[v]) / (s - 1.0) : 0.0;
        score.vertex_resistance[v] = r;
        score.vertex_score[v] = ((s - 1.0) / others) / (1.0 + r);
    }
    if (comps.count > 1) {
        score.mean_resistance = kInf;
        score.value = 0.0;
    } else {
        const double pairs = static_cast<double>(n) * others / 2.0;
        score.mean_resistance = std::max(0.0, sums.pair_sum[0]) / pairs;
        score.value = 1.0 / (1.0 + score.mean_resistance);
    }
    if (!std::isfinite(score.value)) return std::nullopt;
    return score;
}

}  // namespace rvm::coherence
