// Mapping: sole owner of an mmap()ed range (STYLE.md 6).
#pragma once

#include <sys/mman.h>

#include <cstddef>
#include <cstdint>
#include <span>
#include <utility>

namespace rvm {

class Mapping {
public:
    Mapping() = default;
    // Takes ownership of [addr, addr + size) as returned by mmap().
    Mapping(void* addr, std::size_t size) : addr_(addr), size_(size) {}
    Mapping(Mapping&& o) noexcept : addr_(std::exchange(o.addr_, nullptr)), size_(std::exchange(o.size_, 0)) {}
    Mapping& operator=(Mapping&& o) noexcept {
        if (this != &o) {
            reset();
            addr_ = std::exchange(o.addr_, nullptr);
            size_ = std::exchange(o.size_, 0);
        }
        return *this;
    }
    Mapping(const Mapping&) = delete;
    Mapping& operator=(const Mapping&) = delete;
    ~Mapping() { reset(); }

    [[nodiscard]] void* get() const { return addr_; }
    [[nodiscard]] std::size_t size() const { return size_; }
    [[nodiscard]] bool valid() const { return addr_ != nullptr; }
    [[nodiscard]] std::span<std::uint8_t> bytes() const {
        // SAFETY: the mapping is readable and writable for size_ bytes while owned.
        return {static_cast<std::uint8_t*>(addr_), size_};
    }

    void reset() {
        // SAFETY: addr_/size_ came from a successful mmap() that this object owns.
        if (addr_ != nullptr) (void)::munmap(addr_, size_);
        addr_ = nullptr;
        size_ = 0;
    }

private:
    void* addr_ = nullptr;
    std::size_t size_ = 0;
};

}  // namespace rvm
