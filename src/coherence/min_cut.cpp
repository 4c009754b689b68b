#include "coherence/min_cut.hpp"

#include <algorithm>
#include <limits>
#include <numeric>
#include <utility>

namespace rvm::coherence {

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

// The members of each super-vertex form a chain through `next`, headed by the
// super-vertex's own index (a vertex absorbs others, it is never absorbed and
// then reused). Merging appends the absorbed chain, so the first count[t]
// links from t are exactly t's members at any later time.
struct Chains {
    std::vector<std::uint32_t> next;
    std::vector<std::uint32_t> tail;
    std::vector<std::uint32_t> count;

    explicit Chains(std::size_t n) : next(n), tail(n), count(n, 1) {
        std::iota(tail.begin(), tail.end(), 0U);
        std::iota(next.begin(), next.end(), 0U);
    }
    void absorb(std::uint32_t s, std::uint32_t t) {
        next[tail[s]] = t;
        tail[s] = tail[t];
        count[s] += count[t];
    }
};

// The best cut seen: the members of super-vertex `head` (count of them) on one side.
struct Best {
    double value = kInf;
    std::uint32_t head = 0;
    std::uint32_t count = 0;
};

class Deadline {
public:
    explicit Deadline(const ComputeBudget& b) : budget_(b) {
        if (!budget_.is_unlimited()) start_ = budget_.read();
    }
    [[nodiscard]] bool expired() const { return !budget_.is_unlimited() && budget_.read() - start_ >= budget_.limit; }

private:
    const ComputeBudget& budget_;
    std::chrono::nanoseconds start_{0};
};

// Lightest single vertex: the cut every search starts from.
Best lightest_vertex(const CompactGraph& g) {
    std::vector<double> degree(g.vertex_count(), 0.0);
    for (const WeightedEdge& e : g.edges) {
        degree[e.u] += e.weight;
        degree[e.v] += e.weight;
    }
    Best best;
    for (std::uint32_t v = 0; v < degree.size(); ++v) {
        if (degree[v] < best.value) best = {degree[v], v, 1};
    }
    return best;
}

struct Outcome {
    Best best;
    bool complete = true;
    std::uint32_t phases = 0;
    Chains chains;
};

Outcome dense_stoer_wagner(const CompactGraph& g, const Deadline& deadline) {
    const std::size_t n = g.vertex_count();
    std::vector<double> a(n * n, 0.0);
    for (const WeightedEdge& e : g.edges) {
        if (e.u == e.v) continue;
        a[std::size_t{e.u} * n + e.v] += e.weight;
        a[std::size_t{e.v} * n + e.u] += e.weight;
    }
    Outcome out{lightest_vertex(g), true, 0, Chains(n)};
    std::vector<std::uint32_t> active(n);
    std::iota(active.begin(), active.end(), 0U);
    std::vector<double> key(n);
    std::vector<char> added(n);
    while (active.size() > 1) {
        if (deadline.expired()) {
            out.complete = false;
            break;
        }
        for (std::uint32_t v : active) {
            key[v] = 0.0;
            added[v] = 0;
        }
        std::uint32_t prev = active[0];
        std::uint32_t last = active[0];
        for (std::size_t k = 0; k < active.size(); ++k) {
            std::uint32_t sel = 0;
            double best_key = -1.0;
            for (std::uint32_t v : active) {
                if (added[v] == 0 && key[v] > best_key) {
                    best_key = key[v];
                    sel = v;
                }
            }
            added[sel] = 1;
            prev = last;
            last = sel;
            const double* row = &a[std::size_t{sel} * n];
            for (std::uint32_t v : active) key[v] += row[v];
        }
        ++out.phases;
        // key[last] also took row[last] (= 0, no self loops) after selection.
        if (key[last] < out.best.value) out.best = {key[last], last, out.chains.count[last]};
        // Contract last into prev.
        double* rp = &a[std::size_t{prev} * n];
        const double* rl = &a[std::size_t{last} * n];
        for (std::uint32_t v : active) {
            rp[v] += rl[v];
            a[std::size_t{v} * n + prev] = rp[v];
        }
        rp[prev] = 0.0;
        out.chains.absorb(prev, last);
        std::erase(active, last);
    }
    return out;
}

struct Nbr {
    std::uint32_t v;
    double w;
};

class HeapStoerWagner {
public:
    explicit HeapStoerWagner(const CompactGraph& g)
        : n_(g.vertex_count()), adj_(n_), pos_(n_, kNone), key_(n_, 0.0), added_(n_, 0) {
        for (const WeightedEdge& e : g.edges) {
            if (e.u == e.v) continue;
            adj_[e.u].push_back({e.v, e.weight});
            adj_[e.v].push_back({e.u, e.weight});
        }
        // Merge parallel edges: pos_ marks where a neighbour already sits.
        for (std::vector<Nbr>& list : adj_) {
            std::size_t kept = 0;
            for (std::size_t i = 0; i < list.size(); ++i) {
                const Nbr x = list[i];
                if (pos_[x.v] != kNone) {
                    list[pos_[x.v]].w += x.w;
                } else {
                    pos_[x.v] = static_cast<std::uint32_t>(kept);
                    list[kept++] = x;
                }
            }
            list.resize(kept);
            for (const Nbr& x : list) pos_[x.v] = kNone;
        }
    }

