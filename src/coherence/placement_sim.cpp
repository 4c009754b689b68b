#include "coherence/placement_sim.hpp"

#include <algorithm>
#include <cmath>
#include <map>
#include <random>
#include <vector>

#include "coherence/graph.hpp"

namespace rvm::coherence {

namespace {

struct Message {
    std::uint32_t from;
    std::uint32_t to;
    double size;
};

class Workload {
public:
    Workload(const SimConfig& c, std::mt19937_64& rng) : c_(c), rng_(rng), cluster_of_(c.agents) {
        const std::uint32_t clusters = std::max(1U, c.agents / std::max(1U, c.cluster_size));
        std::vector<std::uint32_t> order(c.agents);
        for (std::uint32_t i = 0; i < c.agents; ++i) order[i] = i;
        std::shuffle(order.begin(), order.end(), rng_);
        members_.resize(clusters);
        for (std::uint32_t i = 0; i < c.agents; ++i) {
            cluster_of_[order[i]] = i % clusters;
            members_[i % clusters].push_back(order[i]);
        }
    }

    void drift() {
        const auto moves = static_cast<std::uint32_t>(std::lround(c_.drift_per_epoch * c_.agents));
        for (std::uint32_t k = 0; k < moves && members_.size() > 1; ++k) {
            const std::uint32_t a = pick(c_.agents);
            std::vector<std::uint32_t>& old = members_[cluster_of_[a]];
            if (old.size() <= 2) continue;
            std::uint32_t to = pick(static_cast<std::uint32_t>(members_.size() - 1));
            if (to >= cluster_of_[a]) ++to;
            std::erase(old, a);
            members_[to].push_back(a);
            cluster_of_[a] = to;
        }
    }

    void messages(std::vector<Message>& out) {
        out.clear();
        std::uniform_real_distribution<double> unit(0.0, 1.0);
        for (std::uint32_t a = 0; a < c_.agents; ++a) {
            const std::vector<std::uint32_t>& mates = members_[cluster_of_[a]];
            for (std::uint32_t k = 0; k < c_.messages_per_agent; ++k) {
                std::uint32_t b = a;
                if (unit(rng_) < c_.intra_fraction && mates.size() > 1) {
                    while (b == a) b = mates[pick(static_cast<std::uint32_t>(mates.size()))];
                } else {
                    while (b == a) b = pick(c_.agents);
                }
                out.push_back({a, b, 0.5 + unit(rng_)});
            }
        }
    }

private:
    std::uint32_t pick(std::uint32_t n) { return static_cast<std::uint32_t>(rng_() % n); }

