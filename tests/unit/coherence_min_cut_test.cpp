// Stoer–Wagner against brute force on thousands of random graphs (both
// adjacency representations), disconnected graphs, and the compute budget.
// Seed: RVM_SEED or the fixed default; printed, and recorded as a property.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <limits>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "coherence/min_cut.hpp"
#include "support/random_graph.hpp"
#include "support/seed.hpp"

namespace rvm::coherence {
namespace {

std::uint64_t test_seed() { return test::seed_from_env(0xC07E5EEDULL); }

CompactGraph random_graph(std::mt19937_64& rng, std::uint32_t n, double p, bool integer_weights) {
    const auto real = test::uniform_weight(0.01, 1.0);
    return test::random_graph(rng, n, p, 1000, [&](std::mt19937_64& r) {
        return integer_weights ? static_cast<double>(1 + r() % 5) : real(r);
    });
}

double brute_force(const CompactGraph& g) {
    const std::uint32_t n = static_cast<std::uint32_t>(g.vertex_count());
    double best = std::numeric_limits<double>::infinity();
    // Vertex n-1 is always outside the mask: every bipartition once.
    for (std::uint32_t mask = 1; mask < (1U << (n - 1)); ++mask) {
        double cut = 0.0;
        for (const WeightedEdge& e : g.edges) {
            if (((mask >> e.u) & 1U) != ((mask >> e.v) & 1U)) cut += e.weight;
        }
        best = std::min(best, cut);
    }
    return best;
}

// The sides partition the vertices, the cut edges are exactly the crossing
// edges, and the value is their weight.
void expect_consistent(const CompactGraph& g, const MinCut& cut) {
    const std::size_t n = g.vertex_count();
    ASSERT_FALSE(cut.side_a.empty());
    ASSERT_FALSE(cut.side_b.empty());
    ASSERT_EQ(cut.side_a.size() + cut.side_b.size(), n);
    std::vector<int> side(n, -1);
    for (std::uint32_t v : cut.side_a) side[v] = 0;
    for (std::uint32_t v : cut.side_b) {
        ASSERT_EQ(side[v], -1) << "vertex on both sides";
        side[v] = 1;
    }
    EXPECT_TRUE(std::is_sorted(cut.side_a.begin(), cut.side_a.end()));
    EXPECT_TRUE(std::is_sorted(cut.side_b.begin(), cut.side_b.end()));
    double value = 0.0;
    std::vector<std::uint32_t> crossing;
    for (std::uint32_t i = 0; i < g.edges.size(); ++i) {
        if (side[g.edges[i].u] != side[g.edges[i].v]) {
            crossing.push_back(i);
            value += g.edges[i].weight;
        }
    }
    EXPECT_EQ(cut.cut_edges, crossing);
    EXPECT_NEAR(cut.value, value, 1e-12 * (1.0 + value));
}

TEST(MinCutTest, EqualsBruteForceOnRandomGraphsUpTo10Vertices) {
    const std::uint64_t seed = test_seed();
    RecordProperty("seed", std::to_string(seed));
    std::printf("MinCut brute-force seed %llu (rerun with RVM_SEED=%llu)\n", static_cast<unsigned long long>(seed),
                static_cast<unsigned long long>(seed));
    SCOPED_TRACE(::testing::Message() << "seed " << seed << " (rerun with RVM_SEED=" << seed << ")");
    std::mt19937_64 rng(seed);
    int disconnected = 0;
    constexpr int kGraphs = 3000;
    for (int iter = 0; iter < kGraphs; ++iter) {
        const auto n = static_cast<std::uint32_t>(2 + rng() % 9);
        const double p = 0.1 + 0.9 * std::uniform_real_distribution<double>(0.0, 1.0)(rng);
        const CompactGraph g = random_graph(rng, n, p, iter % 2 == 0);
        const double expected = brute_force(g);
        if (expected == 0.0) ++disconnected;
        for (MinCutMethod method : {MinCutMethod::Dense, MinCutMethod::Heap, MinCutMethod::Auto}) {
            const std::optional<MinCut> cut = min_cut(g, {ComputeBudget::unlimited(), method});
            ASSERT_TRUE(cut.has_value()) << "graph " << iter;
            ASSERT_NEAR(cut->value, expected, 1e-9 * (1.0 + expected))
                << "graph " << iter << " n=" << n << " method " << static_cast<int>(method);
            EXPECT_TRUE(cut->complete);
            expect_consistent(g, *cut);
        }
    }
    RecordProperty("disconnected", disconnected);
    EXPECT_GT(disconnected, 50) << "the sample should include disconnected graphs";
}

TEST(MinCutTest, DisconnectedGraphHasZeroCutAlongAComponent) {
    CompactGraph g;
    g.ids = {1, 2, 3, 4, 5};
    g.edges = {{0, 1, 3.0}, {1, 2, 1.0}, {3, 4, 7.0}};
    const std::optional<MinCut> cut = min_cut(g);
    ASSERT_TRUE(cut.has_value());
    EXPECT_EQ(cut->value, 0.0);
    EXPECT_TRUE(cut->complete);
    EXPECT_TRUE(cut->cut_edges.empty());
    EXPECT_EQ(cut->side_a, (std::vector<std::uint32_t>{0, 1, 2}));
    EXPECT_EQ(cut->side_b, (std::vector<std::uint32_t>{3, 4}));

    CompactGraph isolated;
    isolated.ids = {1, 2};
    const std::optional<MinCut> c2 = min_cut(isolated);
    ASSERT_TRUE(c2.has_value());
    EXPECT_EQ(c2->value, 0.0);
}

TEST(MinCutTest, NoCutBelowTwoVertices) {
    CompactGraph g;
    EXPECT_FALSE(min_cut(g).has_value());
    g.ids = {7};
    EXPECT_FALSE(min_cut(g).has_value());
}

TEST(MinCutTest, DenseAndHeapAgreeOnLargerGraphs) {
    std::mt19937_64 rng(test_seed() ^ 0x1234);
    for (std::uint32_t n : {60U, 150U, 300U}) {
        const CompactGraph g = random_graph(rng, n, 8.0 / n, false);
        const std::optional<MinCut> d = min_cut(g, {ComputeBudget::unlimited(), MinCutMethod::Dense});
        const std::optional<MinCut> h = min_cut(g, {ComputeBudget::unlimited(), MinCutMethod::Heap});
        ASSERT_TRUE(d && h);
        EXPECT_NEAR(d->value, h->value, 1e-9 * (1.0 + d->value)) << "n=" << n;
        expect_consistent(g, *d);
        expect_consistent(g, *h);
    }
}

// A clock that advances `step` on every read.
struct SteppingClock {
    std::chrono::nanoseconds step;
    std::shared_ptr<std::int64_t> reads = std::make_shared<std::int64_t>(0);
    std::chrono::nanoseconds operator()() const { return step * ++*reads; }
};

TEST(MinCutBudget, ExhaustedBudgetStillReturnsAValidCut) {
    std::mt19937_64 rng(test_seed() ^ 0xB0D6E7);
    for (MinCutMethod method : {MinCutMethod::Dense, MinCutMethod::Heap}) {
        const CompactGraph g = random_graph(rng, 40, 0.3, false);
        ASSERT_EQ(connected_components(g).count, 1U);
        MinCutOptions o{{std::chrono::microseconds{50}, SteppingClock{std::chrono::milliseconds{1}}}, method};
        const std::optional<MinCut> cut = min_cut(g, o);
        ASSERT_TRUE(cut.has_value());
        EXPECT_FALSE(cut->complete);
        EXPECT_EQ(cut->phases, 0U);
        expect_consistent(g, *cut);
        // Before any phase the best cut is the lightest vertex.
        EXPECT_EQ(std::min(cut->side_a.size(), cut->side_b.size()), 1U);
        const std::optional<MinCut> exact = min_cut(g, {ComputeBudget::unlimited(), method});
        ASSERT_TRUE(exact.has_value());
        EXPECT_GE(cut->value, exact->value - 1e-12);
    }
}

TEST(MinCutBudget, StopsAfterThePhasesTheBudgetAllows) {
    std::mt19937_64 rng(test_seed() ^ 0xFA5E);
    const CompactGraph g = random_graph(rng, 30, 0.4, true);
    ASSERT_EQ(connected_components(g).count, 1U);
    // Start reads 10 µs; checks read 20, 30, 40, 50: elapsed 10, 20, 30 pass, 40 >= 35 stops.
    MinCutOptions o{{std::chrono::microseconds{35}, SteppingClock{std::chrono::microseconds{10}}}, MinCutMethod::Auto};
    const std::optional<MinCut> cut = min_cut(g, o);
    ASSERT_TRUE(cut.has_value());
    EXPECT_FALSE(cut->complete);
    EXPECT_EQ(cut->phases, 3U);
    expect_consistent(g, *cut);
}

}  // namespace
}  // namespace rvm::coherence
