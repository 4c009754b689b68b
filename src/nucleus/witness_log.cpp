#include "nucleus/witness_log.hpp"

namespace rvm {

WitnessLog::WitnessLog(const KeyedHash& hash, const Clock& clock, const MacKey& master, WitnessSink* sink)
    : hash_(hash), clock_(clock), sink_(sink), master_(master), key_(segment_key(hash, master, 0)) {}

std::uint64_t WitnessLog::append(const WitnessEvent& event) {
    WitnessRecord r;
    r.raw.kind = event.kind;
    r.raw.proof_tier = event.proof_tier;
    r.raw.flags = event.flags;
    r.set_subject(event.subject);
    r.set_object(event.object);
    r.set_aux(event.aux);

    SpinGuard guard(lock_);
    r.raw.sequence = head_.next_sequence;
    r.raw.timestamp_ns = clock_.now_ns();
    r.set_chain_hash_before(head_.last_hash);
    const std::uint64_t h = compute_record_hash(hash_, key_, r);
    r.set_record_hash(h);
    head_.last_hash = h;
    ++head_.next_sequence;
    if (sink_ != nullptr) sink_->accept(r);
    if (head_.next_sequence % kWitnessSegmentRecords == 0) {
        const std::uint64_t next = head_.next_sequence / kWitnessSegmentRecords;
        if (sink_ != nullptr) sink_->segment_closed(next - 1, key_);
        key_ = segment_key(hash_, master_, next);
    }
    return r.raw.sequence;
}

WitnessHead WitnessLog::head() const {
    SpinGuard guard(lock_);
    return head_;
}

}  // namespace rvm
