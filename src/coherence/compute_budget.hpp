// ComputeBudget: how long one epoch's computation may run (seed 002 DC-2:
// 50 µs by default), measured on a clock that tests can inject.
#pragma once

#include <chrono>
#include <functional>

namespace rvm::coherence {

struct ComputeBudget {
    // Wall time allowed for one call; nanoseconds::max() means no limit.
    std::chrono::nanoseconds limit = std::chrono::microseconds{50};
    // Reads the time; empty means std::chrono::steady_clock.
    std::function<std::chrono::nanoseconds()> now;

    [[nodiscard]] static ComputeBudget unlimited() { return ComputeBudget{std::chrono::nanoseconds::max(), {}}; }
    [[nodiscard]] bool is_unlimited() const { return limit == std::chrono::nanoseconds::max(); }
    [[nodiscard]] std::chrono::nanoseconds read() const {
        if (now) return now();
        return std::chrono::duration_cast<std::chrono::nanoseconds>(
            std::chrono::steady_clock::now().time_since_epoch());
    }
};

}  // namespace rvm::coherence
