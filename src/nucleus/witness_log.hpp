// WitnessLog: the append-only, keyed hash chain of every privileged action
// (DESIGN.md section 5). The nucleus computes the chain; persistence and the
// Ed25519 segment seals live in the host (host/witness_file), behind the sink.
#pragma once

#include <cstdint>

#include "nucleus/clock.hpp"
#include "nucleus/keyed_hash.hpp"
#include "nucleus/spin_lock.hpp"
#include "nucleus/witness_record.hpp"

namespace rvm {

// Receives each record in order, under the log's lock: implementations must
// not block (copy into a preallocated buffer and return).
class WitnessSink {
public:
    virtual ~WitnessSink() = default;
    virtual void accept(const WitnessRecord& record) = 0;
    // Called after the last record of segment `segment` with the key that
    // chained it, so the sealer can sign the segment and disclose the key.
    virtual void segment_closed(std::uint64_t segment, const MacKey& key) = 0;
};

struct WitnessHead {
    std::uint64_t next_sequence = 0;  // == number of records appended
    std::uint64_t last_hash = 0;      // record_hash of the last record (0 when empty)
    friend bool operator==(const WitnessHead&, const WitnessHead&) = default;
};

class WitnessLog {
public:
    // Segment s is chained with segment_key(master, s). `sink` may be null
    // (records are chained and dropped).
    WitnessLog(const KeyedHash& hash, const Clock& clock, const MacKey& master, WitnessSink* sink);
    WitnessLog(const WitnessLog&) = delete;
    WitnessLog& operator=(const WitnessLog&) = delete;

    // Appends one record; safe under concurrent callers. Returns its sequence.
    std::uint64_t append(const WitnessEvent& event);

    [[nodiscard]] WitnessHead head() const;

private:
    const KeyedHash& hash_;
    const Clock& clock_;
    WitnessSink* sink_;
    mutable SpinLock lock_;
    MacKey master_;
    MacKey key_;  // segment_key(master_, current segment)
    WitnessHead head_;
};

}  // namespace rvm
