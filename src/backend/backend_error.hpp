// BackendError: which backend operation failed and its errno.
#pragma once

#include <cstring>
#include <string>

namespace rvm::backend {

struct BackendError {
    const char* op = "";  // static string: the ioctl or call that failed
    int err = 0;          // errno, 0 when the failure is not an OS error
};

[[nodiscard]] inline std::string describe(const BackendError& e) {
    std::string s = e.op;
    if (e.err != 0) {
        s += ": ";
        s += std::strerror(e.err);
    }
    return s;
}

}  // namespace rvm::backend
