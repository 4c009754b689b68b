// Status: a failure as the guest sees it (abi/status.h): the code and which
// argument (1-based, 0 = none) was at fault. Every module error maps to one
// in exactly one to_status() next to it.
#pragma once

#include <cstdint>

#include "abi/status.h"
#include "nucleus/result.hpp"

namespace rvm {

struct Status {
    rvm_status code = RVM_OK;
    std::uint8_t arg = 0;

    [[nodiscard]] constexpr Status at(std::uint8_t argument) const { return Status{code, argument}; }
    // RVM_ERR of abi/status.h, without its C casts.
    [[nodiscard]] constexpr rvm_ret_t to_ret() const {
        return -static_cast<rvm_ret_t>(static_cast<std::uint32_t>(code) | (std::uint32_t{arg} << 8));
    }
    friend constexpr bool operator==(Status, Status) = default;
};

constexpr Err<Status> fail(rvm_status code, std::uint8_t arg = 0) { return Err<Status>{Status{code, arg}}; }

template <typename T>
using KResult = Result<T, Status>;

[[nodiscard]] const char* status_name(rvm_status code);

}  // namespace rvm
