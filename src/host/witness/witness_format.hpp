// The sealed witness file (docs/witness-format.md): a 64-byte header, then
// 64 records + one 192-byte seal per segment, then at most 63 unsealed tail
// records. Every structure is fixed-size little-endian (STYLE.md 9); the
// layout is a function of the file size alone, so no length is read from
// the file.
#pragma once

#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <span>
#include <type_traits>

#include "nucleus/witness_record.hpp"

namespace rvm::host {

inline constexpr std::array<std::uint8_t, 8> kWitnessFileMagic = {'R', 'V', 'M', 'W', 'I', 'T', 'N', 0};
inline constexpr std::array<std::uint8_t, 8> kWitnessSealMagic = {'R', 'V', 'M', 'S', 'E', 'A', 'L', 0};
inline constexpr std::uint32_t kWitnessFormatVersion = 1;
inline constexpr std::uint64_t kWitnessRecordBytes = 64;
inline constexpr std::uint64_t kWitnessHeaderBytes = 64;
inline constexpr std::uint64_t kWitnessSealBytes = 192;
inline constexpr std::uint64_t kWitnessSegmentBytes = kWitnessSegmentRecords * kWitnessRecordBytes;
inline constexpr std::uint64_t kWitnessGroupBytes = kWitnessSegmentBytes + kWitnessSealBytes;
// Readers refuse bigger files: 1 GiB is ~16 million records.
inline constexpr std::uint64_t kWitnessMaxFileBytes = std::uint64_t{1} << 30;

struct WitnessFileHeader {
    std::array<std::uint8_t, 8> magic;        // [0..8)   kWitnessFileMagic
    std::uint32_t version;                    // [8..12)  kWitnessFormatVersion
    std::uint32_t header_size;                // [12..16) 64
    std::uint32_t records_per_segment;        // [16..20) 64
    std::uint32_t record_size;                // [20..24) 64
    std::uint32_t seal_size;                  // [24..28) 192
    std::uint32_t reserved;                   // [28..32) zero
    std::array<std::uint8_t, 32> public_key;  // [32..64) Ed25519 key the seals claim
};
static_assert(sizeof(WitnessFileHeader) == kWitnessHeaderBytes);
static_assert(offsetof(WitnessFileHeader, version) == 8);
static_assert(offsetof(WitnessFileHeader, header_size) == 12);
static_assert(offsetof(WitnessFileHeader, records_per_segment) == 16);
static_assert(offsetof(WitnessFileHeader, record_size) == 20);
static_assert(offsetof(WitnessFileHeader, seal_size) == 24);
static_assert(offsetof(WitnessFileHeader, reserved) == 28);
static_assert(offsetof(WitnessFileHeader, public_key) == 32);
static_assert(std::has_unique_object_representations_v<WitnessFileHeader>);

struct WitnessSeal {
    std::array<std::uint8_t, 8> magic;           // [0..8)     kWitnessSealMagic
    std::uint64_t segment;                       // [8..16)    segment index s
    std::uint64_t first_sequence;                // [16..24)   64 * s
    std::uint32_t record_count;                  // [24..28)   64
    std::uint32_t reserved0;                     // [28..32)   zero
    std::array<std::uint8_t, 32> prev_digest;    // [32..64)   digest of seal s-1; zero for s = 0
    std::array<std::uint8_t, 32> digest;         // [64..96)   BLAKE2b-256, see segment_digest.hpp
    std::array<std::uint8_t, 16> disclosed_key;  // [96..112)  K[s], the chain key of segment s
    std::array<std::uint8_t, 16> reserved1;      // [112..128) zero
    std::array<std::uint8_t, 64> signature;      // [128..192) Ed25519 over bytes [0..128)
};
inline constexpr std::size_t kWitnessSealSignedBytes = 128;
static_assert(sizeof(WitnessSeal) == kWitnessSealBytes);
static_assert(offsetof(WitnessSeal, segment) == 8);
static_assert(offsetof(WitnessSeal, first_sequence) == 16);
static_assert(offsetof(WitnessSeal, record_count) == 24);
static_assert(offsetof(WitnessSeal, reserved0) == 28);
static_assert(offsetof(WitnessSeal, prev_digest) == 32);
static_assert(offsetof(WitnessSeal, digest) == 64);
static_assert(offsetof(WitnessSeal, disclosed_key) == 96);
static_assert(offsetof(WitnessSeal, reserved1) == 112);
static_assert(offsetof(WitnessSeal, signature) == kWitnessSealSignedBytes);
static_assert(std::has_unique_object_representations_v<WitnessSeal>);

using HeaderBytes = std::array<std::uint8_t, kWitnessHeaderBytes>;
using SealBytes = std::array<std::uint8_t, kWitnessSealBytes>;

[[nodiscard]] WitnessFileHeader make_header(std::span<const std::uint8_t, 32> public_key);
[[nodiscard]] inline HeaderBytes encode(const WitnessFileHeader& h) { return std::bit_cast<HeaderBytes>(h); }
[[nodiscard]] inline SealBytes encode(const WitnessSeal& s) { return std::bit_cast<SealBytes>(s); }
[[nodiscard]] WitnessFileHeader decode_header(std::span<const std::uint8_t, kWitnessHeaderBytes> b);
[[nodiscard]] WitnessSeal decode_seal(std::span<const std::uint8_t, kWitnessSealBytes> b);

// Byte offsets fixed by the layout.
[[nodiscard]] constexpr std::uint64_t record_offset(std::uint64_t index) {
    return kWitnessHeaderBytes + index * kWitnessRecordBytes + (index / kWitnessSegmentRecords) * kWitnessSealBytes;
}
[[nodiscard]] constexpr std::uint64_t seal_offset(std::uint64_t segment) {
    return kWitnessHeaderBytes + (segment + 1) * kWitnessSegmentBytes + segment * kWitnessSealBytes;
}

// What a file of a given size holds. `records` counts complete records;
// records [64 * sealed_segments, records) are the tail, checked against no seal.
struct WitnessLayout {
    enum class End : std::uint8_t {
        kClean,            // ends on an entry boundary with <= 63 tail records
        kNoHeader,         // shorter than the header
        kTruncatedRecord,  // ends inside record `records` at `end_offset`
        kTruncatedSeal,    // ends inside (or right before) seal `sealed_segments`
    };
    std::uint64_t sealed_segments = 0;
    std::uint64_t records = 0;
    End end = End::kClean;
    std::uint64_t end_offset = 0;  // offset of the incomplete entry
};
[[nodiscard]] WitnessLayout compute_layout(std::uint64_t file_size);

// Every way a witness file can be wrong, in the order the audit looks.
enum class WitnessProblem : std::uint8_t {
    kNone,
    // file
    kTooLarge,
    // header
    kTruncatedHeader,
    kBadMagic,
    kBadVersion,
    kBadHeader,
    kHeaderKeyNotTrusted,
    // record N
    kTruncatedRecord,
    kSequenceMismatch,
    kUnknownKind,
    kReservedNonZero,
    kTimestampBackwards,
    kChainBreak,
    kRecordHashMismatch,
    // seal of segment S
    kTruncatedSeal,
    kSealBadMagic,
    kSealBadSignature,
    kSealUntrustedSigner,
    kSealBadField,
    kSealWrongPrevDigest,
    kSealBadDigest,
    kSealWrongKey,
};

enum class WitnessSite : std::uint8_t { kNone, kFile, kHeader, kRecord, kSeal };
[[nodiscard]] WitnessSite problem_site(WitnessProblem p);
[[nodiscard]] const char* problem_text(WitnessProblem p);

}  // namespace rvm::host
