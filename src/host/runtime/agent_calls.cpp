#include "host/runtime/agent_calls.hpp"

#include <algorithm>
#include <cstring>

#include "abi/edge.h"
#include "abi/hypercall.h"
#include "abi/psi.h"
#include "host/psi/psi_page.hpp"
#include "nucleus/call_table.hpp"

namespace rvm::host {

namespace {

CallResult resume(std::uint64_t rax) { return CallResult{CallResult::Next::Resume, rax, 0, {}, {}, 0, {}}; }
CallResult error(rvm_status s, std::uint8_t arg) { return resume(static_cast<std::uint64_t>(Status{s, arg}.to_ret())); }

CallResult log_call(const PartitionCallContext& ctx, const backend::Regs& r, std::uint64_t now_ns) {
    if (r.rsi > RVM_LOG_MAX) return error(RVM_E_INVALID, 2);
    const auto v = ctx.memory.view(r.rdi, r.rsi, false);
    if (!v.ok) return error(RVM_E_FAULT, 1);
    {
        std::lock_guard<std::mutex> g(ctx.limiter_mu);
        if (!ctx.log_limiter.take(now_ns)) return error(RVM_E_POLICY, 0);
    }
    CallResult out = resume(r.rsi);
    out.log = sanitize_log(v.bytes);
    return out;
}

CallResult info_call(const PartitionCallContext& ctx, const backend::Regs& r) {
    const std::uint64_t n = std::min<std::uint64_t>(r.rsi, sizeof(rvm_info));
    const auto v = ctx.memory.view(r.rdi, n, true);
    if (!v.ok) return error(RVM_E_FAULT, 1);
    if (n != 0) std::memcpy(v.bytes.data(), &ctx.info, n);  // an empty view has no data pointer
    return resume(n);
}

// task_spawn from an agent: the nucleus checks the capability and quota; the
// host checks that the entry point is code and returns the new task to start.
CallResult spawn_call(const PartitionCallContext& ctx, const backend::Regs& r, const SyscallFrame& f) {
    return ctx.nucleus.with_calls([&](Kernel& kernel, Syscalls& syscalls) {
        // Arguments in order: the capability (decode), then the entry point.
        const auto d = syscalls.decode(ctx.partition, f, ctx.memory);
        if (!d) return resume(static_cast<std::uint64_t>(d.error().to_ret()));
        if (!ctx.memory.executable(r.rsi)) return error(RVM_E_INVALID, 2);
        const auto p = syscalls.perform(ctx.partition, d.value());
        if (!p) return resume(static_cast<std::uint64_t>(p.error().to_ret()));
        const auto ret = static_cast<rvm_ret_t>(p.value());
        const auto c = kernel.state().caps.lookup(
            ctx.partition.index, CapHandle::from_raw(static_cast<std::uint64_t>(ret)), RVM_OBJ_TASK, Rights{});
        if (!c) return error(RVM_E_STATE, 0);  // CANNOT FAIL: the nucleus just minted it
        CallResult out = resume(static_cast<std::uint64_t>(ret));
        out.spawn = SpawnRequest{TaskId::from_raw(c.value().object.id), r.rsi, r.rdx};
        return out;
    });
}

CallResult status_result(const Status& s) { return resume(static_cast<std::uint64_t>(s.to_ret())); }

// Seed 001 Ψ calls (abi/psi.h): argument checks here, state in the monitor's
// engine. A context without a monitor serves none of them.
CallResult psi_call(const PartitionCallContext& ctx, const backend::Regs& r) {
    if (ctx.psi == nullptr) return error(RVM_E_NOT_SUPPORTED, 0);
    PsiMonitor& psi = *ctx.psi;
    switch (r.rax) {
        case RVM_HC_PSI_REGISTER: {
            if (r.rdi != 0) {
                if (ctx.psi_page == nullptr) return error(RVM_E_NOT_SUPPORTED, 1);
                if (r.rdi % RVM_PSI_PAGE_SIZE != 0) return error(RVM_E_INVALID, 1);
                const auto v = ctx.memory.view(r.rdi, RVM_PSI_PAGE_SIZE, true);
                if (!v.ok) return error(RVM_E_FAULT, 1);
                if (!psi_page_valid(v.bytes.first<RVM_PSI_PAGE_SIZE>())) return error(RVM_E_INVALID, 1);
            }
            const auto g = psi.guest_register(ctx.partition);
            if (!g) return status_result(g.error());
            if (r.rdi != 0) ctx.psi_page->store(r.rdi);
            return resume(0);
        }
        case RVM_HC_PSI_UPDATE: {
            if (r.rdi > RVM_PSI_RATIO_ONE) return error(RVM_E_INVALID, 1);
            const PsiGuestReport report{static_cast<std::uint32_t>(r.rdi), r.rsi, r.rdx};
            const auto u = psi.guest_update(ctx.partition, report);
            return u ? resume(0) : status_result(u.error().at(u.error().code == RVM_E_INVALID ? 1 : 0));
        }
        case RVM_HC_PSI_QUERY: {
            switch (r.rdi) {
                case RVM_PSI_QUERY_GUESTS: return resume(psi.host_view().guest_ratio_ppm);
                case RVM_PSI_QUERY_HOST: return resume(psi.host_view().ratio_ppm);
                case RVM_PSI_QUERY_SELF: {
                    const auto v = psi.partition_view(ctx.partition);
                    return v ? resume(v.value().ratio_ppm) : status_result(v.error());
                }
                case RVM_PSI_QUERY_CPU_PERMILLE:
                case RVM_PSI_QUERY_MEM_PERMILLE: {
                    const auto d = psi.policy(ctx.partition);
                    if (!d) return status_result(d.error());
                    return resume(r.rdi == RVM_PSI_QUERY_CPU_PERMILLE ? d.value().cpu_permille
                                                                      : d.value().mem_permille);
                }
                default: return error(RVM_E_INVALID, 1);
            }
        }
        default: {  // RVM_HC_PSI_HIBERNATE
            switch (r.rdi) {
                case RVM_PSI_POWER_C0: return resume(0);
                case RVM_PSI_POWER_C1: {
                    if (r.rsi > kC1MaxNs) return error(RVM_E_INVALID, 2);
                    CallResult out{CallResult::Next::Suspend, 0, 0, {}, {}, 0, {}};
                    out.suspend_ns = r.rsi == 0 ? kC1DefaultNs : r.rsi;
                    return out;
                }
                case RVM_PSI_POWER_C3:
                case RVM_PSI_POWER_C6: return error(RVM_E_NOT_SUPPORTED, 1);
                default: return error(RVM_E_INVALID, 1);
            }
        }
    }
}

// notify_signal(cap, bits) / notify_wait(cap, mask, timeout_ns): the
// capability must name a CommEdge in the caller's table (any right: both ends
// hold one); bits and mask are non-zero within bits 0..62.
CallResult notify_call(const PartitionCallContext& ctx, const backend::Regs& r) {
    NotifyRequest n;
    const auto named = ctx.nucleus.with([&](Kernel& kernel) -> std::optional<CallResult> {
        const auto c =
            kernel.state().caps.lookup(ctx.partition.index, CapHandle::from_raw(r.rdi), RVM_OBJ_COMMEDGE, Rights{});
        if (!c) return status_result(c.error().at(1));
        n.edge = EdgeId::from_raw(c.value().object.id);
        const CommEdge* e = kernel.state().edges.get(n.edge);
        if (e == nullptr) return error(RVM_E_BAD_HANDLE, 1);  // CANNOT FAIL: a live cap names a live edge
        n.sender = e->source == ctx.partition;
        return std::nullopt;
    });
    if (named) return *named;
    if (r.rsi == 0 || (r.rsi & ~std::uint64_t{RVM_EDGE_NOTIFY_VALID}) != 0) return error(RVM_E_INVALID, 2);
    n.bits = r.rsi;
    if (r.rax == RVM_HC_NOTIFY_WAIT) {
        if (r.rdx > kNotifyMaxWaitNs) return error(RVM_E_INVALID, 3);
        n.wait = true;
        n.timeout_ns = r.rdx;
    }
    CallResult out = resume(0);
    out.notify = n;
    return out;
}

// Under the kernel mutex. A request the decoder would refuse anyway passes
// through so that it gets the decoder's own status.
bool within_memory_allowance(const PartitionCallContext& ctx, const Kernel& kernel, std::uint64_t bytes) {
    if (ctx.psi == nullptr || ctx.psi_policy == nullptr || !ctx.psi_policy->load()) return true;
    if (bytes == 0 || bytes % 4096 != 0 || bytes > (std::uint64_t{1} << 48)) return true;
    const auto d = ctx.psi->policy(ctx.partition);
    const Partition* p = kernel.partition(ctx.partition);
    if (!d || p == nullptr) return true;
    // Bounded: mem_pages by the partition's space, bytes by the check above.
    const std::uint64_t allowed = ctx.base_pages * d.value().mem_permille / 1000u;
    const std::uint64_t after = p->mem_pages + bytes / 4096;
    return after <= ctx.base_pages || after - ctx.base_pages <= allowed;
}

}  // namespace

bool LogLimiter::take(std::uint64_t now_ns) {
    if (last_ns_ != 0 && now_ns > last_ns_) {
        tokens_ = std::min<double>(rate_, tokens_ + static_cast<double>(now_ns - last_ns_) * 1e-9 * rate_);
    }
    last_ns_ = now_ns;
    if (tokens_ < 1.0) {
        ++dropped_;
        return false;
    }
    tokens_ -= 1.0;
    return true;
}

std::string sanitize_log(std::span<const std::uint8_t> bytes) {
    std::string s;
    s.reserve(bytes.size());
    for (const std::uint8_t b : bytes) s.push_back((b >= 0x20 && b < 0x7f) || b == '\t' ? static_cast<char>(b) : '?');
    if (!bytes.empty() && bytes.back() == '\n') s.pop_back();
    return s;
}

// One table says whose a call is (nucleus/call_table.hpp): the nucleus's go
// through decode-then-perform under the gate; the host's are served here.
CallResult handle_hypercall(const PartitionCallContext& ctx, const backend::Regs& r, std::uint64_t now_ns) {
    const SyscallFrame f{r.rax, {r.rdi, r.rsi, r.rdx, r.r10, r.r8, r.r9}};
    if (call_entry(r.rax).home != CallHome::Host) {
        // task_spawn: the host checks the entry point between decode and perform.
        if (r.rax == RVM_HC_TASK_SPAWN) return spawn_call(ctx, r, f);
        return ctx.nucleus.with_calls([&](Kernel& kernel, Syscalls& syscalls) {
            if (r.rax == RVM_HC_REGION_MAP && !within_memory_allowance(ctx, kernel, r.rsi)) {
                return error(RVM_E_POLICY, 2);
            }
            return resume(static_cast<std::uint64_t>(syscalls.dispatch(ctx.partition, f, ctx.memory)));
        });
    }
    switch (r.rax) {
        case RVM_HC_EXIT: return CallResult{CallResult::Next::ExitTask, 0, r.rdi, {}, {}, 0, {}};
        case RVM_HC_LOG: return log_call(ctx, r, now_ns);
        case RVM_HC_YIELD: return CallResult{CallResult::Next::Yield, 0, 0, {}, {}, 0, {}};
        case RVM_HC_CLOCK: return resume(now_ns - ctx.start_ns);
        case RVM_HC_INFO: return info_call(ctx, r);
        case RVM_HC_PSI_REGISTER:
        case RVM_HC_PSI_UPDATE:
        case RVM_HC_PSI_QUERY:
        case RVM_HC_PSI_HIBERNATE: return psi_call(ctx, r);
        case RVM_HC_NOTIFY_SIGNAL:
        case RVM_HC_NOTIFY_WAIT: return notify_call(ctx, r);
        default: return error(RVM_E_NOT_SUPPORTED, 0);  // CANNOT FAIL: every Host row of the table has a case
    }
}

}  // namespace rvm::host
