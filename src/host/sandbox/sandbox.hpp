// The sandbox of the hypervisor process (Firecracker's seccomp filters and
// jailer are the model): once a runtime is built -- VMs created, agents
// loaded, the witness file open -- the process loses what it no longer
// needs. enter() sets no_new_privs, drops every capability but CAP_SYS_NICE
// (the Ψ boost raises task-thread priority), and installs a seccomp-bpf
// allowlist on every thread; each task (vCPU) thread then narrows its own
// filter further with restrict_vcpu_thread(). A call outside the list kills
// the process (SIGSYS): a hypervisor that makes an unexpected system call is
// not to be trusted to go on. Every rule carries its reason (sandbox.cpp).
#pragma once

#include <cstdint>
#include <string>

#include "nucleus/result.hpp"

namespace rvm::host {

struct SandboxOptions {
    // Forward-secure witness sealing: a task thread's witnessed call may
    // rewrite the sealing state file (back-pressure on a new epoch).
    bool task_threads_rewrite_state = false;
};

struct SandboxReport {
    std::uint32_t process_rules = 0;  // syscalls the process-wide filter allows
    std::uint32_t vcpu_rules = 0;     // and the stricter one of task threads
    bool caps_dropped = false;
};

class Sandbox {
public:
    // The process-wide part, for every thread (seccomp TSYNC). Call from the
    // thread that will supervise, before the task threads start.
    [[nodiscard]] static Result<SandboxReport, std::string> enter(const SandboxOptions& options = {});
    // The calling task thread's own, stricter filter (stacked on the
    // process filter; inherited by the task threads it spawns).
    [[nodiscard]] static Result<void, std::string> restrict_vcpu_thread();

private:
    static bool state_file_;  // set once by enter(), before any task thread starts
};

}  // namespace rvm::host
