// Sealing a witness segment: the BLAKE2b-256 digest that chains seals, and
// the Ed25519 signature that makes the chain unforgeable.
#pragma once

#include <sodium.h>

#include <array>
#include <cstdint>
#include <span>

#include "host/witness/signing_key.hpp"
#include "host/witness/witness_format.hpp"
#include "nucleus/keyed_hash.hpp"

namespace rvm::host {

using SealDigest = std::array<std::uint8_t, 32>;

// Domain separation for the seal digest: no other BLAKE2b use in RVM can
// produce the same input.
inline constexpr std::array<std::uint8_t, 19> kSealDigestDomain = {'r', 'v', 'm', '-', 'w', 'i', 't', 'n', 'e', 's',
                                                                   's', '-', 's', 'e', 'a', 'l', '-', 'v', '1'};

// digest = BLAKE2b-256(domain || prev_digest || segment (u64 LE) || 64 raw records)
class SegmentDigest {
public:
    SegmentDigest(const SealDigest& prev, std::uint64_t segment);
    void add(std::span<const std::uint8_t> records);
    [[nodiscard]] SealDigest finish();

private:
    crypto_generichash_state state_;
};

// The seal of segment `segment`, signed with `keys`.
[[nodiscard]] WitnessSeal make_seal(const SigningKeyPair& keys, std::uint64_t segment, const SealDigest& prev,
                                    const SealDigest& digest, const MacKey& key);

[[nodiscard]] bool seal_signed_by(const WitnessSeal& seal, const PublicKey& key);

}  // namespace rvm::host
