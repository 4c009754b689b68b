// WitnessLog: the append-only, keyed hash chain of every privileged action
// (DESIGN.md section 5). The nucleus computes the chain and cuts it into
// segments, each with its own chain key; persistence, the Ed25519 seals and
// the forward-secure MACs live in the host (host/witness), behind the sink.
#pragma once

#include <cstdint>

#include "nucleus/clock.hpp"
#include "nucleus/keyed_hash.hpp"
#include "nucleus/spin_lock.hpp"
#include "nucleus/witness_record.hpp"

namespace rvm {

class WitnessLog;

// The end of one segment: records [first_sequence, first_sequence +
// record_count) were chained with `key`. `last` marks the close of the log
// (the sealed end marker; record_count may then be 0).
struct WitnessSegmentEnd {
    std::uint64_t segment = 0;
    std::uint64_t first_sequence = 0;
    std::uint64_t record_count = 0;
    MacKey key;
    bool last = false;
};

// Receives each record in order, under the log's lock. accept() may wait
// (back-pressure: a full sink makes the appender wait for the disk) but must
// never drop a record silently.
class WitnessSink {
public:
    virtual ~WitnessSink() = default;
    virtual void accept(const WitnessRecord& record) = 0;
    // Called after the last record of a segment, under the log's lock.
    virtual void segment_ended(const WitnessSegmentEnd& end) { segment_closed(end.segment, end.key); }
    // The shorter form older sinks implement; segment_ended's default calls it.
    virtual void segment_closed(std::uint64_t segment, const MacKey& key) {
        (void)segment;
        (void)key;
    }
    // The log announces itself when it is built (so a sink can ask it to end a
    // segment by time) and calls attach(nullptr) when it is destroyed.
    virtual void attach(WitnessLog* log) { (void)log; }
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
    // Closes the log (close()) if that has not been done.
    ~WitnessLog();

    // Appends one record; safe under concurrent callers. Returns its sequence.
    // A segment ends by itself after kWitnessSegmentRecords records.
    std::uint64_t append(const WitnessEvent& event);

    // Ends the current segment now if it holds any record (the host seals by
    // time); the next record starts a segment with a fresh key.
    void end_segment();
    // Ends the last segment with the end marker. Idempotent; a record
    // appended afterwards is a caller bug that the sink reports.
    void close();

    [[nodiscard]] WitnessHead head() const;
    [[nodiscard]] bool closed() const;

private:
    void end_segment_locked(bool last);

    const KeyedHash& hash_;
    const Clock& clock_;
    WitnessSink* sink_;
    mutable SpinLock lock_;
    MacKey master_;
    MacKey key_;                       // segment_key(master_, segment_)
    std::uint64_t segment_ = 0;        // current segment
    std::uint64_t segment_first_ = 0;  // sequence of its first record
    bool closed_ = false;
    WitnessHead head_;
};

}  // namespace rvm
