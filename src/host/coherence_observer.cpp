#include "host/coherence_observer.hpp"

#include <fmt/format.h>

#include <type_traits>
#include <variant>

namespace rvm::host {

CoherenceObserver::CoherenceObserver(coherence::ProposalConfig cfg) : engine_(std::move(cfg)) {}

void CoherenceObserver::add_partition(PartitionId p, std::string name) {
    // Each partition starts as its own group (a vertex's group is its partition).
    (void)graph_.add_vertex(p.raw(), p.raw());
    names_[p.raw()] = std::move(name);
}

std::string CoherenceObserver::name(std::uint64_t v) const {
    const auto it = names_.find(v);
    return it != names_.end() ? it->second : fmt::format("{:#x}", v);
}

std::vector<std::string> CoherenceObserver::epoch(const std::vector<EdgeTraffic>& traffic) {
    ++epoch_;
    for (const EdgeTraffic& t : traffic) {
        if (t.bytes != 0) (void)graph_.observe(t.from.raw(), t.to.raw(), static_cast<double>(t.bytes));
    }
    graph_.end_epoch();
    std::vector<std::string> fresh;
    for (const coherence::Proposal& p : engine_.step(graph_)) {
        std::visit(
            [&](const auto& q) {
                using T = std::decay_t<decltype(q)>;
                if constexpr (std::is_same_v<T, coherence::MergeProposal>) {
                    fresh.push_back(fmt::format("merge {} + {} (merged coherence {:.2f})", name(q.a), name(q.b),
                                                q.merged_coherence));
                } else if constexpr (std::is_same_v<T, coherence::MigrateProposal>) {
                    fresh.push_back(fmt::format("migrate {} from {} to {} ({:.0f} % of its traffic)", name(q.vertex),
                                                name(q.from), name(q.to), q.share * 100));
                } else {
                    fresh.push_back(fmt::format("split {} into {} parts (coherence {:.2f})", name(q.partition),
                                                q.parts.size(), q.coherence));
                }
            },
            p);
    }
    // Not applied, a proposal comes back after every cooldown: report each
    // one once, with the epoch it was first made in.
    std::vector<std::string> out;
    for (std::string& f : fresh) {
        if (!seen_.insert(f).second) continue;
        out.push_back(fmt::format("epoch {}: {}", epoch_, f));
        all_.push_back(out.back());
    }
    return out;
}

}  // namespace rvm::host
