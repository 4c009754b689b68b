// The nucleus demo (`rvm demo`): drives the kernel objects through their
// rules on the fake backend, persists a sealed witness log, and replays it.
#pragma once

#include <string>

namespace rvm::host {

struct DemoOptions {
    std::string witness_path;  // must not exist; <path>.pub is written beside it
};

// Returns the process exit code: 0 when every step behaved as the rules say
// and the replayed state equals the live one.
int run_nucleus_demo(const DemoOptions& options);

}  // namespace rvm::host
