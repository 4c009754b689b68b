#include "host/witness/witness_file.hpp"

#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <utility>

#include "host/posix/monotonic_clock.hpp"
#include "host/witness/sodium_hash.hpp"

namespace rvm::host {

namespace {

const Clock& default_clock() {
    static const MonotonicClock clock;
    return clock;
}

std::int64_t realtime_ns() {
    timespec ts{};
    (void)::clock_gettime(CLOCK_REALTIME, &ts);
    return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

// A segment holds at least one record (the end marker may hold none), so a
// batch never ends more segments than it holds records, plus the end marker.
std::size_t seal_capacity(std::size_t records) { return records + 2; }

}  // namespace

Result<std::unique_ptr<WitnessFileWriter>, IoError> WitnessFileWriter::create(const std::string& path,
                                                                              const SigningKeyPair& keys,
                                                                              WitnessWriterOptions options) {
    if (!sodium_ready()) return err(IoError{IoErrc::kCrypto, 0});
    const Clock& clock = options.clock != nullptr ? *options.clock : default_clock();
    const std::int64_t offset =
        options.clock_offset_ns.value_or(realtime_ns() - static_cast<std::int64_t>(clock.now_ns()));
    if (options.forward_secure) {
        // Start in the current epoch: keys of earlier epochs are never used again.
        std::uint64_t epoch = 0;
        const auto now = static_cast<std::int64_t>(clock.now_ns()) + offset;
        if (now < 0 || !fss_epoch_of(options.forward_secure->params(), static_cast<std::uint64_t>(now), epoch)) {
            return err(IoError{IoErrc::kBadKeyFile, 0});  // the sealing state starts in the future
        }
        RVM_TRY_VOID(options.forward_secure->evolve_to(epoch));
    }
    auto fd = create_new_file(path, 0644, true);
    if (!fd) return err(fd.error());
    // From here on the file is ours (O_EXCL), so removing it on failure loses nothing.
    auto undo = [&path](IoError e) -> Result<std::unique_ptr<WitnessFileWriter>, IoError> {
        (void)::unlink(path.c_str());
        return err(e);
    };
    const std::uint32_t flags = options.forward_secure ? kHeaderForwardSecure : 0;
    const HeaderBytes header = encode(make_header(keys.public_key().bytes, flags));
    if (auto w = write_all(fd.value().get(), header); !w) return undo(w.error());
    if (::fsync(fd.value().get()) != 0) return undo(IoError{IoErrc::kSync, errno});
    if (auto p = save_public_key(path + ".pub", keys.public_key()); !p) return undo(p.error());
    if (auto d = sync_parent_dir(path); !d) return undo(d.error());
    options.capacity_records = std::max<std::size_t>(options.capacity_records, 64);
    return std::unique_ptr<WitnessFileWriter>(new WitnessFileWriter(
        std::move(fd.value()), keys.clone(), std::move(options), clock, offset, head_digest(header)));
}

WitnessFileWriter::WitnessFileWriter(UniqueFd fd, SigningKeyPair keys, WitnessWriterOptions options, const Clock& clock,
                                     std::int64_t offset, const SealDigest& head)
    : fd_(std::move(fd)),
      keys_(std::move(keys)),
      options_(std::move(options)),
      clock_(clock),
      clock_offset_ns_(offset),
      prev_digest_(head),
      digest_(head, 0) {
    for (Batch* b : {&active_, &spare_}) {
        b->records.resize(options_.capacity_records);
        b->seals.resize(seal_capacity(options_.capacity_records));
    }
    out_.reserve(options_.capacity_records * kWitnessRecordBytes + 4 * kWitnessSealBytes);
    if (options_.forward_secure) fss_epoch_.store(options_.forward_secure->epoch());
}

WitnessFileWriter::~WitnessFileWriter() {
    if (write_pending().ok() && options_.sync != WitnessSync::kNone) (void)::fdatasync(fd_.get());
}

void WitnessFileWriter::fail_sink(IoErrc code) {
    sink_failed_ = true;
    sink_error_ = IoError{code, 0};
    wants_flush_.store(true, std::memory_order_relaxed);
}

void WitnessFileWriter::accept(const WitnessRecord& record) {
    for (;;) {
        {
            SpinGuard guard(lock_);
            if (sink_failed_ || failed()) return;
            if (log_closed_ || record.sequence() != next_sequence_) return fail_sink(IoErrc::kOutOfOrder);
            if (active_.record_count < active_.records.size()) {
                active_.records[active_.record_count++] = record;
                ++next_sequence_;
                if (!unsealed_.load(std::memory_order_relaxed)) {
                    unsealed_since_.store(record.timestamp_ns(), std::memory_order_relaxed);
                    unsealed_.store(true, std::memory_order_release);
                }
                if (active_.record_count * 2 > active_.records.size()) {
                    wants_flush_.store(true, std::memory_order_relaxed);
                }
                return;
            }
        }
        // Back-pressure: the buffer is full, so this appender (and, behind the
        // log's lock, every other) waits while it writes the batch itself.
        waits_.fetch_add(1, std::memory_order_relaxed);
        (void)write_pending();
    }
}

void WitnessFileWriter::segment_ended(const WitnessSegmentEnd& end) {
    for (;;) {
        {
            SpinGuard guard(lock_);
            if (sink_failed_ || failed()) return;
            const bool in_order =
                !log_closed_ && end.segment == next_segment_ && end.first_sequence == segment_first_ &&
                end.first_sequence + end.record_count == next_sequence_ && (end.record_count > 0 || end.last);
            if (!in_order) return fail_sink(IoErrc::kOutOfOrder);
            if (active_.seal_count < active_.seals.size()) {
                active_.seals[active_.seal_count++] = PendingSeal{end, active_.record_count};
                ++next_segment_;
                segment_first_ = next_sequence_;
                log_closed_ = end.last;
                unsealed_.store(false, std::memory_order_relaxed);
                wants_flush_.store(true, std::memory_order_relaxed);
                return;
            }
        }
        waits_.fetch_add(1, std::memory_order_relaxed);
        (void)write_pending();
    }
}

void WitnessFileWriter::attach(WitnessLog* log) { log_.store(log, std::memory_order_release); }

bool WitnessFileWriter::seal_due(std::uint64_t now) const {
    if (!unsealed_.load(std::memory_order_acquire)) return false;
    const std::uint64_t since = unsealed_since_.load(std::memory_order_relaxed);
    return now >= since && now - since >= options_.seal_interval_ns;
}

bool WitnessFileWriter::epoch_due(std::uint64_t now) const {
    if (!options_.forward_secure) return false;
    const std::int64_t wall = static_cast<std::int64_t>(now) + clock_offset_ns_;
    std::uint64_t epoch = 0;
    return wall >= 0 && fss_epoch_of(options_.forward_secure->params(), static_cast<std::uint64_t>(wall), epoch) &&
           epoch > fss_epoch_.load(std::memory_order_relaxed);
}

bool WitnessFileWriter::wants_flush() const {
    if (wants_flush_.load(std::memory_order_relaxed)) return true;
    const std::uint64_t now = clock_.now_ns();
    return seal_due(now) || epoch_due(now);
}

Result<void, IoError> WitnessFileWriter::flush() {
    RVM_TRY_VOID(write_pending());
    WitnessLog* log = log_.load(std::memory_order_acquire);
    if (log == nullptr) return {};
    // `now` is read before the segment ends: every record after it is stamped
    // no earlier, so it belongs to the epoch of `now` or a later one.
    const std::uint64_t now = clock_.now_ns();
    const bool epoch_changed = epoch_due(now);
    if (!seal_due(now) && !epoch_changed) return {};
    log->end_segment();
    RVM_TRY_VOID(write_pending());
    if (!epoch_changed) return {};
    std::lock_guard<std::mutex> guard(flush_mutex_);
    if (failed()) return err(error_);
    std::uint64_t epoch = 0;
    const auto wall = static_cast<std::uint64_t>(static_cast<std::int64_t>(now) + clock_offset_ns_);
    if (fss_epoch_of(options_.forward_secure->params(), wall, epoch)) {
        auto evolved = options_.forward_secure->evolve_to(epoch);
        fss_epoch_.store(options_.forward_secure->epoch(), std::memory_order_relaxed);
        if (!evolved) {
            error_ = evolved.error();
            failed_flag_.store(true, std::memory_order_release);
            return err(error_);
        }
    }
    return {};
}

Result<void, IoError> WitnessFileWriter::close() {
    if (WitnessLog* log = log_.load(std::memory_order_acquire); log != nullptr) log->close();
    RVM_TRY_VOID(write_pending());
    std::lock_guard<std::mutex> guard(flush_mutex_);
    if (failed()) return err(error_);
    if (options_.sync != WitnessSync::kNone && ::fdatasync(fd_.get()) != 0) {
        error_ = IoError{IoErrc::kSync, errno};
        failed_flag_.store(true, std::memory_order_release);
        return err(error_);
    }
    return {};
}

std::optional<IoError> WitnessFileWriter::error() const {
    std::lock_guard<std::mutex> guard(flush_mutex_);
    if (!failed()) return std::nullopt;
    return error_;
}

WitnessWriterStats WitnessFileWriter::stats() const {
    std::lock_guard<std::mutex> guard(flush_mutex_);
    return WitnessWriterStats{records_written_, seals_written_, waits_.load(std::memory_order_relaxed)};
}

Result<void, IoError> WitnessFileWriter::write_pending() {
    std::lock_guard<std::mutex> flush_guard(flush_mutex_);
    if (failed()) return err(error_);
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
    bool sealed = false;
    const std::uint64_t records_before = records_written_;
    const std::uint64_t seals_before = seals_written_;
    auto written = encode_batch(spare_, sealed);
    if (written && !out_.empty()) written = write_all(fd_.get(), out_);
    const bool sync = options_.sync == WitnessSync::kAlways || (options_.sync == WitnessSync::kSeal && sealed);
    if (written && !out_.empty() && sync && ::fdatasync(fd_.get()) != 0) written = err(IoError{IoErrc::kSync, errno});
    if (written && sink_failed) written = err(sink_error);
    if (!written) {
        records_written_ = records_before;
        seals_written_ = seals_before;
        error_ = written.error();
        failed_flag_.store(true, std::memory_order_release);
    }
    return written;
}

Result<void, IoError> WitnessFileWriter::append_seal(const PendingSeal& p) {
    const WitnessSegmentEnd& end = p.end;
    if (end.segment != segment_ || end.record_count != in_segment_ ||
        end.first_sequence + end.record_count != records_written_) {
        return err(IoError{IoErrc::kOutOfOrder, 0});
    }
    SealContent c;
    c.segment = end.segment;
    c.first_sequence = end.first_sequence;
    c.record_count = static_cast<std::uint32_t>(end.record_count);
    c.last = end.last;
    c.prev = prev_digest_;
    c.digest = digest_.finish();
    c.key = end.key;
    c.clock_offset_ns = clock_offset_ns_;
    WitnessSeal seal;
    if (FssSealingState* fs = options_.forward_secure.get(); fs != nullptr) {
        // The seal's epoch is that of its first record (the verifier checks
        // it): a key erased once its epoch ended can never seal those records.
        std::uint64_t epoch = fs->epoch();
        if (end.record_count > 0) {
            const std::int64_t wall = static_cast<std::int64_t>(segment_first_ts_) + clock_offset_ns_;
            if (wall < 0 || !fss_epoch_of(fs->params(), static_cast<std::uint64_t>(wall), epoch) ||
                epoch < fs->epoch()) {
                return err(IoError{IoErrc::kOutOfOrder, 0});
            }
            RVM_TRY_VOID(fs->evolve_to(epoch));
            fss_epoch_.store(fs->epoch(), std::memory_order_relaxed);
        }
        FssSecret key = fs->epoch_key();
        seal = make_seal(keys_, c, &key, epoch);
        sodium_memzero(key.data(), key.size());
    } else {
        seal = make_seal(keys_, c, nullptr, 0);
    }
    const SealBytes bytes = encode(seal);
    out_.insert(out_.end(), bytes.begin(), bytes.end());
    prev_digest_ = seal.digest;
    ++segment_;
    ++seals_written_;
    in_segment_ = 0;
    digest_ = SegmentDigest(prev_digest_, segment_);
    return {};
}

Result<void, IoError> WitnessFileWriter::encode_batch(const Batch& batch, bool& sealed) {
    out_.clear();
    std::size_t r = 0;
    // Records [from, to) of the batch join the open segment: one copy and one
    // digest update per run (BLAKE2b is cheaper on long inputs).
    auto add_run = [&](std::size_t from, std::size_t to) {
        if (from == to) return;
        if (in_segment_ == 0) segment_first_ts_ = batch.records[from].timestamp_ns();
        const std::size_t at = out_.size();
        for (std::size_t i = from; i < to; ++i) {
            const auto bytes = batch.records[i].bytes();
            out_.insert(out_.end(), bytes.begin(), bytes.end());
        }
        digest_.add(std::span<const std::uint8_t>(out_.data() + at, out_.size() - at));
        in_segment_ += to - from;
        records_written_ += to - from;
    };
    for (std::size_t s = 0; s < batch.seal_count; ++s) {
        const PendingSeal& p = batch.seals[s];
        add_run(r, p.position);
        r = p.position;
        RVM_TRY_VOID(append_seal(p));
        sealed = true;
    }
    add_run(r, batch.record_count);
    return {};
}

}  // namespace rvm::host
