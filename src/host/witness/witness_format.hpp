// The sealed witness file (docs/witness-format.md): a 64-byte header, then a
// sequence of 64-byte entries: each segment's records followed by its
// 256-byte seal; the last seal of a closed log carries the end flag. Every
// structure is fixed-size little-endian (STYLE.md 9). A seal is recognized
// by its magic in the place of a record's sequence number, which can never
// equal it (a record's sequence is its position, far below 2^56).
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
inline constexpr std::uint32_t kWitnessFormatVersion = 2;
inline constexpr std::uint64_t kWitnessRecordBytes = 64;
inline constexpr std::uint64_t kWitnessHeaderBytes = 64;
inline constexpr std::uint64_t kWitnessSealBytes = 256;
// Readers refuse bigger files: 1 GiB is ~16 million records.
inline constexpr std::uint64_t kWitnessMaxFileBytes = std::uint64_t{1} << 30;

// Header flags.
inline constexpr std::uint32_t kHeaderForwardSecure = 1u << 0;  // every seal carries an epoch MAC
// Seal flags.
inline constexpr std::uint32_t kSealEnd = 1u << 0;            // the log was closed here: nothing follows
inline constexpr std::uint32_t kSealForwardSecure = 1u << 1;  // epoch and epoch_mac are set
inline constexpr std::uint32_t kSealKnownFlags = kSealEnd | kSealForwardSecure;

struct WitnessFileHeader {
    std::array<std::uint8_t, 8> magic;        // [0..8)   kWitnessFileMagic
    std::uint32_t version;                    // [8..12)  kWitnessFormatVersion
    std::uint32_t header_size;                // [12..16) 64
    std::uint32_t max_segment_records;        // [16..20) kWitnessSegmentRecords (4096)
    std::uint32_t record_size;                // [20..24) 64
    std::uint32_t seal_size;                  // [24..28) 256
    std::uint32_t flags;                      // [28..32) kHeaderForwardSecure or 0
    std::array<std::uint8_t, 32> public_key;  // [32..64) Ed25519 key the seals claim
};
static_assert(sizeof(WitnessFileHeader) == kWitnessHeaderBytes);
static_assert(offsetof(WitnessFileHeader, version) == 8);
static_assert(offsetof(WitnessFileHeader, header_size) == 12);
static_assert(offsetof(WitnessFileHeader, max_segment_records) == 16);
static_assert(offsetof(WitnessFileHeader, record_size) == 20);
static_assert(offsetof(WitnessFileHeader, seal_size) == 24);
static_assert(offsetof(WitnessFileHeader, flags) == 28);
static_assert(offsetof(WitnessFileHeader, public_key) == 32);
static_assert(std::has_unique_object_representations_v<WitnessFileHeader>);

struct WitnessSeal {
    std::array<std::uint8_t, 8> magic;           // [0..8)     kWitnessSealMagic
    std::uint64_t segment;                       // [8..16)    segment index s (0, 1, 2, ...)
    std::uint64_t first_sequence;                // [16..24)   sequence of the segment's first record
    std::uint32_t record_count;                  // [24..28)   1..4096 (0 allowed only with kSealEnd)
    std::uint32_t flags;                         // [28..32)   kSealEnd | kSealForwardSecure
    std::array<std::uint8_t, 32> prev_digest;    // [32..64)   digest of seal s-1; head digest for s = 0
    std::array<std::uint8_t, 32> digest;         // [64..96)   BLAKE2b-256 over the segment (witness_seal.hpp)
    std::array<std::uint8_t, 16> disclosed_key;  // [96..112)  K[s], the chain key of segment s
    std::uint64_t epoch;                         // [112..120) forward-secure epoch; 0 without
    std::int64_t clock_offset_ns;                // [120..128) wall-clock ns minus record timestamp ns
    std::array<std::uint8_t, 32> epoch_mac;      // [128..160) keyed BLAKE2b of [0..128) with the epoch key; 0 without
    std::array<std::uint8_t, 32> reserved;       // [160..192) zero
    std::array<std::uint8_t, 64> signature;      // [192..256) Ed25519 over bytes [0..192)
};
inline constexpr std::size_t kWitnessSealMacBytes = 128;     // what epoch_mac covers
inline constexpr std::size_t kWitnessSealSignedBytes = 192;  // what the signature covers
static_assert(sizeof(WitnessSeal) == kWitnessSealBytes);
static_assert(offsetof(WitnessSeal, segment) == 8);
static_assert(offsetof(WitnessSeal, first_sequence) == 16);
static_assert(offsetof(WitnessSeal, record_count) == 24);
static_assert(offsetof(WitnessSeal, flags) == 28);
static_assert(offsetof(WitnessSeal, prev_digest) == 32);
static_assert(offsetof(WitnessSeal, digest) == 64);
static_assert(offsetof(WitnessSeal, disclosed_key) == 96);
static_assert(offsetof(WitnessSeal, epoch) == 112);
static_assert(offsetof(WitnessSeal, clock_offset_ns) == 120);
static_assert(offsetof(WitnessSeal, epoch_mac) == kWitnessSealMacBytes);
static_assert(offsetof(WitnessSeal, reserved) == 160);
static_assert(offsetof(WitnessSeal, signature) == kWitnessSealSignedBytes);
static_assert(std::has_unique_object_representations_v<WitnessSeal>);

using HeaderBytes = std::array<std::uint8_t, kWitnessHeaderBytes>;
using SealBytes = std::array<std::uint8_t, kWitnessSealBytes>;

[[nodiscard]] WitnessFileHeader make_header(std::span<const std::uint8_t, 32> public_key, std::uint32_t flags);
[[nodiscard]] inline HeaderBytes encode(const WitnessFileHeader& h) { return std::bit_cast<HeaderBytes>(h); }
[[nodiscard]] inline SealBytes encode(const WitnessSeal& s) { return std::bit_cast<SealBytes>(s); }
[[nodiscard]] WitnessFileHeader decode_header(std::span<const std::uint8_t, kWitnessHeaderBytes> b);
[[nodiscard]] WitnessSeal decode_seal(std::span<const std::uint8_t, kWitnessSealBytes> b);
// The first 8 bytes of `entry` are the seal magic.
[[nodiscard]] bool starts_seal(std::span<const std::uint8_t> entry);

// Every way a witness file can be wrong, in the order the audit looks.
enum class WitnessProblem : std::uint8_t {
    kNone,
    // file
    kTooLarge,
    kNotWitness,  // no RVM witness magic: some other file
    kBadVersion,
    // header
    kTruncatedHeader,
    kBadHeader,
    kHeaderKeyNotTrusted,
    kNotForwardSecure,  // a forward-secure verification key was given, the log has no epoch MACs
    // record N
    kSequenceMismatch,
    kUnknownKind,
    kReservedNonZero,
    kTimestampBackwards,
    kChainBreak,
    kRecordHashMismatch,
    kSegmentTooLong,  // more than kWitnessSegmentRecords records without a seal
    kDataAfterEnd,    // anything after the end marker
    // seal of segment S
    kSealBadSignature,
    kSealUntrustedSigner,
    kSealBadField,
    kSealWrongPrevDigest,
    kSealBadDigest,
    kSealWrongKey,
    kSealWrongEpoch,  // the epoch is not the one of the records it covers
    kSealBadEpochMac,
};

enum class WitnessSite : std::uint8_t { kNone, kFile, kHeader, kRecord, kSeal };
[[nodiscard]] WitnessSite problem_site(WitnessProblem p);
[[nodiscard]] const char* problem_text(WitnessProblem p);

}  // namespace rvm::host
