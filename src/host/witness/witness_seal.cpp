#include "host/witness/witness_seal.hpp"

#include <algorithm>
#include <cstring>

namespace rvm::host {

static_assert(crypto_generichash_BYTES == sizeof(SealDigest));

SealDigest head_digest(std::span<const std::uint8_t, kWitnessHeaderBytes> header) {
    crypto_generichash_state st{};
    // CANNOT FAIL: an unkeyed 32-byte BLAKE2b is within libsodium's limits.
    (void)crypto_generichash_init(&st, nullptr, 0, sizeof(SealDigest));
    (void)crypto_generichash_update(&st, kHeadDigestDomain.data(), kHeadDigestDomain.size());
    (void)crypto_generichash_update(&st, header.data(), header.size());
    SealDigest d{};
    (void)crypto_generichash_final(&st, d.data(), d.size());
    return d;
}

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

std::array<std::uint8_t, 32> seal_epoch_mac(const FssSecret& epoch_key, const WitnessSeal& seal) {
    const SealBytes bytes = encode(seal);
    return fss_mac(epoch_key, std::span<const std::uint8_t>(bytes.data(), kWitnessSealMacBytes));
}

void sign_seal(const SigningKeyPair& keys, WitnessSeal& seal) {
    const SealBytes bytes = encode(seal);
    seal.signature = keys.sign(std::span<const std::uint8_t>(bytes.data(), kWitnessSealSignedBytes));
}

WitnessSeal make_seal(const SigningKeyPair& keys, const SealContent& c, const FssSecret* epoch_key,
                      std::uint64_t epoch) {
    WitnessSeal s{};
    s.magic = kWitnessSealMagic;
    s.segment = c.segment;
    s.first_sequence = c.first_sequence;
    s.record_count = c.record_count;
    s.flags = c.last ? kSealEnd : 0;
    s.prev_digest = c.prev;
    s.digest = c.digest;
    s.disclosed_key = c.key.bytes;
    s.clock_offset_ns = c.clock_offset_ns;
    if (epoch_key != nullptr) {
        s.flags |= kSealForwardSecure;
        s.epoch = epoch;
        s.epoch_mac = seal_epoch_mac(*epoch_key, s);
    }
    sign_seal(keys, s);
    return s;
}

bool seal_signed_by(const WitnessSeal& seal, const PublicKey& key) {
    const SealBytes bytes = encode(seal);
    return signature_valid(key, std::span<const std::uint8_t>(bytes.data(), kWitnessSealSignedBytes), seal.signature);
}

}  // namespace rvm::host
