#include "coherence/sparsifier.hpp"

#include <Eigen/Dense>
#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

#include "coherence/laplacian.hpp"

namespace rvm::coherence {

namespace {

double uniform01(std::mt19937_64& rng) { return static_cast<double>(rng() >> 11U) * 0x1.0p-53; }

std::vector<double> resistances(const CompactGraph& g, const LaplacianSolver& solver, const SparsifierOptions& o) {
    if (g.vertex_count() <= o.exact_max_vertices) return solver.edge_resistances(g);
    const Eigen::MatrixXd z = solver.jl_embedding(g, o.jl_dimensions, o.seed ^ 0x9E3779B97F4A7C15ULL);
    std::vector<double> out;
    out.reserve(g.edges.size());
    for (const WeightedEdge& e : g.edges) {
        out.push_back((z.row(static_cast<Eigen::Index>(e.u)) - z.row(static_cast<Eigen::Index>(e.v))).squaredNorm());
    }
    return out;
}

double quadratic_form(const CompactGraph& g, const Eigen::VectorXd& x) {
    double sum = 0.0;
    for (const WeightedEdge& e : g.edges) {
        const double d = x(static_cast<Eigen::Index>(e.u)) - x(static_cast<Eigen::Index>(e.v));
        sum += e.weight * d * d;
    }
    return sum;
}

Eigen::MatrixXd dense_laplacian(const CompactGraph& g) {
    const auto n = static_cast<Eigen::Index>(g.vertex_count());
    Eigen::MatrixXd l = Eigen::MatrixXd::Zero(n, n);
    for (const WeightedEdge& e : g.edges) {
        const auto u = static_cast<Eigen::Index>(e.u);
        const auto v = static_cast<Eigen::Index>(e.v);
        l(u, u) += e.weight;
        l(v, v) += e.weight;
        l(u, v) -= e.weight;
        l(v, u) -= e.weight;
    }
    return l;
}

}  // namespace

std::optional<Sparsified> sparsify(const CompactGraph& g, const SparsifierOptions& options) {
    const std::size_t n = g.vertex_count();
    const std::size_t m = g.edges.size();
    Sparsified out;
    out.exact_resistances = n <= options.exact_max_vertices;
    const double eps = options.epsilon;
    const double nd = static_cast<double>(n);
    const double q_real = n < 2 ? 0.0 : std::ceil(options.oversampling * nd * std::log(nd) / (eps * eps));
    if (!(q_real < static_cast<double>(m))) {
        out.graph = g;
        return out;
    }
    const auto q = static_cast<std::size_t>(q_real);
    std::optional<LaplacianSolver> solver = LaplacianSolver::create(g);
    if (!solver) return std::nullopt;
    const std::vector<double> r = resistances(g, *solver, options);

    // Leverage w_e R_e lies in (0, 1]; clamp the estimate's noise.
    std::vector<double> cumulative(m);
    double total = 0.0;
    for (std::size_t i = 0; i < m; ++i) {
        total += std::clamp(g.edges[i].weight * r[i], 1e-12, 1.0);
        cumulative[i] = total;
    }
    std::vector<std::uint32_t> draws(m, 0);
    std::mt19937_64 rng(options.seed);
    for (std::size_t k = 0; k < q; ++k) {
        const double u = uniform01(rng) * total;
        const auto it = std::upper_bound(cumulative.begin(), cumulative.end(), u);
        const auto i = static_cast<std::size_t>(
            std::min<std::ptrdiff_t>(it - cumulative.begin(), static_cast<std::ptrdiff_t>(m - 1)));
        ++draws[i];
    }
    out.samples = q;
    out.graph.ids = g.ids;
    const double qd = static_cast<double>(q);
    for (std::size_t i = 0; i < m; ++i) {
        if (draws[i] == 0) continue;
        const double p = (cumulative[i] - (i == 0 ? 0.0 : cumulative[i - 1])) / total;
        out.graph.edges.push_back(
            {g.edges[i].u, g.edges[i].v, static_cast<double>(draws[i]) * g.edges[i].weight / (qd * p)});
    }
    return out;
}

SparsifierAudit audit_sparsifier(const CompactGraph& g, const CompactGraph& h, const AuditOptions& options) {
    SparsifierAudit audit;
    const auto n = static_cast<Eigen::Index>(g.vertex_count());
    std::mt19937_64 rng(options.seed);
    for (std::uint32_t k = 0; k < options.test_vectors; ++k) {
        Eigen::VectorXd x(n);
        for (Eigen::Index i = 0; i < n; ++i) x(i) = 2.0 * uniform01(rng) - 1.0;
        const double lg = quadratic_form(g, x);
        if (!(lg > 0.0)) continue;
        audit.max_vector_error = std::max(audit.max_vector_error, std::abs(quadratic_form(h, x) / lg - 1.0));
    }
    audit.epsilon_achieved = audit.max_vector_error;
    if (g.vertex_count() > options.spectral_max_vertices || n < 2) return audit;

    // Generalized eigenvalues of (L_H, L_G) on range(L_G): eigenvalues of
    // P^T L_H P with P = V_+ Lambda_+^{-1/2}.
    const Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> eg(dense_laplacian(g));
    const Eigen::VectorXd& lambda = eg.eigenvalues();
    const double tol = 1e-9 * std::max(1.0, lambda.maxCoeff());
    std::vector<Eigen::Index> keep;
    for (Eigen::Index i = 0; i < n; ++i) {
        if (lambda(i) > tol) keep.push_back(i);
    }
    if (keep.empty()) return audit;
    Eigen::MatrixXd p(n, static_cast<Eigen::Index>(keep.size()));
    for (std::size_t j = 0; j < keep.size(); ++j) {
        p.col(static_cast<Eigen::Index>(j)) = eg.eigenvectors().col(keep[j]) / std::sqrt(lambda(keep[j]));
    }
    const Eigen::MatrixXd mh = p.transpose() * dense_laplacian(h) * p;
    const Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> em(mh, Eigen::EigenvaluesOnly);
    audit.spectral = true;
    audit.lambda_min = em.eigenvalues().minCoeff();
    audit.lambda_max = em.eigenvalues().maxCoeff();
    audit.epsilon_achieved = std::max({audit.lambda_max - 1.0, 1.0 - audit.lambda_min, audit.max_vector_error});
    return audit;
}

}  // namespace rvm::coherence
