#include "host/witness/witness_format.hpp"

#include <algorithm>

namespace rvm::host {

WitnessFileHeader make_header(std::span<const std::uint8_t, 32> public_key) {
    WitnessFileHeader h{};
    h.magic = kWitnessFileMagic;
    h.version = kWitnessFormatVersion;
    h.header_size = static_cast<std::uint32_t>(kWitnessHeaderBytes);
    h.records_per_segment = static_cast<std::uint32_t>(kWitnessSegmentRecords);
    h.record_size = static_cast<std::uint32_t>(kWitnessRecordBytes);
    h.seal_size = static_cast<std::uint32_t>(kWitnessSealBytes);
    std::copy(public_key.begin(), public_key.end(), h.public_key.begin());
    return h;
}

WitnessFileHeader decode_header(std::span<const std::uint8_t, kWitnessHeaderBytes> b) {
    HeaderBytes raw{};
    std::copy(b.begin(), b.end(), raw.begin());
    return std::bit_cast<WitnessFileHeader>(raw);
}

WitnessSeal decode_seal(std::span<const std::uint8_t, kWitnessSealBytes> b) {
    SealBytes raw{};
    std::copy(b.begin(), b.end(), raw.begin());
    return std::bit_cast<WitnessSeal>(raw);
}

WitnessLayout compute_layout(std::uint64_t file_size) {
    WitnessLayout l;
    if (file_size < kWitnessHeaderBytes) {
        l.end = WitnessLayout::End::kNoHeader;
        return l;
    }
    const std::uint64_t body = file_size - kWitnessHeaderBytes;
    l.sealed_segments = body / kWitnessGroupBytes;
    const std::uint64_t rest = body % kWitnessGroupBytes;
    const std::uint64_t base = l.sealed_segments * kWitnessSegmentRecords;
    if (rest >= kWitnessSegmentBytes) {
        // A full segment without a complete seal: the seal was cut off.
        l.records = base + kWitnessSegmentRecords;
        l.end = WitnessLayout::End::kTruncatedSeal;
        l.end_offset = seal_offset(l.sealed_segments);
        return l;
    }
    l.records = base + rest / kWitnessRecordBytes;
    if (rest % kWitnessRecordBytes != 0) {
        l.end = WitnessLayout::End::kTruncatedRecord;
        l.end_offset = record_offset(l.records);
    }
    return l;
}

WitnessSite problem_site(WitnessProblem p) {
    switch (p) {
        case WitnessProblem::kNone: return WitnessSite::kNone;
        case WitnessProblem::kTooLarge: return WitnessSite::kFile;
        case WitnessProblem::kTruncatedHeader:
        case WitnessProblem::kBadMagic:
        case WitnessProblem::kBadVersion:
        case WitnessProblem::kBadHeader:
        case WitnessProblem::kHeaderKeyNotTrusted: return WitnessSite::kHeader;
        case WitnessProblem::kTruncatedRecord:
        case WitnessProblem::kSequenceMismatch:
        case WitnessProblem::kUnknownKind:
        case WitnessProblem::kReservedNonZero:
        case WitnessProblem::kTimestampBackwards:
        case WitnessProblem::kChainBreak:
        case WitnessProblem::kRecordHashMismatch: return WitnessSite::kRecord;
        case WitnessProblem::kTruncatedSeal:
        case WitnessProblem::kSealBadMagic:
        case WitnessProblem::kSealBadSignature:
        case WitnessProblem::kSealUntrustedSigner:
        case WitnessProblem::kSealBadField:
        case WitnessProblem::kSealWrongPrevDigest:
        case WitnessProblem::kSealBadDigest:
        case WitnessProblem::kSealWrongKey: return WitnessSite::kSeal;
    }
    return WitnessSite::kNone;
}

const char* problem_text(WitnessProblem p) {
    switch (p) {
        case WitnessProblem::kNone: return "no problem";
        case WitnessProblem::kTooLarge: return "file exceeds the reader's size limit";
        case WitnessProblem::kTruncatedHeader: return "truncated (shorter than the header)";
        case WitnessProblem::kBadMagic: return "wrong magic (not an RVM witness file)";
        case WitnessProblem::kBadVersion: return "unsupported format version";
        case WitnessProblem::kBadHeader: return "header field has an unexpected value";
        case WitnessProblem::kHeaderKeyNotTrusted: return "public key in the header is not the trusted key";
        case WitnessProblem::kTruncatedRecord: return "truncated inside the record";
        case WitnessProblem::kSequenceMismatch: return "sequence mismatch (record deleted, inserted or moved)";
        case WitnessProblem::kUnknownKind: return "unknown record kind";
        case WitnessProblem::kReservedNonZero: return "reserved bytes are not zero";
        case WitnessProblem::kTimestampBackwards: return "timestamp goes backwards";
        case WitnessProblem::kChainBreak: return "chain break (chain_hash_before != previous record_hash)";
        case WitnessProblem::kRecordHashMismatch: return "record hash mismatch (record altered)";
        case WitnessProblem::kTruncatedSeal: return "truncated: seal missing or cut off";
        case WitnessProblem::kSealBadMagic: return "bad seal magic";
        case WitnessProblem::kSealBadSignature: return "bad signature";
        case WitnessProblem::kSealUntrustedSigner: return "signed by a key other than the trusted one";
        case WitnessProblem::kSealBadField: return "seal field has an unexpected value";
        case WitnessProblem::kSealWrongPrevDigest: return "wrong previous-seal digest (seals dropped or reordered)";
        case WitnessProblem::kSealBadDigest: return "digest does not match the segment's records";
        case WitnessProblem::kSealWrongKey: return "disclosed key is not the segment's chain key";
    }
    return "unknown problem";
}

}  // namespace rvm::host
