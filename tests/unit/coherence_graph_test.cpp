// The coherence graph: per-epoch decay, dropping light edges, deterministic
// order, and the compact views the algorithms take.
#include <gtest/gtest.h>

#include <algorithm>
#include <limits>
#include <utility>
#include <vector>

#include "coherence/graph.hpp"

namespace rvm::coherence {
namespace {

TEST(CoherenceGraph, DecaysAndFoldsObservationsPerEpoch) {
    Graph g;  // decay 0.95
    ASSERT_TRUE(g.add_vertex(1, 100));
    ASSERT_TRUE(g.add_vertex(2, 100));
    EXPECT_FALSE(g.add_vertex(1, 200));
    EXPECT_TRUE(g.observe(1, 2, 6.0));
    EXPECT_TRUE(g.observe(2, 1, 4.0));
    EXPECT_EQ(g.weight(1, 2), 0.0);  // pending until the epoch ends
    g.end_epoch();
    EXPECT_DOUBLE_EQ(g.weight(1, 2), 10.0);
    EXPECT_DOUBLE_EQ(g.weight(2, 1), 10.0);
    g.end_epoch();
    EXPECT_DOUBLE_EQ(g.weight(1, 2), 9.5);
    EXPECT_TRUE(g.observe(1, 2, 1.0));
    g.end_epoch();
    EXPECT_DOUBLE_EQ(g.weight(1, 2), 0.95 * 9.5 + 1.0);
    EXPECT_EQ(g.epoch(), 3U);
}

TEST(CoherenceGraph, DropsEdgesThatDecayBelowEpsilon) {
    Graph g(GraphConfig{0.5, 0.3});
    for (VertexId v : {VertexId{1}, VertexId{2}, VertexId{3}}) ASSERT_TRUE(g.add_vertex(v, 0));
    ASSERT_TRUE(g.observe(1, 2, 1.0));
    ASSERT_TRUE(g.observe(2, 3, 4.0));
    g.end_epoch();
    EXPECT_EQ(g.edge_count(), 2U);
    g.end_epoch();  // 0.5 and 2
    EXPECT_EQ(g.edge_count(), 2U);
    g.end_epoch();  // 0.25 (dropped) and 1
    EXPECT_EQ(g.edge_count(), 1U);
    EXPECT_EQ(g.weight(1, 2), 0.0);
    EXPECT_DOUBLE_EQ(g.weight(2, 3), 1.0);
}

TEST(CoherenceGraph, RejectsSelfLoopsUnknownVerticesAndBadAmounts) {
    Graph g;
    ASSERT_TRUE(g.add_vertex(1, 0));
    ASSERT_TRUE(g.add_vertex(2, 0));
    EXPECT_FALSE(g.observe(1, 1, 1.0));
    EXPECT_FALSE(g.observe(1, 3, 1.0));
    EXPECT_FALSE(g.observe(1, 2, 0.0));
    EXPECT_FALSE(g.observe(1, 2, -1.0));
    EXPECT_FALSE(g.observe(1, 2, std::numeric_limits<double>::infinity()));
    g.end_epoch();
    EXPECT_EQ(g.edge_count(), 0U);
}

TEST(CoherenceGraph, IterationOrderIsDeterministicAndIndependentOfInsertion) {
    const auto build = [](bool reversed) {
        Graph g;
        std::vector<VertexId> ids{42, 7, 1000, 3, 99};
        if (reversed) std::reverse(ids.begin(), ids.end());
        for (VertexId v : ids) (void)g.add_vertex(v, v % 2);
        std::vector<std::pair<VertexId, VertexId>> pairs{{42, 7}, {3, 1000}, {99, 7}, {3, 42}};
        if (reversed) std::reverse(pairs.begin(), pairs.end());
        for (const auto& [a, b] : pairs) (void)g.observe(a, b, static_cast<double>(a + b));
        g.end_epoch();
        return g.compact();
    };
    const CompactGraph a = build(false);
    const CompactGraph b = build(true);
    EXPECT_EQ(a.ids, (std::vector<VertexId>{3, 7, 42, 99, 1000}));
    EXPECT_EQ(a.ids, b.ids);
    ASSERT_EQ(a.edges.size(), b.edges.size());
    for (std::size_t i = 0; i < a.edges.size(); ++i) {
        EXPECT_EQ(a.edges[i].u, b.edges[i].u);
        EXPECT_EQ(a.edges[i].v, b.edges[i].v);
        EXPECT_EQ(a.edges[i].weight, b.edges[i].weight);
        EXPECT_LT(a.edges[i].u, a.edges[i].v);
        if (i > 0) {
            EXPECT_LT(std::pair(a.edges[i - 1].u, a.edges[i - 1].v), std::pair(a.edges[i].u, a.edges[i].v));
        }
    }
}

TEST(CoherenceGraph, GroupViewAndVertexRemoval) {
    Graph g;
    for (VertexId v = 1; v <= 4; ++v) ASSERT_TRUE(g.add_vertex(v, v <= 2 ? 10 : 20));
    ASSERT_TRUE(g.observe(1, 2, 1.0));
    ASSERT_TRUE(g.observe(2, 3, 2.0));
    ASSERT_TRUE(g.observe(3, 4, 3.0));
    g.end_epoch();
    const CompactGraph p10 = g.compact_group(10);
    EXPECT_EQ(p10.ids, (std::vector<VertexId>{1, 2}));
    ASSERT_EQ(p10.edges.size(), 1U);
    EXPECT_DOUBLE_EQ(p10.edges[0].weight, 1.0);

    ASSERT_TRUE(g.set_group(2, 20));
    EXPECT_EQ(g.group_of(2), 20U);
    EXPECT_EQ(g.compact_group(20).edges.size(), 2U);

    ASSERT_TRUE(g.remove_vertex(1));
    EXPECT_FALSE(g.remove_vertex(1));
    EXPECT_EQ(g.vertex_count(), 3U);
    EXPECT_EQ(g.edge_count(), 2U);
    EXPECT_DOUBLE_EQ(g.weight(3, 4), 3.0);
    EXPECT_DOUBLE_EQ(g.weight(2, 3), 2.0);
    EXPECT_TRUE(g.observe(4, 2, 1.0));
    g.end_epoch();
    EXPECT_DOUBLE_EQ(g.weight(2, 4), 1.0);
}

}  // namespace
}  // namespace rvm::coherence
