#include "host/posix/monotonic_clock.hpp"

#include <ctime>

namespace rvm::host {

std::uint64_t MonotonicClock::now_ns() const {
    timespec ts{};
    // CANNOT FAIL: CLOCK_MONOTONIC is always available on Linux.
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<std::uint64_t>(ts.tv_sec) * 1'000'000'000u + static_cast<std::uint64_t>(ts.tv_nsec);
}

}  // namespace rvm::host
