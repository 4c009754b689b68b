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
    // The UART is shared with a partition that leases it: after that
    // partition ran, the next output starts on a new line, so the lines the
    // host tool and the tests read are never glued to a partition's partial
    // line.
    void break_line() { break_line_ = true; }
    Console& operator<<(std::string_view s);
    Console& operator<<(char c);
    Console& operator<<(Dec d);
    Console& operator<<(Hex h);
    Console& operator<<(Bytes b);

private:
    void fresh();
    bool break_line_ = false;
};

Console& con();

}  // namespace rvm::bm
