#include "host/witness/witness_format.hpp"

#include <algorithm>

namespace rvm::host {

WitnessFileHeader make_header(std::span<const std::uint8_t, 32> public_key, std::uint32_t flags) {
    WitnessFileHeader h{};
    h.magic = kWitnessFileMagic;
    h.version = kWitnessFormatVersion;
    h.header_size = static_cast<std::uint32_t>(kWitnessHeaderBytes);
    h.max_segment_records = static_cast<std::uint32_t>(kWitnessSegmentRecords);
    h.record_size = static_cast<std::uint32_t>(kWitnessRecordBytes);
    h.seal_size = static_cast<std::uint32_t>(kWitnessSealBytes);
    h.flags = flags;
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

bool starts_seal(std::span<const std::uint8_t> entry) {
    return entry.size() >= kWitnessSealMagic.size() &&
           std::equal(kWitnessSealMagic.begin(), kWitnessSealMagic.end(), entry.begin());
}

WitnessSite problem_site(WitnessProblem p) {
    switch (p) {
        case WitnessProblem::kNone: return WitnessSite::kNone;
        case WitnessProblem::kTooLarge:
        case WitnessProblem::kNotWitness: return WitnessSite::kFile;
        case WitnessProblem::kBadVersion:
        case WitnessProblem::kTruncatedHeader:
        case WitnessProblem::kBadHeader:
        case WitnessProblem::kHeaderKeyNotTrusted:
        case WitnessProblem::kNotForwardSecure: return WitnessSite::kHeader;
        case WitnessProblem::kSequenceMismatch:
        case WitnessProblem::kUnknownKind:
        case WitnessProblem::kReservedNonZero:
        case WitnessProblem::kTimestampBackwards:
        case WitnessProblem::kChainBreak:
        case WitnessProblem::kRecordHashMismatch:
        case WitnessProblem::kSegmentTooLong:
        case WitnessProblem::kDataAfterEnd: return WitnessSite::kRecord;
        case WitnessProblem::kSealBadSignature:
        case WitnessProblem::kSealUntrustedSigner:
        case WitnessProblem::kSealBadField:
        case WitnessProblem::kSealWrongPrevDigest:
        case WitnessProblem::kSealBadDigest:
        case WitnessProblem::kSealWrongKey:
        case WitnessProblem::kSealWrongEpoch:
        case WitnessProblem::kSealBadEpochMac: return WitnessSite::kSeal;
    }
    return WitnessSite::kNone;
}

const char* problem_text(WitnessProblem p) {
    switch (p) {
        case WitnessProblem::kNone: return "no problem";
        case WitnessProblem::kTooLarge: return "file exceeds the reader's size limit";
        case WitnessProblem::kNotWitness: return "not a witness file (no RVM witness magic)";
        case WitnessProblem::kBadVersion: return "unsupported format version";
        case WitnessProblem::kTruncatedHeader: return "truncated inside the header";
        case WitnessProblem::kBadHeader: return "header field has an unexpected value";
        case WitnessProblem::kHeaderKeyNotTrusted: return "public key in the header is not the trusted key";
        case WitnessProblem::kNotForwardSecure:
            return "the log is not forward-secure sealed, but a verification key was given";
        case WitnessProblem::kSequenceMismatch: return "sequence mismatch (record deleted, inserted or moved)";
        case WitnessProblem::kUnknownKind: return "unknown record kind";
        case WitnessProblem::kReservedNonZero: return "reserved bytes are not zero";
        case WitnessProblem::kTimestampBackwards: return "timestamp goes backwards";
        case WitnessProblem::kChainBreak: return "chain break (chain_hash_before != previous record_hash)";
        case WitnessProblem::kRecordHashMismatch: return "record hash mismatch (record altered)";
        case WitnessProblem::kSegmentTooLong: return "more records than a segment holds without a seal";
        case WitnessProblem::kDataAfterEnd: return "data after the end marker";
        case WitnessProblem::kSealBadSignature: return "bad signature";
        case WitnessProblem::kSealUntrustedSigner: return "signed by a key other than the trusted one";
        case WitnessProblem::kSealBadField: return "seal field has an unexpected value";
        case WitnessProblem::kSealWrongPrevDigest: return "wrong previous-seal digest (seals dropped or reordered)";
        case WitnessProblem::kSealBadDigest: return "digest does not match the segment's records";
        case WitnessProblem::kSealWrongKey: return "disclosed key is not the segment's chain key";
        case WitnessProblem::kSealWrongEpoch: return "sealed in an epoch other than that of its records";
        case WitnessProblem::kSealBadEpochMac: return "forward-secure MAC does not verify with the epoch's key";
    }
    return "unknown problem";
}

}  // namespace rvm::host
