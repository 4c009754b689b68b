// CoherenceObserver: feeds the coherence engine (src/coherence) from the
// running system -- one vertex per partition, grouped by the cell it lives
// in, each epoch the payload bytes each CommEdge moved -- and hands out its
// split / merge / migrate proposals. The runner applies them (live
// reshaping, AgentRunner::enable_coherence) or only reports them, and tells
// the observer where partitions actually are afterwards (set_cell).
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

    void add_partition(PartitionId p, std::string name, std::uint8_t cell);
    // Partition p lives in `cell` now.
    void set_cell(PartitionId p, std::uint8_t cell);

    struct Observed {
        coherence::Proposal proposal;
        std::string text;  // in words, with partition names
    };
    // Closes one epoch; returns the proposals due (see ProposalEngine).
    std::vector<Observed> epoch(const std::vector<EdgeTraffic>& traffic);
    // Records a line for proposals(); false if the same line was recorded
    // before (a proposal that is not applied comes back after every cooldown).
    bool record(const std::string& line);
    [[nodiscard]] const std::vector<std::string>& proposals() const { return all_; }
    [[nodiscard]] std::uint64_t epochs() const { return epoch_; }

private:
    [[nodiscard]] std::string name(std::uint64_t v) const;
    [[nodiscard]] std::string describe(const coherence::Proposal& p) const;

    coherence::Graph graph_;
    coherence::ProposalEngine engine_;
    std::map<std::uint64_t, std::string> names_;  // by vertex (= partition handle)
    std::uint64_t epoch_ = 0;
    std::vector<std::string> all_;
    std::set<std::string> seen_;
};

}  // namespace rvm::host
