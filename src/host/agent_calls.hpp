// AgentCalls: what the hypervisor does with one agent hypercall. A function
// of (partition state, registers) that performs no I/O itself: log lines and
// new tasks come back in the result for the runner to act on, so it is
// unit-tested with synthetic registers and no KVM.
#pragma once

#include <cstdint>
#include <mutex>
#include <optional>
#include <string>

#include "abi/agent.h"
#include "backend/vcpu_exit.hpp"
#include "host/agent_memory.hpp"
#include "host/psi_monitor.hpp"
#include "nucleus/syscalls.hpp"

namespace rvm::host {

struct SpawnRequest {
    TaskId task;
    std::uint64_t entry = 0;
    std::uint64_t arg = 0;
};

struct CallResult {
    enum class Next : std::uint8_t { Resume, Yield, ExitTask };
    Next next = Next::Resume;
    std::uint64_t rax = 0;        // Resume / Yield
    std::uint64_t exit_code = 0;  // ExitTask
    std::optional<std::string> log;
    std::optional<SpawnRequest> spawn;
};

// Token bucket for RVM_HC_LOG: `rate` lines per second, bursts of `rate`.
class LogLimiter {
public:
    explicit LogLimiter(std::uint32_t rate) : rate_(rate), tokens_(rate) {}
    [[nodiscard]] bool take(std::uint64_t now_ns);
    [[nodiscard]] std::uint64_t dropped() const { return dropped_; }

private:
    std::uint32_t rate_;
    double tokens_;
    std::uint64_t last_ns_ = 0;
    std::uint64_t dropped_ = 0;
};

struct PartitionCallContext {
    PartitionId partition;
    Kernel& kernel;
    Syscalls& syscalls;
    std::mutex& kernel_mu;  // serializes every nucleus call of the process
    const AgentMemory& memory;
    const rvm_info& info;
    std::uint64_t start_ns = 0;
    LogLimiter& log_limiter;
    std::mutex& limiter_mu;
    // Ψ (RVM_HC_PSI_*); null: those calls return RVM_E_NOT_SUPPORTED.
    PsiMonitor* psi = nullptr;
};

[[nodiscard]] CallResult handle_hypercall(const PartitionCallContext& ctx, const backend::Regs& regs,
                                          std::uint64_t now_ns);

// Printable form of an agent's log bytes: control characters become '?', a
// trailing newline is dropped.
[[nodiscard]] std::string sanitize_log(std::span<const std::uint8_t> bytes);

}  // namespace rvm::host
