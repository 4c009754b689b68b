// WitnessReader: a checked view of a witness file's bytes. It validates the
// header and walks the entries once (records, and seals recognized by their
// magic) to index the segments; it verifies nothing else (audit_witness's job).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "host/posix/posix_io.hpp"
#include "host/witness/witness_format.hpp"
#include "nucleus/result.hpp"
#include "nucleus/witness_record.hpp"

namespace rvm::host {

// Where a witness file is wrong: `index` is the record position or the seal's
// segment (see problem_site), `offset` the byte offset of that entry.
struct WitnessFault {
    WitnessProblem problem = WitnessProblem::kNone;
    std::uint64_t index = 0;
    std::uint64_t offset = 0;
};

// One segment as it stands in the file: its records, then its seal (unless
// it is the unsealed tail, always the last).
struct SegmentView {
    std::uint64_t first_record = 0;  // index of its first record
    std::uint64_t record_count = 0;
    std::uint64_t records_offset = 0;  // byte offset of its first record
    bool sealed = false;
    std::uint64_t seal_offset = 0;  // when sealed
};

class WitnessReader {
public:
    // Fails on a file above `max_bytes` or a bad header; a body cut inside an
    // entry is not an error here (see partial_bytes()).
    [[nodiscard]] static Result<WitnessReader, WitnessFault> open(std::span<const std::uint8_t> file,
                                                                  std::uint64_t max_bytes = kWitnessMaxFileBytes);

    [[nodiscard]] const WitnessFileHeader& header() const { return header_; }
    [[nodiscard]] std::span<const std::uint8_t, kWitnessHeaderBytes> header_bytes() const {
        return file_.first<kWitnessHeaderBytes>();
    }
    [[nodiscard]] const std::vector<SegmentView>& segments() const { return segments_; }
    [[nodiscard]] std::uint64_t record_count() const { return records_; }
    [[nodiscard]] std::uint64_t sealed_segments() const { return sealed_; }

    // Precondition: index < record_count(); view.sealed for seal().
    [[nodiscard]] std::uint64_t record_offset(std::uint64_t index) const;
    [[nodiscard]] WitnessRecord record(std::uint64_t index) const;
    [[nodiscard]] std::span<const std::uint8_t> record_bytes(const SegmentView& view) const;
    [[nodiscard]] WitnessSeal seal(const SegmentView& view) const;

    // Bytes at the end that are not a whole record or seal (a write cut off).
    [[nodiscard]] std::uint64_t partial_bytes() const { return file_.size() - partial_offset_; }
    [[nodiscard]] std::uint64_t partial_offset() const { return partial_offset_; }

private:
    WitnessReader(std::span<const std::uint8_t> file, const WitnessFileHeader& header) : file_(file), header_(header) {}
    void index();

    std::span<const std::uint8_t> file_;
    WitnessFileHeader header_;
    std::vector<SegmentView> segments_;
    std::uint64_t records_ = 0;
    std::uint64_t sealed_ = 0;
    std::uint64_t partial_offset_ = 0;
};

// Reads a witness file for verification: only a regular file (a FIFO or a
// device is refused before it is read: kOpen with EINVAL), whose size is
// checked against `max_bytes` first; the read itself stops at the limit too.
[[nodiscard]] Result<std::vector<std::uint8_t>, IoError> read_regular_file(const std::string& path,
                                                                           std::uint64_t max_bytes);

}  // namespace rvm::host
