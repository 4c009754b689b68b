#include "host/runtime/coherence_observer.hpp"

#include <fmt/format.h>

#include <type_traits>
#include <variant>

namespace rvm::host {

CoherenceObserver::CoherenceObserver(coherence::ProposalConfig cfg) : engine_(std::move(cfg)) {}

void CoherenceObserver::add_partition(PartitionId p, std::string name, std::uint8_t cell) {
    (void)graph_.add_vertex(p.raw(), cell);
    names_[p.raw()] = std::move(name);
}

void CoherenceObserver::set_cell(PartitionId p, std::uint8_t cell) { (void)graph_.set_group(p.raw(), cell); }

std::string CoherenceObserver::name(std::uint64_t v) const {
    const auto it = names_.find(v);
    return it != names_.end() ? it->second : fmt::format("{:#x}", v);
}

std::string CoherenceObserver::describe(const coherence::Proposal& p) const {
    return std::visit(
        [&](const auto& q) -> std::string {
            using T = std::decay_t<decltype(q)>;
            if constexpr (std::is_same_v<T, coherence::MergeProposal>) {
                return fmt::format("merge cells {} + {} (merged coherence {:.2f})", q.a, q.b, q.merged_coherence);
            } else if constexpr (std::is_same_v<T, coherence::MigrateProposal>) {
                return fmt::format("migrate {} from cell {} to cell {} ({:.0f} % of its traffic)", name(q.vertex),
                                   q.from, q.to, q.share * 100);
            } else {
                return fmt::format("split cell {} into {} parts (coherence {:.2f})", q.partition, q.parts.size(),
                                   q.coherence);
            }
        },
        p);
}

std::vector<CoherenceObserver::Observed> CoherenceObserver::epoch(const std::vector<EdgeTraffic>& traffic) {
    ++epoch_;
    for (const EdgeTraffic& t : traffic) {
        if (t.bytes != 0) (void)graph_.observe(t.from.raw(), t.to.raw(), static_cast<double>(t.bytes));
    }
    graph_.end_epoch();
    std::vector<Observed> out;
    for (coherence::Proposal& p : engine_.step(graph_)) {
        std::string text = describe(p);
        out.push_back(Observed{std::move(p), std::move(text)});
    }
    return out;
}

bool CoherenceObserver::record(const std::string& line) {
    if (!seen_.insert(line).second) return false;
    all_.push_back(fmt::format("epoch {}: {}", epoch_, line));
    return true;
}

}  // namespace rvm::host
