#include "coherence/compact_graph.hpp"

#include <algorithm>
#include <limits>
#include <numeric>

namespace rvm::coherence {

double CompactGraph::total_weight() const {
    double sum = 0.0;
    for (const WeightedEdge& e : edges) sum += e.weight;
    return sum;
}

CompactGraph CompactGraph::induced(std::span<const std::uint32_t> vertices) const {
    constexpr std::uint32_t kAbsent = std::numeric_limits<std::uint32_t>::max();
    std::vector<std::uint32_t> local(ids.size(), kAbsent);
    CompactGraph out;
    out.ids.reserve(vertices.size());
    for (std::uint32_t v : vertices) {
        local[v] = static_cast<std::uint32_t>(out.ids.size());
        out.ids.push_back(ids[v]);
    }
    for (const WeightedEdge& e : edges) {
        if (local[e.u] != kAbsent && local[e.v] != kAbsent) out.edges.push_back({local[e.u], local[e.v], e.weight});
    }
    return out;
}

namespace {

std::uint32_t find_root(std::vector<std::uint32_t>& parent, std::uint32_t x) {
    while (parent[x] != x) {
        parent[x] = parent[parent[x]];
        x = parent[x];
    }
    return x;
}

}  // namespace

Components connected_components(const CompactGraph& g) {
    const std::size_t n = g.vertex_count();
    std::vector<std::uint32_t> parent(n);
    std::iota(parent.begin(), parent.end(), 0U);
    for (const WeightedEdge& e : g.edges) {
        const std::uint32_t a = find_root(parent, e.u);
        const std::uint32_t b = find_root(parent, e.v);
        if (a != b) parent[std::max(a, b)] = std::min(a, b);
    }
    Components out;
    out.component.assign(n, 0);
    std::vector<std::uint32_t> label(n, std::numeric_limits<std::uint32_t>::max());
    for (std::size_t i = 0; i < n; ++i) {
        const std::uint32_t r = find_root(parent, static_cast<std::uint32_t>(i));
        if (label[r] == std::numeric_limits<std::uint32_t>::max()) label[r] = out.count++;
        out.component[i] = label[r];
    }
    return out;
}

}  // namespace rvm::coherence
