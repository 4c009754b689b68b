// The seed of a randomized test: RVM_SEED (decimal, 0x hex or 0 octal) when
// it is set, the test's fixed default otherwise.
#pragma once

#include <cstdint>
#include <cstdlib>

namespace rvm::test {

[[nodiscard]] inline std::uint64_t seed_from_env(std::uint64_t fallback) {
    const char* s = std::getenv("RVM_SEED");
    return s != nullptr ? std::strtoull(s, nullptr, 0) : fallback;
}

}  // namespace rvm::test
