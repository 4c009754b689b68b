#include "host/runtime/task_thread.hpp"

#include <sched.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include "host/runtime/task_loop.hpp"
#include "host/sandbox/sandbox.hpp"

namespace rvm::host {

namespace {

// A task's vCPU as the task loop sees it: every use passes the partition's
// reshape gate, so a reshape can recreate the vCPU while no thread is in it.
class GatedVcpu {
public:
    GatedVcpu(AgentPartition& p, kvm::KvmVcpu& v) : p_(p), v_(v) {}
    Result<backend::VcpuExit, backend::BackendError> run() {
        p_.enter_vcpu();
        auto r = v_.run();
        p_.leave_vcpu();
        return r;
    }
    Result<void, backend::BackendError> set_result(std::uint64_t rax) {
        p_.enter_vcpu();
        auto r = v_.set_result(rax);
        p_.leave_vcpu();
        return r;
    }
    void complete_msr(std::uint64_t value, bool gp) {
        p_.enter_vcpu();
        v_.complete_msr(value, gp);
        p_.leave_vcpu();
    }
    void kick() { v_.kick(); }
    void thread_done() { v_.thread_done(); }

private:
    AgentPartition& p_;
    kvm::KvmVcpu& v_;
};
static_assert(backend::Vcpu<GatedVcpu>);

}  // namespace

// The host side of one running task.
class TaskHostImpl {
public:
    TaskHostImpl(TaskThreads& threads, AgentPartition& p, AgentTask& t)
        : threads_(threads), s_(threads.s_), p_(p), t_(t), ctx_{p.id,         s_.nucleus,       *p.memory,
                                                                p.info,       p.start_ns,       p.limiter,
                                                                p.limiter_mu, &s_.psi.monitor()} {
        ctx_.psi_page = &p.psi_page;
        ctx_.psi_policy = &s_.psi.policy();
        ctx_.base_pages = p.layout.ram_size() / 4096;
    }

    bool stopped() const { return p_.stop.load(); }

    void wait_while_suspended() {
        // Suspended (C1 or the control plane) or held out by the Ψ duty
        // cycle: the task is off its CPU, so the scheduler may give it away.
        if (p_.suspended) {
            s_.sched.off_cpu(t_, [&] {
                std::unique_lock<std::mutex> g(p_.mu);
                p_.cv.wait(g, [&] { return !p_.suspended || p_.stop; });
            });
        }
        const std::uint64_t until = p_.throttle_until.load();
        const std::uint64_t now = until != 0 ? s_.clock.now_ns() : 0;
        if (until > now && !p_.stop) {
            s_.sched.off_cpu(t_, [&] {
                std::unique_lock<std::mutex> g(p_.mu);
                p_.cv.wait_for(g, std::chrono::nanoseconds(until - now), [&] { return p_.stop.load(); });
            });
        }
        if (s_.sched.on()) s_.sched.wait_for_cpu(t_, p_.stop);
    }

    CallResult hypercall(const backend::Regs& regs) {
        t_.hypercalls.fetch_add(1, std::memory_order_relaxed);
        CallResult r = handle_hypercall(ctx_, regs, s_.clock.now_ns());
        if (r.notify) {
            r.rax =
                s_.edges.notify(*r.notify, p_.stop, [&](const std::function<void()>& w) { s_.sched.off_cpu(t_, w); });
        }
        if (r.log && s_.log) s_.log(p_.spec.name, *r.log);
        if (r.spawn) spawn(*r.spawn, r);
        return r;
    }

    void fail(FailReason reason, std::uint64_t rip, const std::string& why) { s_.control.fail(p_, reason, rip, why); }
    void exited(std::uint64_t code) { s_.control.task_exited(p_, t_, code); }
    void counted() { t_.exits.fetch_add(1, std::memory_order_relaxed); }
    void yield() { sched_yield(); }
    void suspend(std::uint64_t ns) { s_.control.guest_suspend(p_, ns); }
    MsrReply msr(std::uint32_t index, std::optional<std::uint64_t> write) {
        return handle_psi_msr(ctx_, t_.id, index, write);
    }

private:
    // The nucleus has spawned the task; its vCPU and thread are the host's.
    void spawn(const SpawnRequest& req, CallResult& r) {
        const auto added = p_.add_task(req.task, req.entry, req.arg);
        if (added) {
            std::lock_guard<std::mutex> g(p_.mu);
            threads_.start(p_, *added.value());
            return;
        }
        s_.nucleus.with([&](Kernel& k) { (void)k.terminate_task(req.task, 0); });
        r.rax = static_cast<std::uint64_t>(Status{RVM_E_EXHAUSTED, 0}.to_ret());
    }

    TaskThreads& threads_;
    TaskServices& s_;
    AgentPartition& p_;
    AgentTask& t_;
    PartitionCallContext ctx_;
};
static_assert(TaskHost<TaskHostImpl>);

void TaskThreads::start(AgentPartition& p, AgentTask& t) {
    s_.nucleus.with([&](Kernel& k) { (void)k.set_task_state(t.id, TaskState::Running); });
    s_.psi.monitor().attach_task(p.id, t.id, t.vcpu->fd(), &t.exits, &t.hypercalls);
    if (s_.sched.on()) s_.sched.enqueue(p, t);
    t.thread = std::thread([this, &p, &t] { run(p, t); });
}

void TaskThreads::run(AgentPartition& p, AgentTask& t) {
    t.tid = static_cast<int>(gettid());
    if (s_.sandboxed) {
        const auto r = Sandbox::restrict_vcpu_thread();
        if (!r) s_.control.fail(p, FailReason::Other, 0, r.error());
    }
    TaskHostImpl host(*this, p, t);
    GatedVcpu gated(p, *t.vcpu);
    (void)run_task_loop(gated, host);
    if (s_.sched.on()) s_.sched.remove(t);
    s_.psi.monitor().retire_task(t.id);
    std::lock_guard<std::mutex> g(p.mu);
    t.done = true;
}

}  // namespace rvm::host
