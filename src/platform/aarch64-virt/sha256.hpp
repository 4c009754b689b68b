// SHA-256 (FIPS 180-4) for measured boot: the digest of each partition image.
#pragma once

#include <array>
#include <cstdint>
#include <span>

namespace rvm::bm {

using Sha256Digest = std::array<std::uint8_t, 32>;

[[nodiscard]] Sha256Digest sha256(std::span<const std::uint8_t> data);

}  // namespace rvm::bm
