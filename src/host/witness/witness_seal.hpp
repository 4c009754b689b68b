// Sealing a witness segment: the BLAKE2b-256 digest that chains seals (and
// binds the header), the optional forward-secure epoch MAC, and the Ed25519
// signature that makes the chain unforgeable without the signing key.
#pragma once

#include <sodium.h>

#include <array>
#include <cstdint>
#include <span>

#include "host/witness/forward_secure.hpp"
#include "host/witness/signing_key.hpp"
#include "host/witness/witness_format.hpp"
#include "nucleus/keyed_hash.hpp"

namespace rvm::host {

using SealDigest = std::array<std::uint8_t, 32>;

// Domain separation: no other BLAKE2b use in RVM hashes the same input.
inline constexpr std::array<std::uint8_t, 19> kSealDigestDomain = {'r', 'v', 'm', '-', 'w', 'i', 't', 'n', 'e', 's',
                                                                   's', '-', 's', 'e', 'a', 'l', '-', 'v', '2'};
inline constexpr std::array<std::uint8_t, 19> kHeadDigestDomain = {'r', 'v', 'm', '-', 'w', 'i', 't', 'n', 'e', 's',
                                                                   's', '-', 'h', 'e', 'a', 'd', '-', 'v', '2'};

// The prev_digest of seal 0: BLAKE2b-256(head domain || the 64 header bytes).
[[nodiscard]] SealDigest head_digest(std::span<const std::uint8_t, kWitnessHeaderBytes> header);

// digest = BLAKE2b-256(domain || prev_digest || segment (u64 LE) || the segment's raw records)
class SegmentDigest {
public:
    SegmentDigest(const SealDigest& prev, std::uint64_t segment);
    void add(std::span<const std::uint8_t> records);
    [[nodiscard]] SealDigest finish();

private:
    crypto_generichash_state state_;
};

// Everything a seal states except its MAC and signature.
struct SealContent {
    std::uint64_t segment = 0;
    std::uint64_t first_sequence = 0;
    std::uint32_t record_count = 0;
    bool last = false;
    SealDigest prev{};
    SealDigest digest{};
    MacKey key;
    std::int64_t clock_offset_ns = 0;
};

// The seal of `c`, signed with `keys`; with `epoch_key`, forward-secure
// sealed in `epoch` (flag, epoch and epoch_mac set).
[[nodiscard]] WitnessSeal make_seal(const SigningKeyPair& keys, const SealContent& c, const FssSecret* epoch_key,
                                    std::uint64_t epoch);
// Re-signs `seal` as it stands (tests and forgers: the MAC is left alone).
void sign_seal(const SigningKeyPair& keys, WitnessSeal& seal);
[[nodiscard]] std::array<std::uint8_t, 32> seal_epoch_mac(const FssSecret& epoch_key, const WitnessSeal& seal);

[[nodiscard]] bool seal_signed_by(const WitnessSeal& seal, const PublicKey& key);

}  // namespace rvm::host
