// SipHash-2-4 as the image's KeyedHash: the same PRF the host takes from
// libsodium (crypto_shorthash), so the chain the image computes verifies on
// the host (unit test BaremetalSipHash compares the two on the host;
// qemu_witness_verify recomputes every hash the image made with libsodium).
#pragma once

#include "nucleus/keyed_hash.hpp"

namespace rvm::bm {

class SipHash24 final : public KeyedHash {
public:
    [[nodiscard]] std::uint64_t mac(const MacKey& key, std::span<const std::uint8_t> data) const override;
};

}  // namespace rvm::bm
