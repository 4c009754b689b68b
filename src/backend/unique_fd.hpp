// UniqueFd: sole owner of a file descriptor (STYLE.md 6).
#pragma once

#include <unistd.h>

#include <utility>

namespace rvm {

class UniqueFd {
public:
    UniqueFd() = default;
    explicit UniqueFd(int fd) : fd_(fd) {}
    UniqueFd(UniqueFd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
    UniqueFd& operator=(UniqueFd&& other) noexcept {
        if (this != &other) {
            reset();
            fd_ = std::exchange(other.fd_, -1);
        }
        return *this;
    }
    UniqueFd(const UniqueFd&) = delete;
    UniqueFd& operator=(const UniqueFd&) = delete;
    ~UniqueFd() { reset(); }

    [[nodiscard]] int get() const { return fd_; }
    [[nodiscard]] bool valid() const { return fd_ >= 0; }

    // close() errors are ignored on purpose: whoever needs durability
    // fsyncs before letting go, and retrying close() on Linux is wrong.
    void reset() {
        if (fd_ >= 0) (void)::close(fd_);
        fd_ = -1;
    }

private:
    int fd_ = -1;
};

}  // namespace rvm
