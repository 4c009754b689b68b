// Rights: the capability rights bitmap (abi/object.h) as a small value type.
#pragma once

#include <cstdint>

#include "abi/object.h"

namespace rvm {

struct Rights {
    std::uint32_t bits = 0;

    static constexpr Rights all() { return Rights{RVM_RIGHTS_ALL}; }
    static constexpr Rights none() { return Rights{0}; }
    [[nodiscard]] static constexpr bool valid(std::uint32_t raw) { return (raw & ~RVM_RIGHTS_ALL) == 0; }

    [[nodiscard]] constexpr bool has(std::uint32_t mask) const { return (bits & mask) == mask; }
    [[nodiscard]] constexpr bool subset_of(Rights o) const { return (bits & ~o.bits) == 0; }
    [[nodiscard]] constexpr Rights without(std::uint32_t mask) const { return Rights{bits & ~mask}; }
    friend constexpr bool operator==(Rights, Rights) = default;
};

}  // namespace rvm
