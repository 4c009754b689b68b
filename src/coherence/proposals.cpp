#include "coherence/proposals.hpp"

#include <algorithm>
#include <optional>
#include <set>
#include <type_traits>
#include <utility>

namespace rvm::coherence {

namespace {

// The epoch's graph, grouped by partition.
struct View {
    CompactGraph g;
    std::vector<GroupId> group;  // by local vertex (ids sorted)
    std::map<GroupId, std::vector<std::uint32_t>> members;
    std::map<GroupId, double> internal;
    std::map<std::pair<GroupId, GroupId>, double> cross;           // (a < b)
    std::vector<std::vector<std::pair<GroupId, double>>> traffic;  // by vertex: (group, weight), reduced
    double unit = 1.0;
};

View build_view(const Graph& graph, double configured_unit) {
    View view;
    view.g = graph.compact();
    for (const Graph::Vertex& v : graph.vertices()) view.group.push_back(v.group);
    for (std::uint32_t i = 0; i < view.group.size(); ++i) {
        view.members[view.group[i]].push_back(i);
        view.internal.try_emplace(view.group[i], 0.0);
    }
    view.traffic.resize(view.group.size());
    for (const WeightedEdge& e : view.g.edges) {
        const GroupId a = view.group[e.u];
        const GroupId b = view.group[e.v];
        if (a == b) {
            view.internal[a] += e.weight;
        } else {
            view.cross[{std::min(a, b), std::max(a, b)}] += e.weight;
        }
        view.traffic[e.u].emplace_back(b, e.weight);
        view.traffic[e.v].emplace_back(a, e.weight);
    }
    for (auto& list : view.traffic) {
        std::sort(list.begin(), list.end());
        std::size_t kept = 0;
        for (const auto& [grp, w] : list) {
            if (kept > 0 && list[kept - 1].first == grp) {
                list[kept - 1].second += w;
            } else {
                list[kept++] = {grp, w};
            }
        }
        list.resize(kept);
    }
    // Auto unit: the traffic-weighted mean edge weight, sum(w^2) / sum(w): the
    // weight of the link a random unit of traffic travels on. (The plain mean
    // is dragged down by the many light background edges.)
    double sum = 0.0;
    double sum_sq = 0.0;
    for (const WeightedEdge& e : view.g.edges) {
        sum += e.weight;
        sum_sq += e.weight * e.weight;
    }
    view.unit = configured_unit > 0.0 ? configured_unit : (sum > 0.0 ? sum_sq / sum : 1.0);
    return view;
}

struct Bisection {
    std::vector<std::uint32_t> a;  // local vertices of the view
    std::vector<std::uint32_t> b;
    double cut;
    double weight;
    double coherence;
    bool complete;
};

class Evaluator {
public:
    Evaluator(const View& view, const ProposalConfig& config) : view_(view), config_(config) {
        coherence_options_ = config.coherence;
        coherence_options_.weight_unit = view.unit;
        if (!config.min_cut.budget.is_unlimited()) start_ = config.min_cut.budget.read();
    }

    [[nodiscard]] double coherence_of(const std::vector<std::uint32_t>& vs) const {
        const std::optional<CoherenceScore> s = coherence(view_.g.induced(vs), coherence_options_);
        return s ? s->value : 0.0;
    }

    // One bisection of `vs` by its min cut when `vs` is incoherent and the cut
    // is thin (the side test is the caller's).
    [[nodiscard]] std::optional<Bisection> bisect(const std::vector<std::uint32_t>& vs) const {
        if (vs.size() < 2) return std::nullopt;
        const CompactGraph sub = view_.g.induced(vs);
        const std::optional<CoherenceScore> score = coherence(sub, coherence_options_);
        if (!score || score->value >= config_.split_coherence) return std::nullopt;
        const std::optional<MinCut> cut = min_cut(sub, cut_options());
        if (!cut) return std::nullopt;
        const double weight = sub.total_weight();
        if (!(cut->value == 0.0 || cut->value < config_.split_cut_ratio * weight)) return std::nullopt;
        Bisection out{{}, {}, cut->value, weight, score->value, cut->complete};
        for (std::uint32_t i : cut->side_a) out.a.push_back(vs[i]);
        for (std::uint32_t i : cut->side_b) out.b.push_back(vs[i]);
        return out;
    }

private:
    // The epoch's remaining min-cut budget.
    [[nodiscard]] MinCutOptions cut_options() const {
        MinCutOptions o = config_.min_cut;
        if (o.budget.is_unlimited()) return o;
        const std::chrono::nanoseconds spent = o.budget.read() - start_;
        o.budget.limit = std::max(std::chrono::nanoseconds{0}, config_.min_cut.budget.limit - spent);
        return o;
    }

