// Coherence engine: global min-cut (ours, Stoer–Wagner with a dense matrix or
// contracted adjacency lists + binary heap) against the baseline in the same
// run, Boost.Graph's boost::stoer_wagner_min_cut, on the same connected random
// graphs (a random spanning tree plus random edges, average degree ~8, weights
// uniform in [1, 100)); the per-epoch graph update for 1,000 partitions; the
// coherence score; the spectral sparsifier (its achieved epsilon is a counter).
#include <benchmark/benchmark.h>

#include <Eigen/Dense>
#include <boost/graph/adjacency_list.hpp>
#include <boost/graph/stoer_wagner_min_cut.hpp>
#include <boost/property_map/property_map.hpp>
#include <cstdint>
#include <iterator>
#include <map>
#include <random>
#include <vector>

#include "coherence/coherence.hpp"
#include "coherence/graph.hpp"
#include "coherence/min_cut.hpp"
#include "coherence/sparsifier.hpp"

namespace {

using rvm::coherence::CompactGraph;

// Results are stored here so the work is not optimized away. (With GCC 12 and
// the packaged Google Benchmark, DoNotOptimize on a double left garbage in it.)
volatile double sink = 0.0;

CompactGraph connected_random_graph(std::uint32_t n, double avg_degree, std::uint64_t seed) {
    std::mt19937_64 rng(seed);
    std::uniform_real_distribution<double> weight(1.0, 100.0);
    CompactGraph g;
    for (std::uint32_t i = 0; i < n; ++i) g.ids.push_back(i);
    std::map<std::pair<std::uint32_t, std::uint32_t>, bool> seen;
    const auto add = [&](std::uint32_t u, std::uint32_t v) {
        if (u == v || !seen.try_emplace({std::min(u, v), std::max(u, v)}, true).second) return;
        g.edges.push_back({std::min(u, v), std::max(u, v), weight(rng)});
    };
    for (std::uint32_t v = 1; v < n; ++v) add(static_cast<std::uint32_t>(rng() % v), v);
    const auto target = static_cast<std::size_t>(avg_degree * n / 2.0);
    while (g.edges.size() < target) add(static_cast<std::uint32_t>(rng() % n), static_cast<std::uint32_t>(rng() % n));
    return g;
}

const CompactGraph& graph_of(std::uint32_t n) {
    static std::map<std::uint32_t, CompactGraph> cache;
    auto it = cache.find(n);
    if (it == cache.end()) it = cache.emplace(n, connected_random_graph(n, 8.0, 0xC0DE + n)).first;
    return it->second;
}

using BoostGraph = boost::adjacency_list<boost::vecS, boost::vecS, boost::undirectedS, boost::no_property,
                                         boost::property<boost::edge_weight_t, double>>;

void BM_MinCut_Boost(benchmark::State& state) {
    const CompactGraph& g = graph_of(static_cast<std::uint32_t>(state.range(0)));
    BoostGraph bg(g.vertex_count());
    for (const auto& e : g.edges) boost::add_edge(e.u, e.v, e.weight, bg);
    std::vector<bool> parity(g.vertex_count());
    double value = 0.0;
    for (auto _ : state) {
        auto parities = boost::make_iterator_property_map(parity.begin(), boost::get(boost::vertex_index, bg));
        value = boost::stoer_wagner_min_cut(bg, boost::get(boost::edge_weight, bg), boost::parity_map(parities));
        sink = value;
    }
    state.counters["cut"] = value;
}
BENCHMARK(BM_MinCut_Boost)->Arg(16)->Arg(64)->Arg(256)->Arg(1024)->Unit(benchmark::kMicrosecond);

void run_rvm_min_cut(benchmark::State& state, rvm::coherence::MinCutMethod method) {
    const CompactGraph& g = graph_of(static_cast<std::uint32_t>(state.range(0)));
    const rvm::coherence::MinCutOptions options{rvm::coherence::ComputeBudget::unlimited(), method};
    double value = 0.0;
    for (auto _ : state) {
        const auto cut = rvm::coherence::min_cut(g, options);
        value = cut->value;
        sink = value;
    }
    state.counters["cut"] = value;
}

void BM_MinCut_Rvm(benchmark::State& state) { run_rvm_min_cut(state, rvm::coherence::MinCutMethod::Auto); }
BENCHMARK(BM_MinCut_Rvm)->Arg(16)->Arg(64)->Arg(256)->Arg(1024)->Unit(benchmark::kMicrosecond);

void BM_MinCut_RvmDense(benchmark::State& state) { run_rvm_min_cut(state, rvm::coherence::MinCutMethod::Dense); }
BENCHMARK(BM_MinCut_RvmDense)->Arg(16)->Arg(64)->Arg(256)->Unit(benchmark::kMicrosecond);

void BM_MinCut_RvmHeap(benchmark::State& state) { run_rvm_min_cut(state, rvm::coherence::MinCutMethod::Heap); }
BENCHMARK(BM_MinCut_RvmHeap)->Arg(16)->Arg(64)->Arg(256)->Arg(1024)->Unit(benchmark::kMicrosecond);

// One epoch for `partitions` vertices: every edge of a degree-8 graph observed
// once, then end_epoch() (decay, fold, drop).
void BM_GraphUpdate(benchmark::State& state) {
    const auto n = static_cast<std::uint32_t>(state.range(0));
    const CompactGraph& shape = graph_of(n);
    rvm::coherence::Graph g;
    for (std::uint32_t v = 0; v < n; ++v) (void)g.add_vertex(v, v % 16);
    for (auto _ : state) {
        for (const auto& e : shape.edges) (void)g.observe(e.u, e.v, e.weight);
        g.end_epoch();
    }
    state.counters["edges"] = static_cast<double>(g.edge_count());
    state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(shape.edges.size()));
}
BENCHMARK(BM_GraphUpdate)->Arg(1000)->Unit(benchmark::kMicrosecond);

