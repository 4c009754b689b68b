// RVM_ASSERT: for the nucleus's own invariants only. Nothing a guest does may
// reach one (STYLE.md 5); guest-caused conditions return a status instead.
#pragma once

namespace rvm {

// Called on a broken invariant. The host build routes it to abort(); a
// bare-metal build provides its own (halt the core, dump state).
[[noreturn]] void assertion_failed(const char* expr, const char* file, int line);

}  // namespace rvm

#define RVM_ASSERT(expr) ((expr) ? static_cast<void>(0) : ::rvm::assertion_failed(#expr, __FILE__, __LINE__))
