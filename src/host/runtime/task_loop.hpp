// run_task_loop: the life of one task, for any backend (backend::Vcpu): run
// the vCPU, turn each exit into an action, and repeat until the task exits,
// its partition fails, or the control plane stops it. The hooks are the
// host's side (TaskHost: nucleus, logs, flags); the loop itself does no I/O,
// so it is unit-tested with fake::FakeVcpu and synthetic exits.
#pragma once

#include <concepts>
#include <cstdint>
#include <optional>
#include <string>
#include <variant>

#include "backend/vcpu.hpp"
#include "host/runtime/agent_calls.hpp"
#include "nucleus/partition.hpp"

namespace rvm::host {

// The host's side of a task, checked at compile time (no type-erased hooks on
// the exit path). Each member answers one kind of step of the loop.
template <class H>
concept TaskHost = requires(H& h, const backend::Regs& regs, FailReason why, std::uint64_t n, std::uint32_t index,
                            std::optional<std::uint64_t> write, std::string text) {
    { h.stopped() } -> std::same_as<bool>;              // leave the loop now
    h.wait_while_suspended();                           // blocks while suspended, throttled or off its CPU
    { h.hypercall(regs) } -> std::same_as<CallResult>;  // handled, side effects done
    h.fail(why, n, text);                               // reason, rip, text
    h.exited(n);                                        // exit code
    h.counted();                                        // one exit happened
    h.yield();                                          // give up the CPU
    h.suspend(n);                                       // HIBERNATE C1 for this long
    { h.msr(index, write) } -> std::same_as<MsrReply>;  // a routed MSR access (write: WRMSR's value)
};

enum class TaskEnd : std::uint8_t { Exited, Failed, Stopped };

template <backend::Vcpu V, TaskHost H>
TaskEnd run_task_loop(V& vcpu, H& h) {
    namespace ex = backend::exits;
    TaskEnd end = TaskEnd::Stopped;
    for (;;) {
        if (h.stopped()) break;
        h.wait_while_suspended();
        if (h.stopped()) break;
        auto r = vcpu.run();
        if (!r) {
            h.fail(FailReason::Other, 0, backend::describe(r.error()));
            end = TaskEnd::Failed;
            break;
        }
        h.counted();
        const backend::VcpuExit& e = r.value();
        if (const auto* call = std::get_if<ex::Hypercall>(&e)) {
            const CallResult c = h.hypercall(call->regs);
            if (c.next == CallResult::Next::ExitTask) {
                h.exited(c.exit_code);
                end = TaskEnd::Exited;
                break;
            }
            if (!vcpu.set_result(c.rax)) {
                h.fail(FailReason::Other, call->regs.rip, "cannot set the hypercall result");
                end = TaskEnd::Failed;
                break;
            }
            if (c.next == CallResult::Next::Yield) h.yield();
            if (c.next == CallResult::Next::Suspend) h.suspend(c.suspend_ns);
            continue;
        }
        if (std::holds_alternative<ex::Preempted>(e)) continue;
        if (const auto* rd = std::get_if<ex::MsrRead>(&e)) {
            const MsrReply m = h.msr(rd->index, std::nullopt);
            vcpu.complete_msr(m.value, m.gp);
            continue;
        }
        if (const auto* wr = std::get_if<ex::MsrWrite>(&e)) {
            const MsrReply m = h.msr(wr->index, wr->value);
            vcpu.complete_msr(0, m.gp);
            continue;
        }
        if (const auto* halt = std::get_if<ex::Halt>(&e)) {
            h.fail(FailReason::IllegalInstruction, halt->rip, "hlt");
        } else if (const auto* s = std::get_if<ex::Shutdown>(&e)) {
            h.fail(FailReason::TripleFault, s->rip, "triple fault (unhandled guest exception)");
        } else if (const auto* f = std::get_if<ex::Fault>(&e)) {
            h.fail(FailReason::BadAccess, f->rip, std::string(f->reason) + " (" + std::to_string(f->detail) + ")");
        }
        end = TaskEnd::Failed;
        break;
    }
    vcpu.thread_done();
    return end;
}

}  // namespace rvm::host
