// The Vcpu concept: what the host's task loop needs from any backend's vCPU
// (STYLE.md 2). KvmVcpu and fake::FakeVcpu satisfy it.
#pragma once

#include <concepts>
#include <cstdint>

#include "backend/backend_error.hpp"
#include "backend/vcpu_exit.hpp"
#include "nucleus/result.hpp"

namespace rvm::backend {

template <typename V>
concept Vcpu = requires(V& v, std::uint64_t rax, bool gp) {
    // Runs guest code until the next exit (only from the task's own thread).
    { v.run() } -> std::same_as<Result<VcpuExit, BackendError>>;
    // Sets the hypercall result register before the next run.
    { v.set_result(rax) } -> std::same_as<Result<void, BackendError>>;
    // Answers the MsrRead / MsrWrite exit just returned: `rax` is the value
    // read (ignored for a write); `gp` raises #GP in the guest instead.
    { v.complete_msr(rax, gp) } -> std::same_as<void>;
    // From any thread: make run() return Preempted soon.
    { v.kick() } -> std::same_as<void>;
    // The running thread is leaving; kicks must not signal it any more.
    { v.thread_done() } -> std::same_as<void>;
};

}  // namespace rvm::backend
