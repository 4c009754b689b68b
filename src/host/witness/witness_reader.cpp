#include "host/witness/witness_reader.hpp"

#include <algorithm>

namespace rvm::host {

Result<WitnessReader, WitnessFault> WitnessReader::open(std::span<const std::uint8_t> file, std::uint64_t max_bytes) {
    if (file.size() > max_bytes) return err(WitnessFault{WitnessProblem::kTooLarge, 0, max_bytes});
    const WitnessLayout layout = compute_layout(file.size());
    if (layout.end == WitnessLayout::End::kNoHeader) return err(WitnessFault{WitnessProblem::kTruncatedHeader, 0, 0});
    const WitnessFileHeader h = decode_header(file.first<kWitnessHeaderBytes>());
    // Each check names the first bad field's offset; nothing here is a length
    // the reader would act on: every value must equal the one constant we support.
    if (h.magic != kWitnessFileMagic) return err(WitnessFault{WitnessProblem::kBadMagic, 0, 0});
    if (h.version != kWitnessFormatVersion) return err(WitnessFault{WitnessProblem::kBadVersion, 0, 8});
    if (h.header_size != kWitnessHeaderBytes) return err(WitnessFault{WitnessProblem::kBadHeader, 0, 12});
    if (h.records_per_segment != kWitnessSegmentRecords) return err(WitnessFault{WitnessProblem::kBadHeader, 0, 16});
    if (h.record_size != kWitnessRecordBytes) return err(WitnessFault{WitnessProblem::kBadHeader, 0, 20});
    if (h.seal_size != kWitnessSealBytes) return err(WitnessFault{WitnessProblem::kBadHeader, 0, 24});
    if (h.reserved != 0) return err(WitnessFault{WitnessProblem::kBadHeader, 0, 28});
    return WitnessReader(file, h, layout);
}

WitnessRecord WitnessReader::record(std::uint64_t index) const {
    RVM_ASSERT(index < layout_.records);
    return WitnessRecord::from_bytes(file_.subspan(record_offset(index)).first<kWitnessRecordBytes>());
}

std::span<const std::uint8_t> WitnessReader::segment_bytes(std::uint64_t segment) const {
    RVM_ASSERT(segment < layout_.sealed_segments);
    return file_.subspan(record_offset(segment * kWitnessSegmentRecords), kWitnessSegmentBytes);
}

WitnessSeal WitnessReader::seal(std::uint64_t segment) const {
    RVM_ASSERT(segment < layout_.sealed_segments);
    return decode_seal(file_.subspan(seal_offset(segment)).first<kWitnessSealBytes>());
}

WitnessFault WitnessReader::end_fault() const {
    switch (layout_.end) {
        case WitnessLayout::End::kTruncatedRecord:
            return WitnessFault{WitnessProblem::kTruncatedRecord, layout_.records, layout_.end_offset};
        case WitnessLayout::End::kTruncatedSeal:
            return WitnessFault{WitnessProblem::kTruncatedSeal, layout_.sealed_segments, layout_.end_offset};
        case WitnessLayout::End::kNoHeader: return WitnessFault{WitnessProblem::kTruncatedHeader, 0, 0};
        case WitnessLayout::End::kClean: break;
    }
    return WitnessFault{};
}

}  // namespace rvm::host
