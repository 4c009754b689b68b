#include "platform/aarch64-virt/pl011.hpp"

#include "platform/aarch64-virt/hw.hpp"

namespace rvm::bm {

namespace {
constexpr std::uint64_t kDr = 0x00;
constexpr std::uint64_t kFr = 0x18;
constexpr std::uint64_t kCr = 0x30;
constexpr std::uint32_t kFrTxFull = 1u << 5;
constexpr std::uint32_t kCrEnable = (1u << 0) | (1u << 8) | (1u << 9);  // UARTEN, TXE, RXE
}  // namespace

// QEMU's PL011 needs no baud-rate setup; enabling it is enough.
void Pl011::init() const { mmio_write32(base_ + kCr, kCrEnable); }

void Pl011::put(char c) const {
    while ((mmio_read32(base_ + kFr) & kFrTxFull) != 0) {
    }
    mmio_write32(base_ + kDr, static_cast<std::uint8_t>(c));
}

void Pl011::write(std::string_view s) const {
    for (char c : s) {
        if (c == '\n') put('\r');
        put(c);
    }
}

}  // namespace rvm::bm
