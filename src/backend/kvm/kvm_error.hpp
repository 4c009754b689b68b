// KvmError: the KVM backend's errors are the seam's BackendError.
#pragma once

#include "backend/backend_error.hpp"

namespace rvm::kvm {

using KvmError = backend::BackendError;
using backend::describe;

}  // namespace rvm::kvm
