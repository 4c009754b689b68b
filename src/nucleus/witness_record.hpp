// WitnessRecord: typed access to the 64-byte ABI record (abi/witness.h).
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <type_traits>

#include "abi/proof.h"
#include "abi/witness.h"
#include "nucleus/keyed_hash.hpp"

namespace rvm {

static_assert(std::endian::native == std::endian::little, "the ABI is little-endian");
static_assert(sizeof(rvm_witness_record) == 64);
static_assert(alignof(rvm_witness_record) == 64);
static_assert(offsetof(rvm_witness_record, sequence) == 0);
static_assert(offsetof(rvm_witness_record, timestamp_ns) == 8);
static_assert(offsetof(rvm_witness_record, kind) == 16);
static_assert(offsetof(rvm_witness_record, proof_tier) == 17);
static_assert(offsetof(rvm_witness_record, reserved) == 18);
static_assert(offsetof(rvm_witness_record, subject_id) == 20);
static_assert(offsetof(rvm_witness_record, object_id) == 28);
static_assert(offsetof(rvm_witness_record, aux_data) == 36);
static_assert(offsetof(rvm_witness_record, chain_hash_before) == 44);
static_assert(offsetof(rvm_witness_record, record_hash) == 52);
static_assert(offsetof(rvm_witness_record, flags) == 60);
static_assert(std::has_unique_object_representations_v<rvm_witness_record>);

// What the caller of WitnessLog::append supplies; the log fills in sequence,
// timestamp and the chain.
struct WitnessEvent {
    std::uint8_t kind = 0;
    std::uint8_t proof_tier = RVM_PROOF_NONE;
    std::uint64_t subject = 0;
    std::uint64_t object = 0;
    std::uint64_t aux = 0;
    std::uint32_t flags = 0;
};

struct alignas(64) WitnessRecord {
    rvm_witness_record raw{};

    [[nodiscard]] std::uint64_t sequence() const { return raw.sequence; }
    [[nodiscard]] std::uint64_t timestamp_ns() const { return raw.timestamp_ns; }
    [[nodiscard]] std::uint8_t kind() const { return raw.kind; }
    [[nodiscard]] std::uint8_t proof_tier() const { return raw.proof_tier; }
    [[nodiscard]] std::uint64_t subject() const { return load(raw.subject_id); }
    [[nodiscard]] std::uint64_t object() const { return load(raw.object_id); }
    [[nodiscard]] std::uint64_t aux() const { return load(raw.aux_data); }
    [[nodiscard]] std::uint64_t chain_hash_before() const { return load(raw.chain_hash_before); }
    [[nodiscard]] std::uint64_t record_hash() const { return load(raw.record_hash); }
    [[nodiscard]] std::uint32_t flags() const { return raw.flags; }

    void set_subject(std::uint64_t v) { store(raw.subject_id, v); }
    void set_object(std::uint64_t v) { store(raw.object_id, v); }
    void set_aux(std::uint64_t v) { store(raw.aux_data, v); }
    void set_chain_hash_before(std::uint64_t v) { store(raw.chain_hash_before, v); }
    void set_record_hash(std::uint64_t v) { store(raw.record_hash, v); }

    [[nodiscard]] std::span<const std::uint8_t, 64> bytes() const {
        // SAFETY: rvm_witness_record is 64 bytes with unique object
        // representations (static_asserts above); viewing it as bytes is defined.
        return std::span<const std::uint8_t, 64>(reinterpret_cast<const std::uint8_t*>(&raw), 64);
    }
    [[nodiscard]] static WitnessRecord from_bytes(std::span<const std::uint8_t, 64> b) {
        WitnessRecord r;
        std::memcpy(&r.raw, b.data(), 64);
        return r;
    }
    friend bool operator==(const WitnessRecord& a, const WitnessRecord& b) {
        return std::memcmp(&a.raw, &b.raw, 64) == 0;
    }

private:
    static std::uint64_t load(const std::uint8_t (&f)[8]) {
        std::uint64_t v;
        std::memcpy(&v, f, 8);
        return v;
    }
    static void store(std::uint8_t (&f)[8], std::uint64_t v) { std::memcpy(f, &v, 8); }
};
static_assert(sizeof(WitnessRecord) == 64);

// The keyed hash of one record: every byte except the record_hash field
// itself, i.e. [0..52) and [60..64). chain_hash_before is inside [0..52), so
// each record's hash covers its predecessor's: one PRF call per append.
[[nodiscard]] std::uint64_t compute_record_hash(const KeyedHash& hash, const MacKey& key, const WitnessRecord& r);

// The most records one segment holds; each segment has its own chain key
// (segment_key). The host ends segments earlier, by time (docs/witness-format.md),
// so a segment holds 1..kWitnessSegmentRecords records (0 only in the end marker).
inline constexpr std::uint64_t kWitnessSegmentRecords = 4096;

[[nodiscard]] const char* witness_kind_name(std::uint8_t kind);
[[nodiscard]] bool witness_kind_known(std::uint8_t kind);

}  // namespace rvm