// Baseline: the same epoch with a std::map keyed by the vertex pair (the
// obvious container): accumulate the observations, then decay and drop.
void BM_Baseline_GraphUpdateStdMap(benchmark::State& state) {
    const auto n = static_cast<std::uint32_t>(state.range(0));
    const CompactGraph& shape = graph_of(n);
    std::map<std::pair<std::uint32_t, std::uint32_t>, double> w, pending;
    for (auto _ : state) {
        for (const auto& e : shape.edges) pending[{std::min(e.u, e.v), std::max(e.u, e.v)}] += e.weight;
        for (auto it = w.begin(); it != w.end();) {
            it->second *= 0.95;
            it = it->second < 1e-6 ? w.erase(it) : std::next(it);
        }
        for (const auto& [k, v] : pending) w[k] += v;
        pending.clear();
    }
    state.counters["edges"] = static_cast<double>(w.size());
    state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(shape.edges.size()));
}
BENCHMARK(BM_Baseline_GraphUpdateStdMap)->Arg(1000)->Unit(benchmark::kMicrosecond);

void BM_Coherence(benchmark::State& state) {
    const CompactGraph& g = graph_of(static_cast<std::uint32_t>(state.range(0)));
    rvm::coherence::CoherenceOptions o;
    o.exact_max_vertices = static_cast<std::uint32_t>(state.range(1)) != 0 ? 100000 : 0;
    double value = 0.0;
    for (auto _ : state) {
        value = rvm::coherence::coherence(g, o)->value;
        sink = value;
    }
    state.counters["score"] = value;
    state.SetLabel(state.range(1) != 0 ? "exact" : "jl128");
}
BENCHMARK(BM_Coherence)->Args({64, 1})->Args({1000, 1})->Args({1000, 0})->Unit(benchmark::kMicrosecond);

