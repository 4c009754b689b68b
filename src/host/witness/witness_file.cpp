#include "host/witness/witness_file.hpp"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <utility>

#include "host/witness/sodium_hash.hpp"

namespace rvm::host {

namespace {

// One seal per 64 records, plus one for a segment straddling two batches.
std::size_t seal_capacity(std::size_t records) { return records / kWitnessSegmentRecords + 2; }

}  // namespace

Result<std::unique_ptr<WitnessFileWriter>, IoError> WitnessFileWriter::create(const std::string& path,
                                                                              const SigningKeyPair& keys,
                                                                              WitnessWriterOptions options) {
    if (!sodium_ready()) return err(IoError{IoErrc::kCrypto, 0});
    auto fd = create_new_file(path, 0644, true);
    if (!fd) return err(fd.error());
    // From here on the file is ours (O_EXCL), so removing it on failure loses nothing.
    auto undo = [&path](IoError e) -> Result<std::unique_ptr<WitnessFileWriter>, IoError> {
        (void)::unlink(path.c_str());
        return err(e);
    };
    const HeaderBytes header = encode(make_header(keys.public_key().bytes));
    if (auto w = write_all(fd.value().get(), header); !w) return undo(w.error());
    if (::fsync(fd.value().get()) != 0) return undo(IoError{IoErrc::kSync, errno});
    if (auto p = save_public_key(path + ".pub", keys.public_key()); !p) return undo(p.error());
    if (auto d = sync_parent_dir(path); !d) return undo(d.error());
    const std::size_t capacity = std::max<std::size_t>(options.capacity_records, kWitnessSegmentRecords);
    return std::unique_ptr<WitnessFileWriter>(new WitnessFileWriter(std::move(fd.value()), keys.clone(), capacity));
}

WitnessFileWriter::WitnessFileWriter(UniqueFd fd, SigningKeyPair keys, std::size_t capacity)
    : fd_(std::move(fd)), keys_(std::move(keys)), capacity_(capacity), digest_(prev_digest_, 0) {
    for (Batch* b : {&active_, &spare_}) {
        b->records.resize(capacity_);
        b->seals.resize(seal_capacity(capacity_));
    }
    out_.reserve(capacity_ * kWitnessRecordBytes + seal_capacity(capacity_) * kWitnessSealBytes);
}

WitnessFileWriter::~WitnessFileWriter() { (void)flush(); }

void WitnessFileWriter::accept(const WitnessRecord& record) {
    SpinGuard guard(lock_);
    if (sink_failed_) return;
    if (record.sequence() != next_sequence_) {
        sink_failed_ = true;
        sink_error_ = IoError{IoErrc::kOutOfOrder, 0};
        return;
    }
    if (active_.record_count == capacity_) {
        sink_failed_ = true;
        sink_error_ = IoError{IoErrc::kOverflow, 0};
        return;
    }
    active_.records[active_.record_count++] = record;
    ++next_sequence_;
    if (active_.record_count * 2 > capacity_) wants_flush_.store(true, std::memory_order_relaxed);
}

void WitnessFileWriter::segment_closed(std::uint64_t segment, const MacKey& key) {
    SpinGuard guard(lock_);
    if (sink_failed_) return;
    const bool in_order = segment == next_closed_segment_ && next_sequence_ == (segment + 1) * kWitnessSegmentRecords;
    if (!in_order || active_.seal_count == active_.seals.size()) {
        sink_failed_ = true;
        sink_error_ = IoError{IoErrc::kOutOfOrder, 0};
        return;
    }
    active_.seals[active_.seal_count++] = PendingSeal{segment, key};
    ++next_closed_segment_;
}

Result<void, IoError> WitnessFileWriter::flush() {
    std::lock_guard<std::mutex> flush_guard(flush_mutex_);
    if (failed_) return err(error_);
    bool sink_failed = false;
    IoError sink_error{};
    {
        SpinGuard guard(lock_);
        std::swap(active_, spare_);
        active_.record_count = 0;
        active_.seal_count = 0;
        sink_failed = sink_failed_;
        sink_error = sink_error_;
        wants_flush_.store(false, std::memory_order_relaxed);
    }
    // What was accepted before a sink failure is still a valid prefix: write it.
    auto written = encode_batch(spare_);
    if (written && sink_failed) written = err(sink_error);
    if (!written) {
        failed_ = true;
        error_ = written.error();
    }
    return written;
}

Result<void, IoError> WitnessFileWriter::encode_batch(const Batch& batch) {
    out_.clear();
    std::size_t next_seal = 0;
    for (std::size_t i = 0; i < batch.record_count; ++i) {
        const auto bytes = batch.records[i].bytes();
        out_.insert(out_.end(), bytes.begin(), bytes.end());
        digest_.add(bytes);
        if (++in_segment_ < kWitnessSegmentRecords) continue;
        if (next_seal == batch.seal_count || batch.seals[next_seal].segment != segment_) {
            return err(IoError{IoErrc::kOutOfOrder, 0});
        }
        const SealDigest digest = digest_.finish();
        const SealBytes seal = encode(make_seal(keys_, segment_, prev_digest_, digest, batch.seals[next_seal].key));
        out_.insert(out_.end(), seal.begin(), seal.end());
        ++next_seal;
        prev_digest_ = digest;
        ++segment_;
        in_segment_ = 0;
        digest_ = SegmentDigest(prev_digest_, segment_);
    }
    if (next_seal != batch.seal_count) return err(IoError{IoErrc::kOutOfOrder, 0});
    if (out_.empty()) return {};
    RVM_TRY_VOID(write_all(fd_.get(), out_));
    if (::fdatasync(fd_.get()) != 0) return err(IoError{IoErrc::kSync, errno});
    return {};
}

}  // namespace rvm::host
