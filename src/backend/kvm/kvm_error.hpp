// KvmError: which KVM/OS operation failed and its errno.
#pragma once

#include <string>

namespace rvm::kvm {

struct KvmError {
    const char* op = "";  // static string: the ioctl or call that failed
    int err = 0;          // errno, 0 when the failure is not an OS error
};

[[nodiscard]] std::string describe(const KvmError& e);

}  // namespace rvm::kvm
