#include "platform/aarch64-virt/console.hpp"

#include "platform/aarch64-virt/memory_map.hpp"
#include "platform/aarch64-virt/pl011.hpp"

namespace rvm::bm {

namespace {
constinit const Pl011 uart{kUartBase};
constinit Console console;
constexpr char kDigits[] = "0123456789abcdef";
}  // namespace

Console& con() { return console; }

void Console::fresh() {
    if (!break_line_) return;
    break_line_ = false;
    uart.write("\n");
}

Console& Console::operator<<(std::string_view s) {
    fresh();
    uart.write(s);
    return *this;
}

Console& Console::operator<<(char c) {
    fresh();
    if (c == '\n') uart.put('\r');
    uart.put(c);
    return *this;
}

Console& Console::operator<<(Dec d) {
    fresh();
    char buf[20];
    int n = 0;
    do {
        buf[n++] = kDigits[d.v % 10];
        d.v /= 10;
    } while (d.v != 0);
    while (n > 0) uart.put(buf[--n]);
    return *this;
}

Console& Console::operator<<(Hex h) {
    fresh();
    int digits = h.digits;
    if (digits == 0) {
        digits = 1;
        while (digits < 16 && (h.v >> (4 * digits)) != 0) ++digits;
    }
    for (int i = digits - 1; i >= 0; --i) uart.put(kDigits[(h.v >> (4 * i)) & 0xf]);
    return *this;
}

Console& Console::operator<<(Bytes b) {
    fresh();
    for (std::uint8_t x : b.b) {
        uart.put(kDigits[x >> 4]);
        uart.put(kDigits[x & 0xf]);
    }
    return *this;
}

}  // namespace rvm::bm
