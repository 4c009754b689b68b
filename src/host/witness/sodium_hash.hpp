// SodiumHash: the host's KeyedHash, libsodium's SipHash-2-4 (crypto_shorthash).
#pragma once

#include "nucleus/keyed_hash.hpp"

namespace rvm::host {

// Initializes libsodium once; returns false if it cannot be (no entropy source).
[[nodiscard]] bool sodium_ready();

class SodiumHash final : public KeyedHash {
public:
    [[nodiscard]] std::uint64_t mac(const MacKey& key, std::span<const std::uint8_t> data) const override;
};

// A fresh random key from the OS CSPRNG.
[[nodiscard]] MacKey random_mac_key();

}  // namespace rvm::host
