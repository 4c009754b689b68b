// CoherenceObserver: feeds the coherence engine (src/coherence) from the
// running system -- one vertex per partition, each epoch the payload bytes
// each CommEdge moved -- and collects its split / merge / migrate proposals.
// It only observes: applying a proposal to running partitions (live
// reshaping) is not built yet, so every proposal is reported as such.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "coherence/graph.hpp"
#include "coherence/proposals.hpp"
#include "nucleus/handle.hpp"

namespace rvm::host {

struct EdgeTraffic {
    PartitionId from, to;
    std::uint64_t bytes = 0;  // moved in this epoch
};

class CoherenceObserver {
public:
    explicit CoherenceObserver(coherence::ProposalConfig cfg = {});

    void add_partition(PartitionId p, std::string name);
    // Closes one epoch; returns the proposals it produced, in words.
    std::vector<std::string> epoch(const std::vector<EdgeTraffic>& traffic);
    [[nodiscard]] const std::vector<std::string>& proposals() const { return all_; }

private:
    [[nodiscard]] std::string name(std::uint64_t v) const;

    coherence::Graph graph_;
    coherence::ProposalEngine engine_;
    std::map<std::uint64_t, std::string> names_;  // by vertex (= partition handle)
    std::uint64_t epoch_ = 0;
    std::vector<std::string> all_;
    std::set<std::string> seen_;
};

}  // namespace rvm::host
