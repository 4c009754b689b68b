// AgentCalls: what the hypervisor does with one agent hypercall. A function
// of (partition state, registers) that performs no I/O itself: log lines and
// new tasks come back in the result for the runner to act on, so it is
// unit-tested with synthetic registers and no KVM.
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>

#include "abi/agent.h"
#include "backend/vcpu_exit.hpp"
#include "host/psi/psi_monitor.hpp"
#include "host/runtime/agent_memory.hpp"
#include "host/runtime/nucleus_gate.hpp"
#include "nucleus/syscalls.hpp"

namespace rvm::host {

struct SpawnRequest {
    TaskId task;
    std::uint64_t entry = 0;
    std::uint64_t arg = 0;
};

// notify_signal / notify_wait on a CommEdge, decoded and checked against the
// caller's capability; the runner performs it (it owns the edge memory and
// the sleepers). `sender`: the caller is the edge's sender.
struct NotifyRequest {
    EdgeId edge;
    bool sender = false;
    bool wait = false;
    std::uint64_t bits = 0;        // signal: bits for the peer; wait: the bits waited for
    std::uint64_t timeout_ns = 0;  // wait: 0 = until signalled (or the partition stops)
};

inline constexpr std::uint64_t kNotifyMaxWaitNs = 10'000'000'000;  // 10 s

struct CallResult {
    // Suspend: RVM_HC_PSI_HIBERNATE C1 -- rax is set, then the partition is
    // suspended for suspend_ns (the runner resumes it, or the control plane).
    enum class Next : std::uint8_t { Resume, Yield, ExitTask, Suspend };
    Next next = Next::Resume;
    std::uint64_t rax = 0;        // Resume / Yield
    std::uint64_t exit_code = 0;  // ExitTask
    std::optional<std::string> log;
    std::optional<SpawnRequest> spawn;
    std::uint64_t suspend_ns = 0;  // Suspend
    std::optional<NotifyRequest> notify;
};

// RVM_HC_PSI_HIBERNATE C1's argument 2: how long to stay suspended.
inline constexpr std::uint64_t kC1DefaultNs = 10'000'000;  // 0 means one default epoch
inline constexpr std::uint64_t kC1MaxNs = 10'000'000'000;  // 10 s

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
    NucleusGate& nucleus;  // every nucleus call of the process passes it
    const AgentMemory& memory;
    const rvm_info& info;
    std::uint64_t start_ns = 0;
    LogLimiter& log_limiter;
    std::mutex& limiter_mu;
    // Ψ (RVM_HC_PSI_*); null: those calls return RVM_E_NOT_SUPPORTED.
    PsiMonitor* psi = nullptr;
    // Guest address of the partition's registered shared Ψ page (0: none);
    // null: REGISTER with a page returns RVM_E_NOT_SUPPORTED.
    std::atomic<std::uint64_t>* psi_page = nullptr;
    // The Ψ memory allowance (DESIGN.md 6) bounds RVM_HC_REGION_MAP growth
    // beyond the partition's base RAM (`base_pages`) to mem_permille of it,
    // while this flag is set (the runner's policy switch); null: not enforced.
    const std::atomic<bool>* psi_policy = nullptr;
    std::uint64_t base_pages = 0;
};

// The host's answer to a routed RDMSR / WRMSR: the value read, or #GP.
struct MsrReply {
    std::uint64_t value = 0;
    bool gp = true;
};

// The seed-001 Ψ MSRs (abi/psi.h) for task `task` of the partition: `write`
// holds a WRMSR's value. An unknown MSR, a reserved bit, a bad value, a write
// to a read-only MSR or a context without a Ψ monitor: #GP, nothing changed.
[[nodiscard]] MsrReply handle_psi_msr(const PartitionCallContext& ctx, TaskId task, std::uint32_t index,
                                      std::optional<std::uint64_t> write);

[[nodiscard]] CallResult handle_hypercall(const PartitionCallContext& ctx, const backend::Regs& regs,
                                          std::uint64_t now_ns);

// Printable form of an agent's log bytes: control characters become '?', a
// trailing newline is dropped.
[[nodiscard]] std::string sanitize_log(std::span<const std::uint8_t> bytes);

}  // namespace rvm::host
