// FakeGuestMemory: guest memory of the deterministic fake backend. Sparse,
// per partition, byte-addressed: enough to hand the nucleus proof tokens and
// buffers in unit tests, fuzzers and the nucleus demo without KVM.
#pragma once

#include <cstdint>
#include <cstring>
#include <map>
#include <span>

#include "nucleus/syscalls.hpp"

namespace rvm::fake {

class FakeGuestMemory final : public GuestMemory {
public:
    void write(PartitionId p, std::uint64_t gpa, const void* data, std::size_t len) {
        auto& m = mem_[p.raw()];
        const auto* b = static_cast<const std::uint8_t*>(data);
        for (std::size_t i = 0; i < len; ++i) m[gpa + i] = b[i];
    }
    [[nodiscard]] bool read(PartitionId p, std::uint64_t gpa, std::span<std::uint8_t> out) const override {
        const auto it = mem_.find(p.raw());
        if (it == mem_.end() || gpa > UINT64_MAX - out.size()) return false;
        for (std::size_t i = 0; i < out.size(); ++i) {
            const auto b = it->second.find(gpa + i);
            if (b == it->second.end()) return false;
            out[i] = b->second;
        }
        return true;
    }

private:
    std::map<std::uint64_t, std::map<std::uint64_t, std::uint8_t>> mem_;
};

}  // namespace rvm::fake
