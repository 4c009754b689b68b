// The host's coherence observer (no KVM): per-epoch edge traffic into the
// coherence engine, proposals reported once each, in words.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "host/coherence_observer.hpp"

namespace rvm::host {
namespace {

TEST(CoherenceObserver, AChainProposesToGatherAroundItsHubOnce) {
    CoherenceObserver obs;
    const PartitionId a = PartitionId::from_raw(1), hub = PartitionId::from_raw(2), c = PartitionId::from_raw(3);
    obs.add_partition(a, "a");
    obs.add_partition(hub, "hub");
    obs.add_partition(c, "c");
    std::vector<std::string> all;
    for (int e = 0; e < 60; ++e) {
        const auto out = obs.epoch({{a, hub, 1'000'000}, {hub, c, 1'000'000}});
        all.insert(all.end(), out.begin(), out.end());
    }
    ASSERT_FALSE(all.empty()) << "a chain of heavy edges must produce a proposal";
    EXPECT_EQ(all, obs.proposals());
    for (const std::string& p : all) EXPECT_NE(p.find("hub"), std::string::npos) << p;
    // Each distinct proposal once, although the engine repeats it after every cooldown.
    for (std::size_t i = 0; i < all.size(); ++i) {
        for (std::size_t j = i + 1; j < all.size(); ++j) {
            EXPECT_NE(all[i].substr(all[i].find(':')), all[j].substr(all[j].find(':'))) << all[i];
        }
    }
}

TEST(CoherenceObserver, NoTrafficNoProposals) {
    CoherenceObserver obs;
    obs.add_partition(PartitionId::from_raw(1), "a");
    obs.add_partition(PartitionId::from_raw(2), "b");
    for (int e = 0; e < 30; ++e) EXPECT_TRUE(obs.epoch({}).empty());
}

}  // namespace
}  // namespace rvm::host
