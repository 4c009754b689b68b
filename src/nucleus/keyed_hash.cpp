#include "nucleus/keyed_hash.hpp"

#include <cstring>

namespace rvm {

MacKey evolve_key(const KeyedHash& hash, const MacKey& key) {
    static constexpr std::uint8_t kLabel0[] = {'r', 'v', 'm', '-', 'k', 'e', 'y', '0'};
    static constexpr std::uint8_t kLabel1[] = {'r', 'v', 'm', '-', 'k', 'e', 'y', '1'};
    const std::uint64_t lo = hash.mac(key, kLabel0);
    const std::uint64_t hi = hash.mac(key, kLabel1);
    MacKey next;
    std::memcpy(next.bytes.data(), &lo, sizeof lo);
    std::memcpy(next.bytes.data() + 8, &hi, sizeof hi);
    return next;
}

}  // namespace rvm
