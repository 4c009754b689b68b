#include "host/witness/sodium_hash.hpp"

#include <sodium.h>

#include <cstring>

namespace rvm::host {

static_assert(crypto_shorthash_BYTES == 8);
static_assert(crypto_shorthash_KEYBYTES == sizeof(MacKey::bytes));

bool sodium_ready() {
    static const bool ready = sodium_init() >= 0;
    return ready;
}

std::uint64_t SodiumHash::mac(const MacKey& key, std::span<const std::uint8_t> data) const {
    unsigned char out[crypto_shorthash_BYTES];
    crypto_shorthash(out, data.data(), data.size(), key.bytes.data());
    std::uint64_t v;
    std::memcpy(&v, out, sizeof v);
    return v;
}

MacKey random_mac_key() {
    MacKey k;
    randombytes_buf(k.bytes.data(), k.bytes.size());
    return k;
}

}  // namespace rvm::host
