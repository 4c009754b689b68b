#include "host/witness/witness_seal.hpp"

#include <algorithm>
#include <cstring>

namespace rvm::host {

static_assert(crypto_generichash_BYTES == sizeof(SealDigest));

SegmentDigest::SegmentDigest(const SealDigest& prev, std::uint64_t segment) : state_{} {
    // CANNOT FAIL: an unkeyed 32-byte BLAKE2b is within libsodium's limits.
    (void)crypto_generichash_init(&state_, nullptr, 0, sizeof(SealDigest));
    (void)crypto_generichash_update(&state_, kSealDigestDomain.data(), kSealDigestDomain.size());
    (void)crypto_generichash_update(&state_, prev.data(), prev.size());
    std::array<std::uint8_t, 8> index{};
    std::memcpy(index.data(), &segment, index.size());
    (void)crypto_generichash_update(&state_, index.data(), index.size());
}

void SegmentDigest::add(std::span<const std::uint8_t> records) {
    (void)crypto_generichash_update(&state_, records.data(), records.size());
}

SealDigest SegmentDigest::finish() {
    SealDigest d{};
    (void)crypto_generichash_final(&state_, d.data(), d.size());
    return d;
}

WitnessSeal make_seal(const SigningKeyPair& keys, std::uint64_t segment, const SealDigest& prev,
                      const SealDigest& digest, const MacKey& key) {
    WitnessSeal s{};
    s.magic = kWitnessSealMagic;
    s.segment = segment;
    s.first_sequence = segment * kWitnessSegmentRecords;
    s.record_count = static_cast<std::uint32_t>(kWitnessSegmentRecords);
    s.prev_digest = prev;
    s.digest = digest;
    s.disclosed_key = key.bytes;
    const SealBytes bytes = encode(s);
    s.signature = keys.sign(std::span<const std::uint8_t>(bytes.data(), kWitnessSealSignedBytes));
    return s;
}

bool seal_signed_by(const WitnessSeal& seal, const PublicKey& key) {
    const SealBytes bytes = encode(seal);
    return signature_valid(key, std::span<const std::uint8_t>(bytes.data(), kWitnessSealSignedBytes), seal.signature);
}

}  // namespace rvm::host
