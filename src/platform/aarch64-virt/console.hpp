// Console: formatted output of the hypervisor on the PL011. Lines the tests
// and the host tool read start with "rvm-bm:" (see docs/baremetal.md).
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

namespace rvm::bm {

struct Dec {
    std::uint64_t v;
};
struct Hex {
    std::uint64_t v;
    int digits = 0;  // 0 = as many as needed
};
struct Bytes {
    std::span<const std::uint8_t> b;  // printed as hex, in order
};

class Console {
public:
    Console& operator<<(std::string_view s);
    Console& operator<<(char c);
    Console& operator<<(Dec d);
    Console& operator<<(Hex h);
    Console& operator<<(Bytes b);
};

Console& con();

}  // namespace rvm::bm
