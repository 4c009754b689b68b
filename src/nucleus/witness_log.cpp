#include "nucleus/witness_log.hpp"

namespace rvm {

WitnessLog::WitnessLog(const KeyedHash& hash, const Clock& clock, const MacKey& master, WitnessSink* sink)
    : hash_(hash), clock_(clock), sink_(sink), master_(master), key_(segment_key(hash, master, 0)) {
    if (sink_ != nullptr) sink_->attach(this);
}

WitnessLog::~WitnessLog() {
    close();
    if (sink_ != nullptr) sink_->attach(nullptr);
}

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
    if (head_.next_sequence - segment_first_ == kWitnessSegmentRecords) end_segment_locked(false);
    return r.raw.sequence;
}

void WitnessLog::end_segment() {
    SpinGuard guard(lock_);
    if (!closed_ && head_.next_sequence > segment_first_) end_segment_locked(false);
}

void WitnessLog::close() {
    SpinGuard guard(lock_);
    if (closed_) return;
    end_segment_locked(true);
    closed_ = true;
}

void WitnessLog::end_segment_locked(bool last) {
    if (sink_ != nullptr) {
        sink_->segment_ended(
            WitnessSegmentEnd{segment_, segment_first_, head_.next_sequence - segment_first_, key_, last});
    }
    ++segment_;
    segment_first_ = head_.next_sequence;
    key_ = segment_key(hash_, master_, segment_);
}

WitnessHead WitnessLog::head() const {
    SpinGuard guard(lock_);
    return head_;
}

bool WitnessLog::closed() const {
    SpinGuard guard(lock_);
    return closed_;
}

}  // namespace rvm
