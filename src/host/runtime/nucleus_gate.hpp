// NucleusGate: the one way a host thread reaches the nucleus. The nucleus is
// single-threaded by design (no locks inside, DESIGN.md 2); every task
// thread, the supervisor, the scheduler thread and the control plane call it
// through `with`, which holds the process-wide lock for exactly the call.
// No other code in the host takes that lock or holds a Kernel reference it
// mutates without it.
#pragma once

#include <mutex>
#include <type_traits>
#include <utility>

#include "nucleus/kernel.hpp"
#include "nucleus/syscalls.hpp"

namespace rvm::host {

class NucleusGate {
public:
    explicit NucleusGate(Kernel& kernel) : kernel_(kernel), syscalls_(kernel) {}
    NucleusGate(const NucleusGate&) = delete;
    NucleusGate& operator=(const NucleusGate&) = delete;

    // Runs f(kernel) under the lock and returns what it returns.
    template <class F>
    decltype(auto) with(F&& f) {
        std::lock_guard<std::mutex> g(mu_);
        return std::forward<F>(f)(kernel_);
    }
    // Runs f(kernel, syscalls) under the lock: the hypercall boundary.
    template <class F>
    decltype(auto) with_calls(F&& f) {
        std::lock_guard<std::mutex> g(mu_);
        return std::forward<F>(f)(kernel_, syscalls_);
    }

private:
    std::mutex mu_;
    Kernel& kernel_;
    Syscalls syscalls_;
};

}  // namespace rvm::host