// Baseline: the textbook route to the same mean effective resistance -- the
// Laplacian's dense pseudo-inverse (Eigen complete orthogonal decomposition).
void BM_Baseline_CoherenceDensePinv(benchmark::State& state) {
    const CompactGraph& g = graph_of(static_cast<std::uint32_t>(state.range(0)));
    const auto n = static_cast<Eigen::Index>(g.ids.size());
    for (auto _ : state) {
        Eigen::MatrixXd l = Eigen::MatrixXd::Zero(n, n);
        for (const auto& e : g.edges) {
            const auto u = static_cast<Eigen::Index>(e.u), v = static_cast<Eigen::Index>(e.v);
            l(u, u) += e.weight, l(v, v) += e.weight, l(u, v) -= e.weight, l(v, u) -= e.weight;
        }
        const Eigen::MatrixXd pinv = l.completeOrthogonalDecomposition().pseudoInverse();
        double sum = 0.0;
        for (Eigen::Index i = 0; i < n; ++i) {
            for (Eigen::Index j = i + 1; j < n; ++j) sum += pinv(i, i) + pinv(j, j) - 2.0 * pinv(i, j);
        }
        sink = 1.0 / (1.0 + sum / (static_cast<double>(n) * static_cast<double>(n - 1) / 2.0));
    }
}
BENCHMARK(BM_Baseline_CoherenceDensePinv)->Arg(64)->Unit(benchmark::kMicrosecond);

// Sparsify a dense-ish graph; the audit runs once, outside the timing.
void BM_Sparsify(benchmark::State& state) {
    const auto n = static_cast<std::uint32_t>(state.range(0));
    const CompactGraph g = connected_random_graph(n, static_cast<double>(state.range(1)), 0x5A + n);
    rvm::coherence::SparsifierOptions o;
    o.epsilon = 0.5;
    std::size_t kept = 0;
    for (auto _ : state) {
        const auto h = rvm::coherence::sparsify(g, o);
        kept = h->graph.edges.size();
        sink = static_cast<double>(kept);
    }
    const auto h = rvm::coherence::sparsify(g, o);
    rvm::coherence::AuditOptions ao;
    ao.spectral_max_vertices = 1000;
    const rvm::coherence::SparsifierAudit audit = rvm::coherence::audit_sparsifier(g, h->graph, ao);
    state.counters["edges_in"] = static_cast<double>(g.edges.size());
    state.counters["edges_out"] = static_cast<double>(kept);
    state.counters["eps"] = audit.epsilon_achieved;
    state.SetLabel(h->exact_resistances ? "exact R" : "JL R");
}
BENCHMARK(BM_Sparsify)->Args({200, 160})->Args({1000, 200})->Unit(benchmark::kMillisecond);

// Baseline: keeping the same share of edges uniformly at random (reweighted
// by the inverse keep rate) -- cheap, but with no spectral guarantee; the
// audit's epsilon says what the resistance sampling buys.
void BM_Baseline_SparsifyUniform(benchmark::State& state) {
    const auto n = static_cast<std::uint32_t>(state.range(0));
    const CompactGraph g = connected_random_graph(n, static_cast<double>(state.range(1)), 0x5A + n);
    rvm::coherence::SparsifierOptions o;
    o.epsilon = 0.5;
    const double keep =
        static_cast<double>(rvm::coherence::sparsify(g, o)->graph.edges.size()) / static_cast<double>(g.edges.size());
    std::mt19937_64 rng(7);
    std::bernoulli_distribution take(keep);
    CompactGraph h;
    for (auto _ : state) {
        h = CompactGraph{};
        h.ids = g.ids;
        for (const auto& e : g.edges) {
            if (take(rng)) h.edges.push_back({e.u, e.v, e.weight / keep});
        }
        sink = static_cast<double>(h.edges.size());
    }
    rvm::coherence::AuditOptions ao;
    ao.spectral_max_vertices = 1000;
    state.counters["edges_out"] = static_cast<double>(h.edges.size());
    state.counters["eps"] = rvm::coherence::audit_sparsifier(g, h, ao).epsilon_achieved;
}
BENCHMARK(BM_Baseline_SparsifyUniform)->Args({200, 160})->Args({1000, 200})->Unit(benchmark::kMillisecond);

}  // namespace
