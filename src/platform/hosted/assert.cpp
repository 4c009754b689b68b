// The hosted definition of the nucleus's assertion hook.
#include <cstdio>
#include <cstdlib>

#include "nucleus/assert.hpp"

namespace rvm {

void assertion_failed(const char* expr, const char* file, int line) {
    std::fprintf(stderr, "rvm: internal invariant broken: %s at %s:%d\n", expr, file, line);
    std::abort();
}

}  // namespace rvm