    const SimConfig& c_;
    std::mt19937_64& rng_;
    std::vector<std::uint32_t> cluster_of_;
    std::vector<std::vector<std::uint32_t>> members_;
};

double cross_domain(const std::vector<Message>& msgs, const std::vector<std::uint32_t>& domain) {
    double sum = 0.0;
    for (const Message& m : msgs) {
        if (domain[m.from] != domain[m.to]) sum += m.size;
    }
    return sum;
}

// Packs partitions onto domains (see placement_sim.hpp); updates `domain`.
void place(const Graph& graph, std::uint32_t domains, std::uint32_t capacity, std::vector<std::uint32_t>& domain) {
    std::map<GroupId, std::vector<std::uint32_t>> parts;
    for (const Graph::Vertex& v : graph.vertices()) parts[v.group].push_back(static_cast<std::uint32_t>(v.id));
    std::map<std::pair<GroupId, GroupId>, double> cross;
    std::map<GroupId, double> internal;
    for (const GraphEdge& e : graph.edges()) {
        const GroupId a = *graph.group_of(e.a);
        const GroupId b = *graph.group_of(e.b);
        if (a == b) {
            internal[a] += e.weight;
        } else {
            cross[{a, b}] += e.weight;
            cross[{b, a}] += e.weight;
        }
    }
    std::vector<std::pair<GroupId, const std::vector<std::uint32_t>*>> order;
    order.reserve(parts.size());
    for (const auto& [p, vs] : parts) order.emplace_back(p, &vs);
    std::stable_sort(order.begin(), order.end(),
                     [](const auto& x, const auto& y) { return x.second->size() > y.second->size(); });

    std::vector<std::uint32_t> load(domains, 0);
    std::map<GroupId, std::uint32_t> placed;
    std::vector<std::uint32_t> next = domain;
    for (const auto& [p, vs] : order) {
        const auto size = static_cast<std::uint32_t>(vs->size());
        std::vector<double> here(domains, 0.0);
        for (std::uint32_t v : *vs) here[domain[v]] += 1.0;
        std::uint32_t best = domains;
        double best_score = -1.0;
        for (std::uint32_t d = 0; d < domains; ++d) {
            if (load[d] + size > capacity) continue;
            double score = internal[p] * here[d] / static_cast<double>(size);
            for (const auto& [q, dq] : placed) {
                if (dq != d) continue;
                const auto it = cross.find({p, q});
                if (it != cross.end()) score += it->second;
            }
            if (score > best_score) {
                best_score = score;
                best = d;
            }
        }
        if (best < domains) {
            placed[p] = best;
            load[best] += size;
            for (std::uint32_t v : *vs) next[v] = best;
            continue;
        }
        for (std::uint32_t v : *vs) {  // fits nowhere whole: spread, staying put where there is room
            std::uint32_t d = domain[v];
            if (load[d] >= capacity)
                d = static_cast<std::uint32_t>(std::min_element(load.begin(), load.end()) - load.begin());
            ++load[d];
            next[v] = d;
        }
    }
    domain = std::move(next);
}

void apply(Graph& graph, const Proposal& p, GroupId& next_group, SimResult& r) {
    if (const auto* s = std::get_if<SplitProposal>(&p)) {
        ++r.splits;
        for (std::size_t i = 1; i < s->parts.size(); ++i) {
            const GroupId g = next_group++;
            for (VertexId v : s->parts[i]) (void)graph.set_group(v, g);
        }
    } else if (const auto* m = std::get_if<MergeProposal>(&p)) {
        ++r.merges;
        for (const Graph::Vertex& v : graph.vertices()) {
            if (v.group == m->b) (void)graph.set_group(v.id, m->a);
        }
    } else if (const auto* g = std::get_if<MigrateProposal>(&p)) {
        ++r.migrations;
        (void)graph.set_group(g->vertex, g->to);
    }
}

}  // namespace

ProposalConfig sim_proposal_config() {
    ProposalConfig c;
    c.max_split_parts = 64;
    c.min_cut.budget = ComputeBudget::unlimited();  // deterministic for a seed
    return c;
}

SimResult run_placement_sim(const SimConfig& c, const ProposalConfig& engine_config) {
    SimResult r;
    if (c.agents < 2 || c.cores == 0 || c.domains == 0 || c.cores % c.domains != 0) return r;
    std::mt19937_64 rng(c.seed);
    Workload work(c, rng);
    const std::uint32_t per_domain = c.cores / c.domains;
    const auto per_core = static_cast<std::uint32_t>(
        std::ceil(static_cast<double>(c.agents) * (1.0 + c.capacity_slack) / static_cast<double>(c.cores)));
    r.domain_capacity = per_domain * per_core;

    std::vector<std::uint32_t> rr(c.agents);
    for (std::uint32_t a = 0; a < c.agents; ++a) rr[a] = (a % c.cores) / per_domain;
    std::vector<std::uint32_t> coh = rr;

    Graph graph(GraphConfig{0.95, c.graph_epsilon});
    for (std::uint32_t a = 0; a < c.agents; ++a) (void)graph.add_vertex(a, rr[a]);
    GroupId next_group = c.domains;
    ProposalEngine engine(engine_config);
    std::vector<Message> msgs;

    for (std::uint32_t epoch = 0; epoch < c.epochs; ++epoch) {
        work.drift();
        work.messages(msgs);
        double total = 0.0;
        for (const Message& m : msgs) total += m.size;
        const double cross_rr = cross_domain(msgs, rr);
        const double cross_coh = cross_domain(msgs, coh);
        for (SimTotals* t : {&r.all, epoch >= c.warmup_epochs ? &r.steady : nullptr}) {
            if (t == nullptr) continue;
            t->traffic += total;
            t->round_robin += cross_rr;
            t->coherence += cross_coh;
        }

        for (const Message& m : msgs) (void)graph.observe(m.from, m.to, m.size);
        graph.end_epoch();
        for (const Proposal& p : engine.step(graph)) apply(graph, p, next_group, r);
        const std::vector<std::uint32_t> before = coh;
        place(graph, c.domains, r.domain_capacity, coh);
        std::vector<std::uint32_t> load(c.domains, 0);
        for (std::uint32_t a = 0; a < c.agents; ++a) {
            if (coh[a] != before[a]) ++r.agent_moves;
            ++load[coh[a]];
        }
        for (std::uint32_t l : load) {
            r.max_domain_load = std::max(r.max_domain_load, l);
            if (l > r.domain_capacity) r.capacity_respected = false;
        }
    }
    std::map<GroupId, int> groups;
    for (const Graph::Vertex& v : graph.vertices()) groups[v.group] = 1;
    r.final_partitions = static_cast<std::uint32_t>(groups.size());
    return r;
}

}  // namespace rvm::coherence
