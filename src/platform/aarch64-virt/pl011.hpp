// Pl011: the QEMU virt UART as the hypervisor's console (polled, transmit only).
#pragma once

#include <cstdint>
#include <string_view>

namespace rvm::bm {

class Pl011 {
public:
    constexpr explicit Pl011(std::uint64_t base) : base_(base) {}
    void init() const;
    void put(char c) const;
    void write(std::string_view s) const;

private:
    std::uint64_t base_;
};

}  // namespace rvm::bm
