// run_task_loop: the life of one task, for any backend (backend::Vcpu): run
// the vCPU, turn each exit into an action, and repeat until the task exits,
// its partition fails, or the control plane stops it. The hooks are the
// runner's side (nucleus, logs, flags); the loop itself does no I/O, so it is
// unit-tested with fake::FakeVcpu and synthetic exits.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <variant>

#include "backend/vcpu.hpp"
#include "host/runtime/agent_calls.hpp"
#include "nucleus/partition.hpp"

namespace rvm::host {

struct TaskHooks {
    std::function<bool()> stopped;                                     // leave the loop now
    std::function<void()> wait_while_suspended;                        // blocks while suspended
    std::function<CallResult(const backend::Regs&)> hypercall;         // handled, side effects done
    std::function<void(FailReason, std::uint64_t, std::string)> fail;  // reason, rip, text
    std::function<void(std::uint64_t)> exited;                         // exit code
    std::function<void()> counted;                                     // one exit happened
    std::function<void()> yield;                                       // give up the CPU
    // The partition asked to be suspended for this long (HIBERNATE C1);
    // unset: a yield.
    std::function<void(std::uint64_t)> suspend;
    // A routed MSR access: `write` holds the value of a WRMSR. Unset: #GP.
    std::function<MsrReply(std::uint32_t, std::optional<std::uint64_t>)> msr;
};

enum class TaskEnd : std::uint8_t { Exited, Failed, Stopped };

template <backend::Vcpu V>
TaskEnd run_task_loop(V& vcpu, const TaskHooks& h) {
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
            if (c.next == CallResult::Next::Suspend) {
                if (h.suspend) {
                    h.suspend(c.suspend_ns);
                } else {
                    h.yield();
                }
            }
            continue;
        }
        if (std::holds_alternative<ex::Preempted>(e)) continue;
        if (const auto* rd = std::get_if<ex::MsrRead>(&e)) {
            const MsrReply m = h.msr ? h.msr(rd->index, std::nullopt) : MsrReply{};
            vcpu.complete_msr(m.value, m.gp);
            continue;
        }
        if (const auto* wr = std::get_if<ex::MsrWrite>(&e)) {
            const MsrReply m = h.msr ? h.msr(wr->index, wr->value) : MsrReply{};
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
