// GuestRam: a partition's guest-physical memory, memfd-backed so that it can
// later be shared with another partition or written to a snapshot.
#pragma once

#include <cstdint>
#include <span>

#include "backend/kvm/kvm_error.hpp"
#include "backend/mapping.hpp"
#include "backend/unique_fd.hpp"
#include "nucleus/result.hpp"

namespace rvm::kvm {

class GuestRam {
public:
    // `bytes` must be a non-zero multiple of 4 KiB. Zero-filled.
    [[nodiscard]] static Result<GuestRam, KvmError> create(std::uint64_t bytes, const char* name);

    [[nodiscard]] std::span<std::uint8_t> bytes() const { return map_.bytes(); }
    [[nodiscard]] std::uint64_t size() const { return map_.size(); }
    [[nodiscard]] std::uint64_t host_address() const { return reinterpret_cast<std::uintptr_t>(map_.get()); }

private:
    GuestRam(UniqueFd fd, Mapping map) : fd_(std::move(fd)), map_(std::move(map)) {}
    UniqueFd fd_;
    Mapping map_;
};

}  // namespace rvm::kvm
