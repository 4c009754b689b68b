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

// The chain key of witness segment `s`: K[s] = PRF(master, "rvm-seg0" || s) ||
// PRF(master, "rvm-seg1" || s). Segment keys are disclosed in their seals once
// the segment is closed; being independent PRF outputs, a disclosed K[s]
// reveals nothing about K[s+1] or the master, so the unsealed tail stays keyed.
[[nodiscard]] MacKey segment_key(const KeyedHash& hash, const MacKey& master, std::uint64_t segment);

}  // namespace rvm
