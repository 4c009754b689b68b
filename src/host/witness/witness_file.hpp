// WitnessFileWriter: the host's WitnessSink. Records and segment ends are
// copied into preallocated buffers under the log's lock; flush(), called by
// the host's supervisor loop, writes them, seals by time, evolves the
// forward-secure key and syncs. A full buffer makes the appender write it
// itself (back-pressure): records are never dropped. Any write error is
// sticky (failed()) and the run must stop.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "backend/unique_fd.hpp"
#include "host/posix/posix_io.hpp"
#include "host/witness/forward_secure.hpp"
#include "host/witness/signing_key.hpp"
#include "host/witness/witness_seal.hpp"
#include "nucleus/clock.hpp"
#include "nucleus/spin_lock.hpp"
#include "nucleus/witness_log.hpp"

namespace rvm::host {

// When the writer makes what it wrote durable (fdatasync). Records reach the
// file (the page cache: they survive kill -9) at every write, whatever the policy.
enum class WitnessSync : std::uint8_t {
    kNone,    // never: a power loss may lose what the kernel had not written back
    kSeal,    // after every write that contains a seal, and at close (default)
    kAlways,  // after every write
};

struct WitnessWriterOptions {
    // Records buffered between two writes; a full buffer is written by the
    // appender itself (it waits for the disk; nothing is dropped).
    std::size_t capacity_records = 4096;
    // A segment holding records is sealed once its first record is this old.
    std::uint64_t seal_interval_ns = 100'000'000;
    WitnessSync sync = WitnessSync::kSeal;
    // The clock the log stamps records with; null: CLOCK_MONOTONIC.
    const Clock* clock = nullptr;
    // Wall-clock ns minus `clock` ns, written into every seal; null: measured
    // at create() (CLOCK_REALTIME - clock). Forward-secure epochs use it.
    std::optional<std::int64_t> clock_offset_ns;
    // Forward-secure sealing: every seal gets the MAC of its epoch's key, and
    // the state (and its file) evolves as epochs pass.
    std::unique_ptr<FssSealingState> forward_secure;
};

struct WitnessWriterStats {
    std::uint64_t records = 0;  // written to the file
    std::uint64_t seals = 0;
    std::uint64_t waits = 0;  // appends that had to write a full buffer first
};

class WitnessFileWriter final : public WitnessSink {
public:
    // Creates `path` (never overwrites) with its header, and `path`.pub with
    // the public key as hex. Either both exist afterwards or neither.
    [[nodiscard]] static Result<std::unique_ptr<WitnessFileWriter>, IoError> create(const std::string& path,
                                                                                    const SigningKeyPair& keys,
                                                                                    WitnessWriterOptions options = {});

    WitnessFileWriter(const WitnessFileWriter&) = delete;
    WitnessFileWriter& operator=(const WitnessFileWriter&) = delete;
    // Writes what is pending (the end marker too, if the log was closed);
    // errors go to failed(), so call close() or flush() first to see them.
    // Destroy the WitnessLog before its writer.
    ~WitnessFileWriter() override;

    // WitnessSink: called under the log's lock.
    void accept(const WitnessRecord& record) override;
    void segment_ended(const WitnessSegmentEnd& end) override;
    void attach(WitnessLog* log) override;

    // Writes everything accepted so far; seals the open segment if its first
    // record is seal_interval_ns old (or a forward-secure epoch ended), and
    // evolves the forward-secure key. Call it whenever wants_flush() is true
    // (the supervisor loop polls every few ms).
    [[nodiscard]] Result<void, IoError> flush();
    // Closes the attached log (the sealed end marker), writes, syncs. After
    // close() the file verifies as complete.
    [[nodiscard]] Result<void, IoError> close();

    // Half the buffer is used, or a seal or key evolution is due.
    [[nodiscard]] bool wants_flush() const;
    // A write failed (ENOSPC, EIO, ...) or the sink was misused: the file is a
    // valid prefix up to the last successful write, nothing more is written.
    [[nodiscard]] bool failed() const { return failed_flag_.load(std::memory_order_acquire); }
    [[nodiscard]] std::optional<IoError> error() const;
    [[nodiscard]] WitnessWriterStats stats() const;
    [[nodiscard]] const PublicKey& public_key() const { return keys_.public_key(); }

private:
    struct PendingSeal {
        WitnessSegmentEnd end;
        std::size_t position;  // records of the batch written before this seal
    };
    // Filled under lock_ by the sink calls, swapped out whole by write_pending().
    struct Batch {
        std::vector<WitnessRecord> records;
        std::size_t record_count = 0;
        std::vector<PendingSeal> seals;
        std::size_t seal_count = 0;
    };

    WitnessFileWriter(UniqueFd fd, SigningKeyPair keys, WitnessWriterOptions options, const Clock& clock,
                      std::int64_t offset, const SealDigest& head);
    [[nodiscard]] Result<void, IoError> write_pending();
    [[nodiscard]] Result<void, IoError> encode_batch(const Batch& batch, bool& sealed);
    [[nodiscard]] Result<void, IoError> append_seal(const PendingSeal& p);
    [[nodiscard]] bool seal_due(std::uint64_t now) const;
    [[nodiscard]] bool epoch_due(std::uint64_t now) const;
    void fail_sink(IoErrc code);

    UniqueFd fd_;
    SigningKeyPair keys_;
    WitnessWriterOptions options_;
    const Clock& clock_;
    std::int64_t clock_offset_ns_;
    std::atomic<WitnessLog*> log_{nullptr};

    SpinLock lock_;  // guards active_ and the sink-side counters
    Batch active_;
    std::uint64_t next_sequence_ = 0;
    std::uint64_t next_segment_ = 0;
    std::uint64_t segment_first_ = 0;
    bool log_closed_ = false;
    bool sink_failed_ = false;
    IoError sink_error_{};
    std::atomic<bool> wants_flush_{false};
    std::atomic<bool> unsealed_{false};             // the open segment holds records
    std::atomic<std::uint64_t> unsealed_since_{0};  // timestamp of its first record
    std::atomic<std::uint64_t> fss_epoch_{0};       // epoch of the sealing state
    std::atomic<std::uint64_t> waits_{0};

    mutable std::mutex flush_mutex_;  // serializes writes; guards everything below
    Batch spare_;
    std::vector<std::uint8_t> out_;
    std::uint64_t segment_ = 0;     // segment the next written record belongs to
    std::uint64_t in_segment_ = 0;  // records of segment_ already encoded
    std::uint64_t segment_first_ts_ = 0;
    SealDigest prev_digest_{};
    SegmentDigest digest_;
    std::uint64_t records_written_ = 0;
    std::uint64_t seals_written_ = 0;
    std::atomic<bool> failed_flag_{false};
    IoError error_{};
};

}  // namespace rvm::host
