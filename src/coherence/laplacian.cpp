#include "coherence/laplacian.hpp"

#include <Eigen/SparseCholesky>
#include <Eigen/SparseCore>
#include <cmath>
#include <limits>
#include <random>

namespace rvm::coherence {

namespace {
constexpr int kGround = -1;  // Eigen sparse matrices index with int
}  // namespace

struct LaplacianSolver::Impl {
    std::size_t n = 0;
    double weight_unit = 1.0;
    Components comps;
    std::vector<int> reduced;  // vertex -> row of the grounded matrix, or kGround
    Eigen::Index m = 0;        // size of the grounded matrix (n - components)
    Eigen::SimplicialLDLT<Eigen::SparseMatrix<double>> ldlt;

    [[nodiscard]] Eigen::MatrixXd restrict_rows(const Eigen::MatrixXd& b) const {
        Eigen::MatrixXd out(m, b.cols());
        for (std::size_t v = 0; v < n; ++v) {
            if (reduced[v] != kGround) out.row(reduced[v]) = b.row(static_cast<Eigen::Index>(v));
        }
        return out;
    }
    [[nodiscard]] Eigen::MatrixXd pad_rows(const Eigen::MatrixXd& x) const {
        Eigen::MatrixXd out = Eigen::MatrixXd::Zero(static_cast<Eigen::Index>(n), x.cols());
        for (std::size_t v = 0; v < n; ++v) {
            if (reduced[v] != kGround) out.row(static_cast<Eigen::Index>(v)) = x.row(reduced[v]);
        }
        return out;
    }
};

LaplacianSolver::LaplacianSolver(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
LaplacianSolver::LaplacianSolver(LaplacianSolver&&) noexcept = default;
LaplacianSolver& LaplacianSolver::operator=(LaplacianSolver&&) noexcept = default;
LaplacianSolver::~LaplacianSolver() = default;

std::optional<LaplacianSolver> LaplacianSolver::create(const CompactGraph& g, double weight_unit) {
    if (!(weight_unit > 0.0) || !std::isfinite(weight_unit)) return std::nullopt;
    auto impl = std::make_unique<Impl>();
    impl->n = g.vertex_count();
    impl->weight_unit = weight_unit;
    impl->comps = connected_components(g);
    // Ground the highest-numbered vertex of each component.
    std::vector<char> grounded(impl->comps.count, 0);
    impl->reduced.assign(impl->n, 0);
    for (std::size_t v = impl->n; v-- > 0;) {
        const std::uint32_t c = impl->comps.component[v];
        if (grounded[c] == 0) {
            grounded[c] = 1;
            impl->reduced[v] = kGround;
        }
    }
    int next = 0;
    for (std::size_t v = 0; v < impl->n; ++v) {
        if (impl->reduced[v] != kGround) impl->reduced[v] = next++;
    }
    impl->m = next;
    if (impl->m == 0) return LaplacianSolver(std::move(impl));

    std::vector<Eigen::Triplet<double>> triplets;
    triplets.reserve(g.edges.size() * 4);
    for (const WeightedEdge& e : g.edges) {
        if (e.u == e.v) continue;
        const double w = e.weight / weight_unit;
        const int ru = impl->reduced[e.u];
        const int rv = impl->reduced[e.v];
        if (ru != kGround) triplets.emplace_back(ru, ru, w);
        if (rv != kGround) triplets.emplace_back(rv, rv, w);
        if (ru != kGround && rv != kGround) {
            triplets.emplace_back(ru, rv, -w);
            triplets.emplace_back(rv, ru, -w);
        }
    }
    Eigen::SparseMatrix<double> lg(impl->m, impl->m);
    lg.setFromTriplets(triplets.begin(), triplets.end());
    impl->ldlt.compute(lg);
    if (impl->ldlt.info() != Eigen::Success) return std::nullopt;
    return LaplacianSolver(std::move(impl));
}

std::size_t LaplacianSolver::vertex_count() const { return impl_->n; }
const Components& LaplacianSolver::components() const { return impl_->comps; }

Eigen::MatrixXd LaplacianSolver::solve(const Eigen::MatrixXd& b) const {
    if (impl_->m == 0) return Eigen::MatrixXd::Zero(static_cast<Eigen::Index>(impl_->n), b.cols());
    const Eigen::MatrixXd x = impl_->ldlt.solve(impl_->restrict_rows(b));
    return impl_->pad_rows(x);
}

Eigen::MatrixXd LaplacianSolver::grounded_inverse() const {
    const auto n = static_cast<Eigen::Index>(impl_->n);
    Eigen::MatrixXd out = Eigen::MatrixXd::Zero(n, n);
    if (impl_->m == 0) return out;
    const Eigen::MatrixXd inv = impl_->ldlt.solve(Eigen::MatrixXd::Identity(impl_->m, impl_->m));
    for (std::size_t u = 0; u < impl_->n; ++u) {
        if (impl_->reduced[u] == kGround) continue;
        for (std::size_t v = 0; v < impl_->n; ++v) {
            if (impl_->reduced[v] == kGround) continue;
            out(static_cast<Eigen::Index>(u), static_cast<Eigen::Index>(v)) = inv(impl_->reduced[u], impl_->reduced[v]);
        }
    }
    return out;
}

LaplacianSolver::DiagAndRowSums LaplacianSolver::grounded_inverse_summary() const {
    const auto n = static_cast<Eigen::Index>(impl_->n);
    DiagAndRowSums out{Eigen::VectorXd::Zero(n), Eigen::VectorXd::Zero(n)};
    if (impl_->m == 0) return out;
    const Eigen::MatrixXd inv = impl_->ldlt.solve(Eigen::MatrixXd::Identity(impl_->m, impl_->m));
    const Eigen::VectorXd sums = inv.rowwise().sum();
    for (std::size_t v = 0; v < impl_->n; ++v) {
        const int r = impl_->reduced[v];
        if (r == kGround) continue;
        out.diag(static_cast<Eigen::Index>(v)) = inv(r, r);
        out.row_sums(static_cast<Eigen::Index>(v)) = sums(r);
    }
    return out;
}

std::vector<double> LaplacianSolver::edge_resistances(const CompactGraph& g) const {
    const Eigen::MatrixXd x = grounded_inverse();
    std::vector<double> out;
    out.reserve(g.edges.size());
    for (const WeightedEdge& e : g.edges) {
        const auto u = static_cast<Eigen::Index>(e.u);
        const auto v = static_cast<Eigen::Index>(e.v);
        out.push_back(std::max(0.0, x(u, u) + x(v, v) - 2.0 * x(u, v)));
    }
    return out;
}

Eigen::MatrixXd LaplacianSolver::jl_embedding(const CompactGraph& g, std::uint32_t dims, std::uint64_t seed) const {
    const auto k = static_cast<Eigen::Index>(dims);
    Eigen::MatrixXd y = Eigen::MatrixXd::Zero(static_cast<Eigen::Index>(impl_->n), k);
    std::mt19937_64 rng(seed);
    const double scale = 1.0 / std::sqrt(static_cast<double>(dims));
    for (const WeightedEdge& e : g.edges) {
        if (e.u == e.v) continue;
        const double a = std::sqrt(e.weight / impl_->weight_unit) * scale;
        std::uint64_t bits = 0;
        for (Eigen::Index r = 0; r < k; ++r) {
            if (r % 64 == 0) bits = rng();
            const double q = (bits & 1U) != 0 ? a : -a;
            bits >>= 1U;
            y(static_cast<Eigen::Index>(e.u), r) += q;
            y(static_cast<Eigen::Index>(e.v), r) -= q;
        }
    }
    return solve(y);
}

}  // namespace rvm::coherence
