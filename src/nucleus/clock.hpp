// Clock: injected monotonic time source (the nucleus never reads a clock itself).
#pragma once

#include <cstdint>

namespace rvm {

class Clock {
public:
    virtual ~Clock() = default;
    // Monotonic nanoseconds. Must be callable concurrently.
    [[nodiscard]] virtual std::uint64_t now_ns() const = 0;
};

// A clock the caller moves by hand: unit tests, replay, the fake backend.
class ManualClock final : public Clock {
public:
    explicit ManualClock(std::uint64_t start_ns = 0) : now_(start_ns) {}
    [[nodiscard]] std::uint64_t now_ns() const override { return now_; }
    void set(std::uint64_t ns) { now_ = ns; }
    void advance(std::uint64_t ns) { now_ += ns; }

private:
    std::uint64_t now_;
};

}  // namespace rvm
