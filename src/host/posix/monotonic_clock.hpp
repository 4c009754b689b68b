// MonotonicClock: the host's Clock, CLOCK_MONOTONIC in nanoseconds.
#pragma once

#include "nucleus/clock.hpp"

namespace rvm::host {

class MonotonicClock final : public Clock {
public:
    [[nodiscard]] std::uint64_t now_ns() const override;
};

}  // namespace rvm::host
