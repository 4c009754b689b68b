// The host's coherence observer (no KVM): per-epoch edge traffic into the
// coherence engine, proposals applied
// by the caller move partitions between cells (groups) and the engine settles.
#include <gtest/gtest.h>

#include <map>
#include <string>
#include <variant>
#include <vector>

#include "host/runtime/coherence_observer.hpp"

namespace rvm::host {
namespace {

TEST(CoherenceObserver, AChainGathersAroundItsHubWhenProposalsAreApplied) {
    CoherenceObserver obs;
    const PartitionId a = PartitionId::from_raw(1), hub = PartitionId::from_raw(2), c = PartitionId::from_raw(3);
    std::map<std::uint64_t, std::uint8_t> cell{{a.raw(), 0}, {hub.raw(), 1}, {c.raw(), 2}};
    obs.add_partition(a, "a", 0);
    obs.add_partition(hub, "hub", 1);
    obs.add_partition(c, "c", 2);
    std::vector<std::string> applied;
    for (int e = 0; e < 120; ++e) {
        for (const auto& o : obs.epoch({{a, hub, 1'000'000}, {hub, c, 1'000'000}})) {
            applied.push_back(o.text);
            EXPECT_TRUE(obs.record(o.text));
            EXPECT_FALSE(obs.record(o.text)) << "recorded twice";
            // Apply it the way the runner does, then tell the observer.
            if (const auto* m = std::get_if<coherence::MigrateProposal>(&o.proposal)) {
                cell[m->vertex] = static_cast<std::uint8_t>(m->to);
                obs.set_cell(PartitionId::from_raw(m->vertex), static_cast<std::uint8_t>(m->to));
            } else if (const auto* g = std::get_if<coherence::MergeProposal>(&o.proposal)) {
                for (auto& [v, k] : cell) {
                    if (k == g->b) {
                        k = static_cast<std::uint8_t>(g->a);
                        obs.set_cell(PartitionId::from_raw(v), k);
                    }
                }
            } else {
                ADD_FAILURE() << "a chain of heavy edges is not split: " << o.text;
            }
        }
    }
    ASSERT_FALSE(applied.empty()) << "a chain of heavy edges must produce a proposal";
    EXPECT_EQ(obs.proposals().size(), applied.size());
    EXPECT_EQ(cell[a.raw()], cell[hub.raw()]);
    EXPECT_EQ(cell[c.raw()], cell[hub.raw()]);
    EXPECT_LE(applied.size(), 3u) << "gathering three partitions takes at most three steps, then it is stable";
}

TEST(CoherenceObserver, NoTrafficNoProposals) {
    CoherenceObserver obs;
    obs.add_partition(PartitionId::from_raw(1), "a", 0);
    obs.add_partition(PartitionId::from_raw(2), "b", 1);
    for (int e = 0; e < 30; ++e) EXPECT_TRUE(obs.epoch({}).empty());
}

}  // namespace
}  // namespace rvm::host