    Outcome run(const CompactGraph& g, const Deadline& deadline) {
        Outcome out{lightest_vertex(g), true, 0, Chains(n_)};
        std::vector<std::uint32_t> active(n_);
        std::iota(active.begin(), active.end(), 0U);
        while (active.size() > 1) {
            if (deadline.expired()) {
                out.complete = false;
                break;
            }
            const auto [s, t] = phase(active);
            ++out.phases;
            if (key_[t] < out.best.value) out.best = {key_[t], t, out.chains.count[t]};
            contract(s, t);
            out.chains.absorb(s, t);
            std::erase(active, t);
        }
        return out;
    }

private:
    static constexpr std::uint32_t kNone = std::numeric_limits<std::uint32_t>::max();

    // Maximum adjacency order over the active super-vertices; returns the
    // last two (s, t).
    std::pair<std::uint32_t, std::uint32_t> phase(const std::vector<std::uint32_t>& active) {
        for (std::uint32_t v : active) {
            key_[v] = 0.0;
            added_[v] = 0;
        }
        heap_.clear();
        heap_.push_back({0.0, active[0]});
        std::uint32_t s = active[0];
        std::uint32_t t = active[0];
        std::size_t taken = 0;
        while (taken < active.size() && !heap_.empty()) {
            std::pop_heap(heap_.begin(), heap_.end());
            const auto [k, v] = heap_.back();
            heap_.pop_back();
            if (added_[v] != 0 || k != key_[v]) continue;  // stale entry
            added_[v] = 1;
            ++taken;
            s = t;
            t = v;
            for (const Nbr& x : adj_[v]) {
                if (added_[x.v] != 0) continue;
                key_[x.v] += x.w;
                heap_.push_back({key_[x.v], x.v});
                std::push_heap(heap_.begin(), heap_.end());
            }
        }
        return {s, t};
    }

    // Folds t's edges into s.
    void contract(std::uint32_t s, std::uint32_t t) {
        std::vector<Nbr>& as = adj_[s];
        std::erase_if(as, [t](const Nbr& x) { return x.v == t; });
        for (std::uint32_t i = 0; i < as.size(); ++i) pos_[as[i].v] = i;
        for (const Nbr& x : adj_[t]) {
            if (x.v == s) continue;
            std::vector<Nbr>& ax = adj_[x.v];
            if (pos_[x.v] != kNone) {
                as[pos_[x.v]].w += x.w;
                for (Nbr& y : ax) {
                    if (y.v == s) y.w += x.w;
                }
                std::erase_if(ax, [t](const Nbr& y) { return y.v == t; });
            } else {
                pos_[x.v] = static_cast<std::uint32_t>(as.size());
                as.push_back({x.v, x.w});
                for (Nbr& y : ax) {
                    if (y.v == t) y.v = s;
                }
            }
        }
        for (const Nbr& x : as) pos_[x.v] = kNone;
        adj_[t].clear();
        adj_[t].shrink_to_fit();
    }

    std::size_t n_;
    std::vector<std::vector<Nbr>> adj_;
    std::vector<std::uint32_t> pos_;
    std::vector<double> key_;
    std::vector<char> added_;
    std::vector<std::pair<double, std::uint32_t>> heap_;
};

MinCut materialize(const CompactGraph& g, const std::vector<char>& on_a, bool complete, std::uint32_t phases) {
    MinCut cut;
    cut.complete = complete;
    cut.phases = phases;
    for (std::uint32_t v = 0; v < g.vertex_count(); ++v) (on_a[v] != 0 ? cut.side_a : cut.side_b).push_back(v);
    for (std::uint32_t i = 0; i < g.edges.size(); ++i) {
        const WeightedEdge& e = g.edges[i];
        if (on_a[e.u] != on_a[e.v]) {
            cut.cut_edges.push_back(i);
            cut.value += e.weight;
        }
    }
    return cut;
}

}  // namespace

std::optional<MinCut> min_cut(const CompactGraph& g, const MinCutOptions& options) {
    const std::size_t n = g.vertex_count();
    if (n < 2) return std::nullopt;
    std::vector<char> on_a(n, 0);

    const Components comps = connected_components(g);
    if (comps.count > 1) {
        for (std::size_t v = 0; v < n; ++v) on_a[v] = comps.component[v] == 0 ? 1 : 0;
        return materialize(g, on_a, true, 0);
    }

    const Deadline deadline(options.budget);
    bool dense = options.method == MinCutMethod::Dense;
    if (options.method == MinCutMethod::Auto) dense = n <= kMinCutDenseMaxVertices;
    const Outcome out = dense ? dense_stoer_wagner(g, deadline) : HeapStoerWagner(g).run(g, deadline);

    std::uint32_t v = out.best.head;
    for (std::uint32_t i = 0; i < out.best.count; ++i) {
        on_a[v] = 1;
        v = out.chains.next[v];
    }
    return materialize(g, on_a, out.complete, out.phases);
}

}  // namespace rvm::coherence
