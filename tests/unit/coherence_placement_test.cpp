// The placement simulation: for a fixed seed, coherence-driven placement sends
// less traffic across cache domains than round-robin, within capacity.
#include <gtest/gtest.h>

#include <cstdio>

#include "coherence/placement_sim.hpp"

namespace rvm::coherence {
namespace {

TEST(PlacementSim, CoherencePlacementCrossesDomainsLessThanRoundRobin) {
    SimConfig c;
    c.seed = 1;
    c.agents = 240;
    c.cores = 16;
    c.domains = 4;
    c.epochs = 60;
    c.cluster_size = 12;
    c.warmup_epochs = 20;
    const SimResult r = run_placement_sim(c);
    const double ratio = r.steady.coherence / r.steady.round_robin;
    std::printf(
        "seed %llu: steady cross-domain traffic coherence/round-robin = %.3f (reduction %.1f%%); "
        "%llu splits, %llu merges, %llu migrations\n",
        static_cast<unsigned long long>(c.seed), ratio, 100.0 * r.steady.reduction(),
        static_cast<unsigned long long>(r.splits), static_cast<unsigned long long>(r.merges),
        static_cast<unsigned long long>(r.migrations));
    RecordProperty("seed", static_cast<int>(c.seed));
    RecordProperty("reduction_percent", static_cast<int>(100.0 * r.steady.reduction()));
    EXPECT_LT(r.steady.coherence, r.steady.round_robin);
    EXPECT_LT(r.all.coherence, r.all.round_robin);
    EXPECT_TRUE(r.capacity_respected);
    EXPECT_LE(r.max_domain_load, r.domain_capacity);
    EXPECT_GT(r.steady.traffic, 0.0);
}

}  // namespace
}  // namespace rvm::coherence
