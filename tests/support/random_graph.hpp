// A random graph for the coherence tests: vertices first_id, first_id + 1,
// ...; each pair gets an edge with probability p, weighted by weight(rng).
#pragma once

#include <cstdint>
#include <random>

#include "coherence/compact_graph.hpp"

namespace rvm::test {

template <typename Weight>
coherence::CompactGraph random_graph(std::mt19937_64& rng, std::uint32_t n, double p, std::uint64_t first_id,
                                     Weight weight) {
    coherence::CompactGraph g;
    std::uniform_real_distribution<double> unit(0.0, 1.0);
    for (std::uint32_t i = 0; i < n; ++i) g.ids.push_back(first_id + i);
    for (std::uint32_t u = 0; u < n; ++u) {
        for (std::uint32_t v = u + 1; v < n; ++v) {
            if (unit(rng) < p) g.edges.push_back({u, v, weight(rng)});
        }
    }
    return g;
}

// A uniform weight in [lo, lo + span).
[[nodiscard]] inline auto uniform_weight(double lo, double span) {
    return
        [lo, span](std::mt19937_64& rng) { return lo + span * std::uniform_real_distribution<double>(0.0, 1.0)(rng); };
}

}  // namespace rvm::test
