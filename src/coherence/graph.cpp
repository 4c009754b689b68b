#include "coherence/graph.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

namespace rvm::coherence {

bool Graph::add_vertex(VertexId id, GroupId group) {
    if (slot_.contains(id)) return false;
    slot_.emplace(id, static_cast<std::uint32_t>(vertices_.size()));
    vertices_.push_back({id, group});
    return true;
}

bool Graph::remove_vertex(VertexId id) {
    const auto it = slot_.find(id);
    if (it == slot_.end()) return false;
    const std::uint32_t gone = it->second;
    const auto last = static_cast<std::uint32_t>(vertices_.size() - 1);
    slot_.erase(it);
    std::erase_if(edges_, [gone](const EdgeRec& e) { return e.u == gone || e.v == gone; });
    if (gone != last) {
        vertices_[gone] = vertices_[last];
        slot_[vertices_[gone].id] = gone;
        for (EdgeRec& e : edges_) {
            if (e.u == last) e.u = gone;
            if (e.v == last) e.v = gone;
        }
    }
    vertices_.pop_back();
    rebuild_index();
    return true;
}

bool Graph::set_group(VertexId id, GroupId group) {
    const auto it = slot_.find(id);
    if (it == slot_.end()) return false;
    vertices_[it->second].group = group;
    return true;
}

std::optional<GroupId> Graph::group_of(VertexId id) const {
    const auto it = slot_.find(id);
    if (it == slot_.end()) return std::nullopt;
    return vertices_[it->second].group;
}

bool Graph::observe(VertexId a, VertexId b, double amount) {
    if (a == b || !(amount > 0.0) || !std::isfinite(amount)) return false;
    const auto ia = slot_.find(a);
    const auto ib = slot_.find(b);
    if (ia == slot_.end() || ib == slot_.end()) return false;
    const std::uint64_t k = key(ia->second, ib->second);
    const auto [pos, inserted] = edge_index_.try_emplace(k, static_cast<std::uint32_t>(edges_.size()));
    if (inserted) {
        edges_.push_back({std::min(ia->second, ib->second), std::max(ia->second, ib->second), 0.0, 0.0});
    }
    edges_[pos->second].observed += amount;
    return true;
}

void Graph::end_epoch() {
    ++epoch_;
    const double decay = config_.decay;
    const double eps = config_.epsilon;
    std::size_t kept = 0;
    for (EdgeRec& e : edges_) {
        e.weight = decay * e.weight + e.observed;
        e.observed = 0.0;
        if (e.weight >= eps) edges_[kept++] = e;
    }
    if (kept != edges_.size()) {
        edges_.resize(kept);
        rebuild_index();
    }
}

double Graph::weight(VertexId a, VertexId b) const {
    const auto ia = slot_.find(a);
    const auto ib = slot_.find(b);
    if (a == b || ia == slot_.end() || ib == slot_.end()) return 0.0;
    const auto it = edge_index_.find(key(ia->second, ib->second));
    return it == edge_index_.end() ? 0.0 : edges_[it->second].weight;
}

std::vector<Graph::Vertex> Graph::vertices() const {
    std::vector<Vertex> out;
    out.reserve(vertices_.size());
    for (const VertexRec& v : vertices_) out.push_back({v.id, v.group});
    std::sort(out.begin(), out.end(), [](const Vertex& x, const Vertex& y) { return x.id < y.id; });
    return out;
}

std::vector<GraphEdge> Graph::edges() const {
    std::vector<GraphEdge> out;
    out.reserve(edges_.size());
    for (const EdgeRec& e : edges_) {
        if (e.weight <= 0.0) continue;  // observed this epoch, not folded in yet
        const VertexId x = vertices_[e.u].id;
        const VertexId y = vertices_[e.v].id;
        out.push_back({std::min(x, y), std::max(x, y), e.weight});
    }
    std::sort(out.begin(), out.end(),
              [](const GraphEdge& p, const GraphEdge& q) { return p.a != q.a ? p.a < q.a : p.b < q.b; });
    return out;
}

CompactGraph Graph::compact_if(std::span<const std::uint32_t> slots) const {
    // `slots` are sorted by vertex id; local index = position in `slots`.
    constexpr std::uint32_t kAbsent = std::numeric_limits<std::uint32_t>::max();
    std::vector<std::uint32_t> local(vertices_.size(), kAbsent);
    CompactGraph out;
    out.ids.reserve(slots.size());
    for (std::uint32_t s : slots) {
        local[s] = static_cast<std::uint32_t>(out.ids.size());
        out.ids.push_back(vertices_[s].id);
    }
    for (const EdgeRec& e : edges_) {
        const std::uint32_t lu = local[e.u];
        const std::uint32_t lv = local[e.v];
        if (lu == kAbsent || lv == kAbsent || e.weight <= 0.0) continue;
        out.edges.push_back({std::min(lu, lv), std::max(lu, lv), e.weight});
    }
    std::sort(out.edges.begin(), out.edges.end(),
              [](const WeightedEdge& p, const WeightedEdge& q) { return p.u != q.u ? p.u < q.u : p.v < q.v; });
    return out;
}

CompactGraph Graph::compact() const {
    std::vector<std::uint32_t> slots(vertices_.size());
    std::iota(slots.begin(), slots.end(), 0U);
    std::sort(slots.begin(), slots.end(),
              [this](std::uint32_t x, std::uint32_t y) { return vertices_[x].id < vertices_[y].id; });
    return compact_if(slots);
}

CompactGraph Graph::compact_group(GroupId group) const {
    std::vector<std::uint32_t> slots;
    for (std::uint32_t s = 0; s < vertices_.size(); ++s) {
        if (vertices_[s].group == group) slots.push_back(s);
    }
    std::sort(slots.begin(), slots.end(),
              [this](std::uint32_t x, std::uint32_t y) { return vertices_[x].id < vertices_[y].id; });
    return compact_if(slots);
}

void Graph::rebuild_index() {
    edge_index_.clear();
    edge_index_.reserve(edges_.size());
    for (std::size_t i = 0; i < edges_.size(); ++i) {
        edge_index_.emplace(key(edges_[i].u, edges_[i].v), static_cast<std::uint32_t>(i));
    }
}

}  // namespace rvm::coherence
