// Structural proposals on crafted graphs: split after K epochs (not before),
// merge, migrate, and no oscillation on a stable workload.
#include <gtest/gtest.h>

#include <cstdint>
#include <map>
#include <random>
#include <set>
#include <variant>
#include <vector>

#include "coherence/proposals.hpp"

namespace rvm::coherence {
namespace {

ProposalConfig test_config() {
    ProposalConfig c;
    c.min_cut.budget = ComputeBudget::unlimited();  // deterministic
    return c;
}

void clique(Graph& g, VertexId first, VertexId last, double w) {
    for (VertexId a = first; a <= last; ++a) {
        for (VertexId b = a + 1; b <= last; ++b) ASSERT_TRUE(g.observe(a, b, w));
    }
}

TEST(ProposalSplit, TwoCliquesJoinedByAThinEdgeSplitAfterKEpochs) {
    Graph g;
    for (VertexId v = 1; v <= 16; ++v) ASSERT_TRUE(g.add_vertex(v, 1));
    ProposalConfig config = test_config();
    config.hold_epochs = 4;
    ProposalEngine engine(config);
    for (std::uint32_t epoch = 1; epoch <= 4; ++epoch) {
        clique(g, 1, 8, 1.0);
        clique(g, 9, 16, 1.0);
        ASSERT_TRUE(g.observe(8, 9, 0.05));
        g.end_epoch();
        const std::vector<Proposal> out = engine.step(g);
        ASSERT_EQ(engine.candidates().size(), 1U) << "epoch " << epoch;
        ASSERT_TRUE(std::holds_alternative<SplitProposal>(engine.candidates()[0]));
        if (epoch < 4) {
            EXPECT_TRUE(out.empty()) << "proposed before holding K epochs, at epoch " << epoch;
            continue;
        }
        ASSERT_EQ(out.size(), 1U);
        const auto& s = std::get<SplitProposal>(out[0]);
        EXPECT_EQ(s.partition, 1U);
        ASSERT_EQ(s.parts.size(), 2U);
        EXPECT_EQ(s.parts[0], (std::vector<VertexId>{1, 2, 3, 4, 5, 6, 7, 8}));
        EXPECT_EQ(s.parts[1], (std::vector<VertexId>{9, 10, 11, 12, 13, 14, 15, 16}));
        EXPECT_NEAR(s.cut_value, 0.05 * (1 + 0.95 + 0.95 * 0.95 + 0.95 * 0.95 * 0.95), 1e-12);
        EXPECT_LT(s.coherence, config.split_coherence);
        EXPECT_TRUE(s.cut_complete);
    }
    // Cooldown: the partition is not proposed again while it cools.
    clique(g, 1, 8, 1.0);
    g.end_epoch();
    EXPECT_TRUE(engine.step(g).empty());
    EXPECT_TRUE(engine.candidates().empty());
}

TEST(ProposalSplit, AnInterruptedCandidateStartsAgain) {
    Graph g;
    for (VertexId v = 1; v <= 8; ++v) ASSERT_TRUE(g.add_vertex(v, 1));
    ProposalEngine engine(test_config());  // K = 3
    const auto epoch = [&](bool thin) {
        clique(g, 1, 4, 1.0);
        clique(g, 5, 8, 1.0);
        ASSERT_TRUE(g.observe(4, 5, thin ? 0.01 : 20.0));
        g.end_epoch();
    };
    epoch(true);
    EXPECT_TRUE(engine.step(g).empty());
    epoch(true);
    EXPECT_TRUE(engine.step(g).empty());
    epoch(false);  // a heavy epoch: no longer a thin cut
    EXPECT_TRUE(engine.step(g).empty());
    EXPECT_TRUE(engine.candidates().empty());
}

TEST(ProposalMerge, HeavilyConnectedPartitionsMerge) {
    Graph g;
    for (VertexId v = 1; v <= 12; ++v) ASSERT_TRUE(g.add_vertex(v, v <= 4 ? 1 : (v <= 8 ? 2 : 3)));
    ProposalEngine engine(test_config());
    std::vector<Proposal> out;
    for (int epoch = 1; epoch <= 3; ++epoch) {
        clique(g, 1, 8, 1.0);  // partitions 1 and 2 form one 8-clique
        clique(g, 9, 12, 1.0);
        ASSERT_TRUE(g.observe(8, 9, 0.05));  // partition 3 hangs on by a thread
        g.end_epoch();
        out = engine.step(g);
        if (epoch < 3) {
            EXPECT_TRUE(out.empty());
        }
    }
    ASSERT_EQ(out.size(), 1U);
    const auto* m = std::get_if<MergeProposal>(&out[0]);
    ASSERT_NE(m, nullptr);
    EXPECT_EQ(m->a, 1U);
    EXPECT_EQ(m->b, 2U);
    EXPECT_GE(m->merged_coherence, test_config().merge_coherence);
}

TEST(ProposalMigrate, AnAgentTalkingMostlyToAnotherPartitionMigrates) {
    Graph g;
    for (VertexId v = 1; v <= 9; ++v) ASSERT_TRUE(g.add_vertex(v, v <= 4 || v == 9 ? 1 : 2));
    ProposalEngine engine(test_config());
    std::vector<Proposal> out;
    for (int epoch = 1; epoch <= 3; ++epoch) {
        clique(g, 1, 4, 1.0);
        clique(g, 5, 8, 1.0);
        ASSERT_TRUE(g.observe(9, 1, 0.5));
        for (VertexId b : {VertexId{5}, VertexId{6}, VertexId{7}}) ASSERT_TRUE(g.observe(9, b, 1.0));
        g.end_epoch();
        out = engine.step(g);
        if (epoch < 3) {
            EXPECT_TRUE(out.empty());
        }
    }
    ASSERT_EQ(out.size(), 1U);
    const auto* m = std::get_if<MigrateProposal>(&out[0]);
    ASSERT_NE(m, nullptr);
    EXPECT_EQ(m->vertex, 9U);
    EXPECT_EQ(m->from, 1U);
    EXPECT_EQ(m->to, 2U);
    EXPECT_NEAR(m->share, 3.0 / 3.5, 1e-12);
}

// Three clusters of six, wrongly partitioned (two clusters share partition 1,
// the third is cut in half across partitions 2 and 3), with jittered traffic
// and light background noise. The engine fixes the partitions once and then
// stays quiet: no partition is reshaped twice.
TEST(ProposalStability, StableWorkloadDoesNotOscillate) {
    Graph g;
    std::map<VertexId, int> cluster;
    for (VertexId v = 1; v <= 18; ++v) {
        cluster[v] = static_cast<int>((v - 1) / 6);
        ASSERT_TRUE(g.add_vertex(v, v <= 12 ? 1 : (v <= 15 ? 2 : 3)));
    }
    ProposalEngine engine(test_config());
    std::mt19937_64 rng(77);
    std::uniform_real_distribution<double> jitter(0.8, 1.2);
    std::map<GroupId, int> reshaped;
    std::map<VertexId, int> migrated;
    GroupId next_group = 100;
    int last_change = 0;
    for (int epoch = 1; epoch <= 200; ++epoch) {
        for (VertexId a = 1; a <= 18; ++a) {
            for (VertexId b = a + 1; b <= 18; ++b) {
                const double w = cluster[a] == cluster[b] ? jitter(rng) : (rng() % 20 == 0 ? 0.02 : 0.0);
                if (w > 0.0) {
                    ASSERT_TRUE(g.observe(a, b, w));
                }
            }
        }
        g.end_epoch();
        for (const Proposal& p : engine.step(g)) {
            last_change = epoch;
            if (const auto* s = std::get_if<SplitProposal>(&p)) {
                ++reshaped[s->partition];
                for (std::size_t i = 1; i < s->parts.size(); ++i) {
                    const GroupId fresh = next_group++;
                    ++reshaped[fresh];
                    for (VertexId v : s->parts[i]) ASSERT_TRUE(g.set_group(v, fresh));
                }
            } else if (const auto* m = std::get_if<MergeProposal>(&p)) {
                ++reshaped[m->a];
                ++reshaped[m->b];
                for (const Graph::Vertex& v : g.vertices()) {
                    if (v.group == m->b) {
                        ASSERT_TRUE(g.set_group(v.id, m->a));
                    }
                }
            } else if (const auto* mg = std::get_if<MigrateProposal>(&p)) {
                ++migrated[mg->vertex];
                ASSERT_TRUE(g.set_group(mg->vertex, mg->to));
            }
        }
    }
    for (const auto& [p, n] : reshaped) EXPECT_LE(n, 1) << "partition " << p << " reshaped " << n << " times";
    for (const auto& [v, n] : migrated) EXPECT_LE(n, 1) << "vertex " << v << " migrated " << n << " times";
    EXPECT_LT(last_change, 50) << "still reshaping late";
    // The end state: one partition per cluster.
    std::map<int, std::set<GroupId>> groups_of_cluster;
    std::map<GroupId, std::set<int>> clusters_of_group;
    for (const Graph::Vertex& v : g.vertices()) {
        groups_of_cluster[cluster[v.id]].insert(v.group);
        clusters_of_group[v.group].insert(cluster[v.id]);
    }
    for (const auto& [c, gs] : groups_of_cluster) EXPECT_EQ(gs.size(), 1U) << "cluster " << c;
    for (const auto& [grp, cs] : clusters_of_group) EXPECT_EQ(cs.size(), 1U) << "partition " << grp;
}

}  // namespace
}  // namespace rvm::coherence