    const View& view_;
    const ProposalConfig& config_;
    CoherenceOptions coherence_options_;
    std::chrono::nanoseconds start_{0};
};

std::vector<VertexId> to_ids(const View& view, const std::vector<std::uint32_t>& vs) {
    std::vector<VertexId> out;
    out.reserve(vs.size());
    for (std::uint32_t v : vs) out.push_back(view.g.ids[v]);
    std::sort(out.begin(), out.end());
    return out;
}

// The split of partition p, if it passes the test of proposals.hpp. With more
// than two parts allowed, the parts are split again while they pass the cut
// and coherence tests; parts that end up no more coherent than p are pooled,
// and the pool must itself be more coherent than p. Otherwise the plain
// bisection is tried.
std::optional<SplitProposal> split_candidate(const View& view, const Evaluator& eval, GroupId p,
                                             std::uint32_t max_parts) {
    const std::optional<Bisection> first = eval.bisect(view.members.at(p));
    if (!first) return std::nullopt;
    const double parent = first->coherence;
    const bool free_cut = first->cut == 0.0;  // disconnected: no side test
    const auto better = [&](const std::vector<std::uint32_t>& part) {
        return free_cut || eval.coherence_of(part) > parent;
    };
    std::vector<std::vector<std::uint32_t>> parts{first->a, first->b};
    for (std::size_t i = 0; i < parts.size() && parts.size() < max_parts;) {
        std::optional<Bisection> more = eval.bisect(parts[i]);
        if (!more) {
            ++i;
            continue;
        }
        parts[i] = std::move(more->a);
        parts.insert(parts.begin() + static_cast<std::ptrdiff_t>(i) + 1, std::move(more->b));
    }
    if (parts.size() > 2) {
        std::vector<std::vector<std::uint32_t>> kept;
        std::vector<std::uint32_t> pool;
        for (auto& part : parts) {
            if (better(part)) {
                kept.push_back(std::move(part));
            } else {
                pool.insert(pool.end(), part.begin(), part.end());
            }
        }
        bool accepted = true;
        if (!pool.empty()) {
            accepted = better(pool);
            if (accepted) kept.push_back(std::move(pool));
        }
        if (accepted) {
            parts = std::move(kept);
        } else {
            parts.clear();
        }
    }
    if (parts.size() < 2) {
        if (!better(first->a) || !better(first->b)) return std::nullopt;
        parts = {first->a, first->b};
    }
    SplitProposal s{p, {}, first->cut, first->weight, parent, first->complete};
    for (const auto& part : parts) s.parts.push_back(to_ids(view, part));
    std::sort(s.parts.begin(), s.parts.end());
    return s;
}

std::size_t size_of(const View& view, GroupId p) {
    const auto it = view.members.find(p);
    return it == view.members.end() ? std::size_t{0} : it->second.size();
}

// Vertices whose traffic mostly goes to one other partition with room.
template <typename MayMigrate>
void add_migrations(const View& view, const ProposalConfig& config, MayMigrate may_migrate,
                    std::vector<Proposal>& out) {
    for (std::uint32_t v = 0; v < view.group.size(); ++v) {
        if (!may_migrate(view.g.ids[v])) continue;
        double total = 0.0;
        GroupId best = view.group[v];
        double best_w = 0.0;
        for (const auto& [grp, w] : view.traffic[v]) {
            total += w;
            if (grp != view.group[v] && w > best_w) {
                best = grp;
                best_w = w;
            }
        }
        if (best == view.group[v] || !(best_w > config.migrate_share * total)) continue;
        if (size_of(view, best) + 1 > config.max_partition_vertices) continue;
        out.emplace_back(MigrateProposal{view.g.ids[v], view.group[v], best, best_w / total});
    }
}

// Pairs joined by a heavy edge that is the heaviest external edge of one of them.
void add_merges(const View& view, const Evaluator& eval, const ProposalConfig& config, const std::set<GroupId>& cooling,
                std::vector<Proposal>& out) {
    std::map<GroupId, std::pair<GroupId, double>> heaviest;
    for (const auto& [pq, w] : view.cross) {
        for (const auto& [x, y] : {pq, std::pair{pq.second, pq.first}}) {
            auto [it, fresh] = heaviest.try_emplace(x, y, w);
            if (!fresh && w > it->second.second) it->second = {y, w};
        }
    }
    std::set<std::pair<GroupId, GroupId>> pairs;
    for (const auto& [p, hw] : heaviest) pairs.insert({std::min(p, hw.first), std::max(p, hw.first)});
    for (const auto& [a, b] : pairs) {
        if (cooling.contains(a) || cooling.contains(b)) continue;
        if (size_of(view, a) + size_of(view, b) > config.max_partition_vertices) continue;
        const double w = view.cross.at({a, b});
        if (w < config.merge_edge_ratio * std::min(view.internal.at(a), view.internal.at(b))) continue;
        std::vector<std::uint32_t> both = view.members.at(a);
        both.insert(both.end(), view.members.at(b).begin(), view.members.at(b).end());
        const double merged = eval.coherence_of(both);
        if (merged >= config.merge_coherence) out.emplace_back(MergeProposal{a, b, w, merged});
    }
}

// Hysteresis key: split (0, P, 0), merge (1, a, b), migrate (2, v, to).
std::tuple<int, std::uint64_t, std::uint64_t> key_of(const Proposal& p) {
    return std::visit(
        [](const auto& c) -> std::tuple<int, std::uint64_t, std::uint64_t> {
            using T = std::decay_t<decltype(c)>;
            if constexpr (std::is_same_v<T, SplitProposal>) {
                return {0, c.partition, 0};
            } else if constexpr (std::is_same_v<T, MergeProposal>) {
                return {1, c.a, c.b};
            } else {
                return {2, c.vertex, c.to};
            }
        },
        p);
}

}  // namespace

std::vector<Proposal> ProposalEngine::step(const Graph& graph) {
    ++epoch_;
    candidates_.clear();
    const View view = build_view(graph, config_.weight_unit);
    const Evaluator eval(view, config_);
    std::erase_if(marks_, [this](const auto& kv) {
        return kv.second.reshape_until < epoch_ && kv.second.migrate_until < epoch_;
    });
    const auto mark = [this](VertexId v) {
        const auto it = marks_.find(v);
        return it == marks_.end() ? Marks{} : it->second;
    };
    std::set<GroupId> cooling;
    for (std::uint32_t v = 0; v < view.group.size(); ++v) {
        if (mark(view.g.ids[v]).reshape_until >= epoch_) cooling.insert(view.group[v]);
    }

    add_migrations(
        view, config_,
        [&](VertexId v) {
            const Marks m = mark(v);
            return m.reshape_until < epoch_ && m.migrate_until < epoch_;
        },
        candidates_);
    for (const auto& [p, vs] : view.members) {
        if (cooling.contains(p) || vs.size() < 2) continue;
        if (std::optional<SplitProposal> s = split_candidate(view, eval, p, std::max(2U, config_.max_split_parts))) {
            candidates_.emplace_back(std::move(*s));
        }
    }
    add_merges(view, eval, config_, cooling, candidates_);

    // Hysteresis: count consecutive epochs; candidates that vanished start again.
    std::map<Key, std::uint32_t> held;
    std::vector<std::pair<std::size_t, Key>> due;  // index into candidates_
    for (std::size_t i = 0; i < candidates_.size(); ++i) {
        const Key key = key_of(candidates_[i]);
        const auto it = held_.find(key);
        const std::uint32_t count = (it == held_.end() ? 0U : it->second) + 1U;
        held[key] = count;
        if (count >= config_.hold_epochs) due.emplace_back(i, key);
    }
    held_ = std::move(held);

    // Emit, migrations first; a partition touched this epoch is not reshaped again.
    std::vector<Proposal> out;
    std::set<GroupId> touched;
    std::map<GroupId, std::size_t> incoming;
    const std::uint64_t until = epoch_ + config_.cooldown_epochs;
    const auto reshape = [&](GroupId p) {
        touched.insert(p);
        for (std::uint32_t v : view.members.at(p)) marks_[view.g.ids[v]].reshape_until = until;
    };
    for (int kind = 2; kind >= 0; --kind) {
        for (const auto& [i, key] : due) {
            if (std::get<0>(key) != kind) continue;
            const Proposal& c = candidates_[i];
            if (const auto* mig = std::get_if<MigrateProposal>(&c)) {
                if (size_of(view, mig->to) + incoming[mig->to] + 1 > config_.max_partition_vertices) continue;
                ++incoming[mig->to];
                touched.insert(mig->from);
                touched.insert(mig->to);
                marks_[mig->vertex].migrate_until = until;
            } else if (const auto* split = std::get_if<SplitProposal>(&c)) {
                if (touched.contains(split->partition)) continue;
                reshape(split->partition);
            } else if (const auto* merge = std::get_if<MergeProposal>(&c)) {
                if (touched.contains(merge->a) || touched.contains(merge->b)) continue;
                reshape(merge->a);
                reshape(merge->b);
            }
            held_.erase(key);
            out.push_back(c);
        }
    }
    return out;
}

}  // namespace rvm::coherence
