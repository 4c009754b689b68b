// Spectral sparsifier: on random dense-ish graphs the audit's achieved epsilon
// (extreme generalized eigenvalues) is within the target, with far fewer edges.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstdio>
#include <optional>
#include <random>

#include "coherence/sparsifier.hpp"
#include "support/random_graph.hpp"

namespace rvm::coherence {
namespace {

CompactGraph random_graph(std::mt19937_64& rng, std::uint32_t n, double p) {
    return test::random_graph(rng, n, p, 0, test::uniform_weight(0.5, 1.0));
}

TEST(SparsifierTest, AuditWithinEpsilonOnDenseRandomGraphs) {
    for (std::uint64_t seed : {1ULL, 2ULL}) {
        std::mt19937_64 rng(seed);
        const CompactGraph g = random_graph(rng, 200, 0.8);
        SparsifierOptions o;
        o.epsilon = 0.5;
        o.seed = seed;
        const std::optional<Sparsified> h = sparsify(g, o);
        ASSERT_TRUE(h.has_value());
        EXPECT_TRUE(h->exact_resistances);
        EXPECT_EQ(h->graph.ids, g.ids);
        EXPECT_LT(h->graph.edges.size(), g.edges.size() / 2);
        const SparsifierAudit a = audit_sparsifier(g, h->graph);
        std::printf("seed %llu: %zu -> %zu edges (%zu samples), eps achieved %.3f (lambda %.3f..%.3f), vectors %.3f\n",
                    static_cast<unsigned long long>(seed), g.edges.size(), h->graph.edges.size(), h->samples,
                    a.epsilon_achieved, a.lambda_min, a.lambda_max, a.max_vector_error);
        EXPECT_TRUE(a.spectral);
        EXPECT_LE(a.epsilon_achieved, o.epsilon);
        EXPECT_LE(a.max_vector_error, a.epsilon_achieved);
    }
}

TEST(SparsifierTest, JlResistancesAlsoWork) {
    std::mt19937_64 rng(9);
    const CompactGraph g = random_graph(rng, 200, 0.8);
    SparsifierOptions o;
    o.epsilon = 0.5;
    o.exact_max_vertices = 100;  // force the JL estimate
    const std::optional<Sparsified> h = sparsify(g, o);
    ASSERT_TRUE(h.has_value());
    EXPECT_FALSE(h->exact_resistances);
    const SparsifierAudit a = audit_sparsifier(g, h->graph);
    std::printf("JL resistances: eps achieved %.3f\n", a.epsilon_achieved);
    EXPECT_LE(a.epsilon_achieved, o.epsilon);
}

TEST(SparsifierTest, AuditOfTheGraphItselfIsExact) {
    std::mt19937_64 rng(4);
    const CompactGraph g = random_graph(rng, 60, 0.3);
    const SparsifierAudit a = audit_sparsifier(g, g);
    EXPECT_NEAR(a.lambda_min, 1.0, 1e-9);
    EXPECT_NEAR(a.lambda_max, 1.0, 1e-9);
    EXPECT_NEAR(a.epsilon_achieved, 0.0, 1e-9);
}

TEST(SparsifierTest, SmallGraphsAreKeptWhole) {
    std::mt19937_64 rng(5);
    const CompactGraph g = random_graph(rng, 20, 0.3);  // fewer edges than n ln n / eps^2 draws
    const std::optional<Sparsified> h = sparsify(g);
    ASSERT_TRUE(h.has_value());
    EXPECT_EQ(h->samples, 0U);
    EXPECT_EQ(h->graph.edges.size(), g.edges.size());
}

}  // namespace
}  // namespace rvm::coherence
