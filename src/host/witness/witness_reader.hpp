// WitnessReader: a checked view of a witness file's bytes. It validates the
// header and derives the layout from the size; it decodes records and seals
// but verifies nothing else (that is audit_witness's job).
#pragma once

#include <cstdint>
#include <span>

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

class WitnessReader {
public:
    // Fails on a file above `max_bytes` or a bad header; a truncated body is
    // not an error here (see end_fault()).
    [[nodiscard]] static Result<WitnessReader, WitnessFault> open(std::span<const std::uint8_t> file,
                                                                  std::uint64_t max_bytes = kWitnessMaxFileBytes);

    [[nodiscard]] const WitnessFileHeader& header() const { return header_; }
    [[nodiscard]] const WitnessLayout& layout() const { return layout_; }
    // Complete records in the file; seals exist for segments < sealed_segments().
    [[nodiscard]] std::uint64_t record_count() const { return layout_.records; }
    [[nodiscard]] std::uint64_t sealed_segments() const { return layout_.sealed_segments; }

    // Precondition: index < record_count() / segment < sealed_segments().
    [[nodiscard]] WitnessRecord record(std::uint64_t index) const;
    [[nodiscard]] std::span<const std::uint8_t> segment_bytes(std::uint64_t segment) const;
    [[nodiscard]] WitnessSeal seal(std::uint64_t segment) const;

    // How the file ends when it does not end cleanly (kNone if it does).
    [[nodiscard]] WitnessFault end_fault() const;

private:
    WitnessReader(std::span<const std::uint8_t> file, const WitnessFileHeader& header, const WitnessLayout& layout)
        : file_(file), header_(header), layout_(layout) {}

    std::span<const std::uint8_t> file_;
    WitnessFileHeader header_;
    WitnessLayout layout_;
};

}  // namespace rvm::host
