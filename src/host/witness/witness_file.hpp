// WitnessFileWriter: the host's WitnessSink. Records and segment closings are
// copied into preallocated buffers under the log's lock; flush(), called by
// the host outside that lock, writes them, signs the seals and fsyncs.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "backend/unique_fd.hpp"
#include "host/posix/posix_io.hpp"
#include "host/witness/signing_key.hpp"
#include "host/witness/witness_seal.hpp"
#include "nucleus/spin_lock.hpp"
#include "nucleus/witness_log.hpp"

namespace rvm::host {

struct WitnessWriterOptions {
    // Records accepted between two flush() calls; more is an overflow error.
    std::size_t capacity_records = 4096;
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
    ~WitnessFileWriter() override;  // flushes; errors are lost, so flush() first

    // WitnessSink: called under the log's lock. Copies only; never blocks on I/O.
    void accept(const WitnessRecord& record) override;
    void segment_closed(std::uint64_t segment, const MacKey& key) override;

    // Writes everything accepted so far, seals closed segments, fsyncs. After
    // an error the writer stays failed: the file is a valid prefix up to the
    // last successful flush and nothing more is written to it.
    [[nodiscard]] Result<void, IoError> flush();

    // More than half the buffer is used: the host should flush soon.
    [[nodiscard]] bool wants_flush() const { return wants_flush_.load(std::memory_order_relaxed); }
    [[nodiscard]] const PublicKey& public_key() const { return keys_.public_key(); }

private:
    struct PendingSeal {
        std::uint64_t segment;
        MacKey key;
    };
    // Filled under lock_ by the sink calls, swapped out whole by flush().
    struct Batch {
        std::vector<WitnessRecord> records;
        std::size_t record_count = 0;
        std::vector<PendingSeal> seals;
        std::size_t seal_count = 0;
    };

    WitnessFileWriter(UniqueFd fd, SigningKeyPair keys, std::size_t capacity);
    [[nodiscard]] Result<void, IoError> encode_batch(const Batch& batch);

    UniqueFd fd_;
    SigningKeyPair keys_;
    std::size_t capacity_;

    SpinLock lock_;  // guards active_, next_sequence_, sink_error_
    Batch active_;
    std::uint64_t next_sequence_ = 0;
    std::uint64_t next_closed_segment_ = 0;
    bool sink_failed_ = false;
    IoError sink_error_{};
    std::atomic<bool> wants_flush_{false};

    std::mutex flush_mutex_;  // serializes flush(); guards everything below
    Batch spare_;
    std::vector<std::uint8_t> out_;
    std::uint64_t segment_ = 0;     // segment the next written record belongs to
    std::uint64_t in_segment_ = 0;  // records of segment_ already written
    SealDigest prev_digest_{};
    SegmentDigest digest_;
    bool failed_ = false;
    IoError error_{};
};

}  // namespace rvm::host
