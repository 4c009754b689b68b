// KeyedHash: the injected keyed 64-bit PRF/MAC used by the witness chain and
// proof tokens. The host provides libsodium's SipHash-2-4 (crypto_shorthash);
// the nucleus stays free of crypto libraries so it builds freestanding.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

namespace rvm {

struct MacKey {
    std::array<std::uint8_t, 16> bytes{};
    friend bool operator==(const MacKey&, const MacKey&) = default;
};

class KeyedHash {
public:
    virtual ~KeyedHash() = default;
    // 64-bit keyed hash of `data`. Must be a PRF (SipHash-2-4 or stronger)
    // and callable concurrently.
    [[nodiscard]] virtual std::uint64_t mac(const MacKey& key, std::span<const std::uint8_t> data) const = 0;
};

// Forward-secure key evolution: K[s+1] = (PRF(K[s], "rvm-key0"), PRF(K[s], "rvm-key1")).
// Knowing K[s+1] does not reveal K[s].
[[nodiscard]] MacKey evolve_key(const KeyedHash& hash, const MacKey& key);

}  // namespace rvm
