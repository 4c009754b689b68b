// Coherence scores against a dense reference (the Laplacian's pseudo-inverse
// by eigendecomposition, test only), the conventions for one vertex and for
// disconnected partitions, and the JL estimate for large graphs.
#include <gtest/gtest.h>

#include <Eigen/Dense>
#include <cmath>
#include <cstdint>
#include <limits>
#include <optional>
#include <random>
#include <vector>

#include "coherence/coherence.hpp"
#include "coherence/laplacian.hpp"
#include "support/random_graph.hpp"

namespace rvm::coherence {
namespace {

CompactGraph random_graph(std::mt19937_64& rng, std::uint32_t n, double p) {
    return test::random_graph(rng, n, p, 0, test::uniform_weight(0.1, 2.0));
}

// Dense reference: R(i, j) from the pseudo-inverse, per component.
struct Reference {
    double mean = 0.0;  // over all pairs, infinity if disconnected
    std::vector<double> vertex_resistance;
    std::vector<double> vertex_score;
};

Reference reference(const CompactGraph& g, double unit) {
    const auto n = static_cast<Eigen::Index>(g.vertex_count());
    Eigen::MatrixXd l = Eigen::MatrixXd::Zero(n, n);
    for (const WeightedEdge& e : g.edges) {
        const double w = e.weight / unit;
        l(e.u, e.u) += w;
        l(e.v, e.v) += w;
        l(e.u, e.v) -= w;
        l(e.v, e.u) -= w;
    }
    const Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> es(l);
    Eigen::VectorXd inv = es.eigenvalues();
    const double tol = 1e-10 * std::max(1.0, inv.maxCoeff());
    for (Eigen::Index i = 0; i < n; ++i) inv(i) = inv(i) > tol ? 1.0 / inv(i) : 0.0;
    const Eigen::MatrixXd pinv = es.eigenvectors() * inv.asDiagonal() * es.eigenvectors().transpose();
    const Components comps = connected_components(g);
    Reference ref;
    double sum = 0.0;
    for (Eigen::Index i = 0; i < n; ++i) {
        double vsum = 0.0;
        double reach = 0.0;
        for (Eigen::Index j = 0; j < n; ++j) {
            if (i == j ||
                comps.component[static_cast<std::size_t>(i)] != comps.component[static_cast<std::size_t>(j)]) {
                continue;
            }
            vsum += pinv(i, i) + pinv(j, j) - 2.0 * pinv(i, j);
            reach += 1.0;
        }
        sum += vsum;
        const double r = reach > 0 ? vsum / reach : 0.0;
        ref.vertex_resistance.push_back(r);
        ref.vertex_score.push_back(n > 1 ? (reach / static_cast<double>(n - 1)) / (1.0 + r) : 1.0);
    }
    const double pairs = static_cast<double>(n) * static_cast<double>(n - 1) / 2.0;
    ref.mean = comps.count > 1 ? std::numeric_limits<double>::infinity() : (pairs > 0 ? sum / 2.0 / pairs : 0.0);
    return ref;
}

void expect_rel(double got, double want, const char* what) {
    EXPECT_LE(std::abs(got - want), 1e-9 * std::max(1.0, std::abs(want)))
        << what << ": got " << got << " want " << want;
}

TEST(CoherenceScore, MatchesDensePseudoInverseOnRandomGraphs) {
    std::mt19937_64 rng(0xC0E);
    for (int iter = 0; iter < 120; ++iter) {
        const auto n = static_cast<std::uint32_t>(2 + rng() % 39);
        const CompactGraph g = random_graph(rng, n, iter % 4 == 0 ? 0.05 : 0.3);
        const double unit = iter % 3 == 0 ? 1.0 : 0.25 + static_cast<double>(rng() % 100) / 10.0;
        const std::optional<CoherenceScore> s = coherence(g, {unit, 512, 128, 1});
        ASSERT_TRUE(s.has_value());
        const Reference ref = reference(g, unit);
        SCOPED_TRACE(::testing::Message() << "graph " << iter << " n=" << n << " components " << s->components);
        EXPECT_TRUE(s->exact);
        EXPECT_EQ(s->components, connected_components(g).count);
        if (s->components > 1) {
            EXPECT_EQ(s->value, 0.0);
            EXPECT_TRUE(std::isinf(s->mean_resistance));
        } else {
            expect_rel(s->mean_resistance, ref.mean, "mean resistance");
            expect_rel(s->value, 1.0 / (1.0 + ref.mean), "score");
        }
        for (std::uint32_t v = 0; v < n; ++v) {
            expect_rel(s->vertex_resistance[v], ref.vertex_resistance[v], "vertex resistance");
            expect_rel(s->vertex_score[v], ref.vertex_score[v], "vertex score");
        }
    }
}

TEST(CoherenceScore, Conventions) {
    CompactGraph one;
    one.ids = {5};
    const std::optional<CoherenceScore> s1 = coherence(one);
    ASSERT_TRUE(s1.has_value());
    EXPECT_EQ(s1->value, 1.0);
    EXPECT_EQ(s1->vertex_score, std::vector<double>{1.0});

    // Two vertices, weight 2 in unit 1: R = 0.5, score 2/3.
    CompactGraph pair;
    pair.ids = {1, 2};
    pair.edges = {{0, 1, 2.0}};
    const std::optional<CoherenceScore> s2 = coherence(pair);
    ASSERT_TRUE(s2.has_value());
    EXPECT_DOUBLE_EQ(s2->mean_resistance, 0.5);
    EXPECT_DOUBLE_EQ(s2->value, 1.0 / 1.5);

    // Disconnected: score 0; the isolated vertex scores 0, the pair 1/3 of
    // their connected score (1 reachable of 3 others).
    CompactGraph split;
    split.ids = {1, 2, 3, 4};
    split.edges = {{0, 1, 2.0}, {2, 3, 2.0}};
    CompactGraph with_isolated = split;
    with_isolated.ids.push_back(5);
    const std::optional<CoherenceScore> s3 = coherence(with_isolated);
    ASSERT_TRUE(s3.has_value());
    EXPECT_EQ(s3->value, 0.0);
    EXPECT_EQ(s3->components, 3U);
    EXPECT_DOUBLE_EQ(s3->vertex_score[0], (1.0 / 4.0) / 1.5);
    EXPECT_EQ(s3->vertex_score[4], 0.0);

    // Scaling the weights and the unit together changes nothing.
    const std::optional<CoherenceScore> scaled = coherence(CompactGraph{{1, 2}, {{0, 1, 2000.0}}}, {1000.0});
    ASSERT_TRUE(scaled.has_value());
    EXPECT_DOUBLE_EQ(scaled->value, s2->value);
}

TEST(CoherenceScore, TighterCouplingScoresHigher) {
    // A 6-clique against a 6-path with the same edge weight.
    CompactGraph clique;
    CompactGraph path;
    for (std::uint32_t i = 0; i < 6; ++i) {
        clique.ids.push_back(i);
        path.ids.push_back(i);
        if (i > 0) path.edges.push_back({i - 1, i, 1.0});
        for (std::uint32_t j = i + 1; j < 6; ++j) clique.edges.push_back({i, j, 1.0});
    }
    EXPECT_GT(coherence(clique)->value, coherence(path)->value);
    EXPECT_NEAR(coherence(clique)->mean_resistance, 2.0 / 6.0, 1e-12);  // R = 2/n in a unit clique
}

TEST(CoherenceScore, JlEstimateTracksTheExactScoreOnLargerGraphs) {
    std::mt19937_64 rng(0x11);
    const CompactGraph g = random_graph(rng, 200, 0.05);
    ASSERT_EQ(connected_components(g).count, 1U);
    const std::optional<CoherenceScore> exact = coherence(g);
    const std::optional<CoherenceScore> approx = coherence(g, {1.0, 50, 256, 7});
    ASSERT_TRUE(exact && approx);
    EXPECT_TRUE(exact->exact);
    EXPECT_FALSE(approx->exact);
    const double rel = std::abs(approx->mean_resistance / exact->mean_resistance - 1.0);
    std::printf("JL (k=256) mean resistance relative error %.4f\n", rel);
    EXPECT_LT(rel, 0.1);
}

TEST(CoherenceLaplacian, SolvesGroundedSystems) {
    std::mt19937_64 rng(0x22);
    const CompactGraph g = random_graph(rng, 30, 0.2);
    const std::optional<LaplacianSolver> solver = LaplacianSolver::create(g);
    ASSERT_TRUE(solver.has_value());
    // b = e_0 - e_1 in one component: L x = b holds.
    const Components& comps = solver->components();
    ASSERT_EQ(comps.component[0], comps.component[1]);
    Eigen::MatrixXd b = Eigen::MatrixXd::Zero(30, 1);
    b(0, 0) = 1.0;
    b(1, 0) = -1.0;
    const Eigen::MatrixXd x = solver->solve(b);
    Eigen::MatrixXd l = Eigen::MatrixXd::Zero(30, 30);
    for (const WeightedEdge& e : g.edges) {
        l(e.u, e.u) += e.weight;
        l(e.v, e.v) += e.weight;
        l(e.u, e.v) -= e.weight;
        l(e.v, e.u) -= e.weight;
    }
    EXPECT_LT((l * x - b).norm(), 1e-10);
    EXPECT_FALSE(LaplacianSolver::create(g, 0.0).has_value());
}

}  // namespace
}  // namespace rvm::coherence
