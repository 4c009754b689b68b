#include "nucleus/keyed_hash.hpp"

#include <cstring>

namespace rvm {

MacKey segment_key(const KeyedHash& hash, const MacKey& master, std::uint64_t segment) {
    std::array<std::uint8_t, 16> msg{'r', 'v', 'm', '-', 's', 'e', 'g', '0'};
    std::memcpy(msg.data() + 8, &segment, sizeof segment);
    const std::uint64_t lo = hash.mac(master, msg);
    msg[7] = '1';
    const std::uint64_t hi = hash.mac(master, msg);
    MacKey k;
    std::memcpy(k.bytes.data(), &lo, sizeof lo);
    std::memcpy(k.bytes.data() + 8, &hi, sizeof hi);
    return k;
}

}  // namespace rvm
