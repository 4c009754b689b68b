#include "host/runtime/agent_runner.hpp"

#include <fmt/format.h>
#include <sched.h>
#include <sys/resource.h>
#include <unistd.h>

#include <pthread.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <limits>
#include <set>
#include <thread>

#include "abi/agent.h"
#include "abi/edge.h"
#include "abi/psi.h"
#include "host/psi/psi_page.hpp"
#include "host/runtime/task_loop.hpp"

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

constexpr std::uint64_t kHoldTimeoutNs = 1'000'000'000;

}  // namespace

AgentRunner::AgentRunner(Kernel& kernel, const Clock& clock, const kvm::KvmSystem& sys, LogFn log)
    : kernel_(kernel), clock_(clock), sys_(sys), log_(std::move(log)), syscalls_(kernel) {}

// Ends a partition's guest execution: its vCPUs leave the guest, and its
// threads waiting in the host (edges, the scheduler's gate) look again.
void AgentRunner::halt(AgentPartition& p) {
    p.stop = true;
    p.kick_all();
    wake_edges();
    {
        std::lock_guard<std::mutex> g(sched_mu_);  // a gate waiter between check and sleep sees `stop`
    }
    gate_cv_.notify_all();
}

AgentRunner::~AgentRunner() {
    for (auto& p : parts_) halt(*p);
    {
        std::lock_guard<std::mutex> g(sched_mu_);
        sched_stop_ = true;
    }
    gate_cv_.notify_all();
    sched_cv_.notify_all();
    if (sched_thread_.joinable()) sched_thread_.join();
    parts_.clear();  // joins the threads
}

Result<std::size_t, std::string> AgentRunner::add(const AgentSpec& spec) {
    auto p = AgentPartition::create(kernel_, kernel_mu_, sys_, spec, clock_.now_ns());
    if (!p) return err(p.error());
    psi_.attach_partition(p.value()->id);
    parts_.push_back(std::move(p.value()));
    const std::size_t i = parts_.size() - 1;
    if (coherence_) coherence_->add_partition(parts_[i]->id, spec.name, cell_of(i));
    return i;
}

Result<EdgeId, std::string> AgentRunner::connect(std::size_t from, std::size_t to, std::uint64_t capacity,
                                                 std::uint64_t share) {
    if (from >= parts_.size() || to >= parts_.size() || from == to) return err(std::string("edge: bad partitions"));
    if (capacity < kEdgeMinCapacity || capacity > kEdgeMaxCapacity || (capacity & (capacity - 1)) != 0) {
        return err(fmt::format("edge capacity {} is not a power of two in 4 KiB .. 1 MiB", capacity));
    }
    if (share % 4096 != 0 || share > RVM_EDGE_SHARE_MAX) {
        return err(fmt::format("zero-copy region of {} bytes is not a multiple of 4 KiB up to 2 MiB", share));
    }
    AgentPartition& a = *parts_[from];
    AgentPartition& b = *parts_[to];
    if (a.edge_count >= RVM_EDGE_MAX || b.edge_count >= RVM_EDGE_MAX) {
        return err(fmt::format("edge: a partition has {} edges already", RVM_EDGE_MAX));
    }
    auto window = kvm::GuestRam::create(RVM_EDGE_WINDOW_SIZE(capacity), "rvm-edge");
    if (!window) return err(fmt::format("edge memory: {}", kvm::describe(window.error())));
    EdgeId id;
    CapHandle send_cap, recv_cap;
    {
        std::lock_guard<std::mutex> g(kernel_mu_);
        const auto e = kernel_.create_edge(a.id, b.id);
        if (!e) return err(fmt::format("nucleus refused the edge: {}", status_name(e.error().code)));
        id = e.value();
        send_cap = kernel_.state().caps.handle_of(a.id.index, ObjectRef{RVM_OBJ_COMMEDGE, id.raw()});
        recv_cap = kernel_.state().caps.handle_of(b.id.index, ObjectRef{RVM_OBJ_COMMEDGE, id.raw()});
    }
    auto link = std::make_unique<EdgeLink>(id, a.id, b.id, capacity, std::move(window.value()));
    EdgeLink& l = *link;
    std::uint64_t gpa_a = 0, gpa_b = 0;
    if (share != 0) {
        auto mem = kvm::GuestRam::create(share, "rvm-edge-share");
        std::lock_guard<std::mutex> g(kernel_mu_);
        const auto r = kernel_.create_region(a.id, share / 4096, RVM_REGION_APPEND_ONLY, RVM_TIER_HOT);
        const auto s = r ? kernel_.share_region(r.value(), b.id) : KResult<std::uint64_t>(err(r.error()));
        if (!mem || !s) {
            if (r) (void)kernel_.destroy_region(r.value());
            (void)kernel_.destroy_edge(id);
            return err(!mem ? fmt::format("zero-copy memory: {}", kvm::describe(mem.error()))
                            : fmt::format("nucleus refused the zero-copy region: {}", status_name(s.error().code)));
        }
        l.share.emplace(std::move(mem.value()));
        l.share_region = r.value();
        gpa_a = kernel_.state().regions.get(r.value())->gpa;
        gpa_b = s.value();
    }
    {
        // Kept even if mapping fails below: a VM may already map it.
        std::lock_guard<std::mutex> g(edges_mu_);
        edges_.push_back(std::move(link));
    }
    auto mapped = a.attach_edge(l, true, send_cap, b.id.index, gpa_a);
    if (mapped) mapped = b.attach_edge(l, false, recv_cap, a.id.index, gpa_b);
    if (!mapped) {
        l.close();
        std::lock_guard<std::mutex> g(kernel_mu_);
        (void)kernel_.destroy_edge(id);
        return err(mapped.error());
    }
    return id;
}

EdgeLink* AgentRunner::edge(EdgeId e) {
    std::lock_guard<std::mutex> g(edges_mu_);
    for (auto& l : edges_) {
        if (l->id == e) return l.get();
    }
    return nullptr;
}

KResult<void> AgentRunner::destroy_edge(EdgeId e) {
    {
        std::lock_guard<std::mutex> g(kernel_mu_);
        const auto r = kernel_.destroy_edge(e);
        if (!r) return r;
    }
    if (EdgeLink* l = edge(e)) l->close();
    return {};
}

void AgentRunner::wake_edges() {
    std::lock_guard<std::mutex> g(edges_mu_);
    for (auto& l : edges_) l->wake();
}

// notify_signal sets bits in the peer's word; notify_wait sleeps on the own
// word (never in the guest: the vCPU is out of KVM_RUN meanwhile).
void AgentRunner::notify(AgentPartition& p, AgentTask& t, const NotifyRequest& n, CallResult& r) {
    EdgeLink* l = edge(n.edge);
    if (l == nullptr || l->closed()) {
        r.rax = static_cast<std::uint64_t>(Status{RVM_E_STATE, 0}.to_ret());
        return;
    }
    if (!n.wait) {
        l->signal(!n.sender, n.bits);
        r.rax = 0;
        return;
    }
    std::uint64_t bits = 0;
    off_cpu(t, [&] { bits = l->wait(n.sender, n.bits, n.timeout_ns, p.stop); });
    r.rax = bits == 0 && l->closed() ? static_cast<std::uint64_t>(Status{RVM_E_STATE, 0}.to_ret()) : bits;
}

void AgentRunner::start() {
    if (sched_on_) {
        sched_epoch_start_ = clock_.now_ns();
        sched_thread_ = std::thread([this] { sched_loop(); });
    }
    for (auto& p : parts_) {
        p->start_ns = clock_.now_ns();
        std::lock_guard<std::mutex> g(p->mu);
        for (auto& t : p->tasks) start_task(*p, *t);
    }
}

void AgentRunner::start_task(AgentPartition& p, AgentTask& t) {
    {
        std::lock_guard<std::mutex> g(kernel_mu_);
        (void)kernel_.set_task_state(t.id, TaskState::Running);
    }
    psi_.attach_task(p.id, t.id, t.vcpu->fd(), &t.exits, &t.hypercalls);
    if (sched_on_) sched_enqueue(p, t);
    t.thread = std::thread([this, &p, &t] { run_task(p, t); });
}

void AgentRunner::fail(AgentPartition& p, FailReason reason, std::uint64_t rip, const std::string& why) {
    {
        std::lock_guard<std::mutex> g(p.mu);
        if (p.outcome != Outcome::Running) return;
        p.outcome = Outcome::Failed;
        p.fault = fmt::format("{} at rip {:#x}", why, rip);
        p.end_ns = clock_.now_ns();
    }
    {
        std::lock_guard<std::mutex> g(kernel_mu_);
        (void)kernel_.set_partition_state(p.id, PartitionState::Failed, reason, rip);
    }
    halt(p);
}

void AgentRunner::task_exited(AgentPartition& p, AgentTask& t, std::uint64_t code) {
    {
        std::lock_guard<std::mutex> g(kernel_mu_);
        (void)kernel_.terminate_task(t.id, code);
    }
    std::lock_guard<std::mutex> g(p.mu);
    t.done = true;
    p.slot_used[t.slot] = false;
    if (t.slot == 0 || code != 0) p.exit_code = p.exit_code != 0 ? p.exit_code : code;
    bool all = true;
    for (const auto& other : p.tasks) all = all && other->done.load();
    if (all && p.outcome == Outcome::Running) {
        p.outcome = Outcome::Exited;
        p.end_ns = clock_.now_ns();
    }
}

void AgentRunner::run_task(AgentPartition& p, AgentTask& t) {
    PartitionCallContext ctx{p.id,   kernel_,    syscalls_, kernel_mu_,   *p.memory,
                             p.info, p.start_ns, p.limiter, p.limiter_mu, &psi_};
    ctx.psi_page = &p.psi_page;
    ctx.psi_policy = &psi_policy_;
    ctx.base_pages = p.layout.ram_size() / 4096;
    t.tid = static_cast<int>(gettid());
    TaskHooks hooks;
    hooks.stopped = [&] { return p.stop.load(); };
    hooks.wait_while_suspended = [&] {
        // Suspended (C1 or the control plane) or held out by the Ψ duty
        // cycle: the task is off its CPU, so the scheduler may give it away.
        if (p.suspended) {
            off_cpu(t, [&] {
                std::unique_lock<std::mutex> g(p.mu);
                p.cv.wait(g, [&] { return !p.suspended || p.stop; });
            });
        }
        // The Ψ policy's duty cycle: sit out the rest of this epoch's pause.
        const std::uint64_t until = p.throttle_until.load();
        const std::uint64_t now = until != 0 ? clock_.now_ns() : 0;
        if (until > now && !p.stop) {
            off_cpu(t, [&] {
                std::unique_lock<std::mutex> g(p.mu);
                p.cv.wait_for(g, std::chrono::nanoseconds(until - now), [&] { return p.stop.load(); });
            });
        }
        if (sched_on_) {
            if (!t.granted) {
                std::unique_lock<std::mutex> g(sched_mu_);
                gate_cv_.wait(g, [&] { return t.granted.load() || p.stop.load(); });
                const std::uint64_t at = t.granted_at.exchange(0);
                if (at != 0) {
                    ++sched_stats_.handoffs;
                    sched_stats_.handoff_ns += clock_.now_ns() - at;
                }
            }
            // Pinned to the CPU the policy schedules it on (it may have been
            // migrated): one vCPU thread per host CPU is runnable at a time,
            // so Linux has nothing left to decide.
            const std::uint32_t cpu = t.sched_cpu;
            if (cpu != t.pinned_cpu) {
                cpu_set_t set;
                CPU_ZERO(&set);
                CPU_SET(cpu, &set);
                (void)pthread_setaffinity_np(pthread_self(), sizeof set, &set);
                t.pinned_cpu = cpu;
            }
        }
    };
    hooks.hypercall = [&](const backend::Regs& regs) {
        t.hypercalls.fetch_add(1, std::memory_order_relaxed);
        CallResult r = handle_hypercall(ctx, regs, clock_.now_ns());
        if (r.notify) notify(p, t, *r.notify, r);
        if (r.log && log_) log_(p.spec.name, *r.log);
        if (r.spawn) {
            const auto added = p.add_task(r.spawn->task, r.spawn->entry, r.spawn->arg);
            if (added) {
                std::lock_guard<std::mutex> g(p.mu);
                start_task(p, *added.value());
            } else {
                std::lock_guard<std::mutex> g(kernel_mu_);
                (void)kernel_.terminate_task(r.spawn->task, 0);
                r.rax = static_cast<std::uint64_t>(Status{RVM_E_EXHAUSTED, 0}.to_ret());
            }
        }
        return r;
    };
    hooks.fail = [&](FailReason reason, std::uint64_t rip, const std::string& why) { fail(p, reason, rip, why); };
    hooks.exited = [&](std::uint64_t code) { task_exited(p, t, code); };
    hooks.counted = [&] { t.exits.fetch_add(1, std::memory_order_relaxed); };
    hooks.yield = [] { sched_yield(); };
    hooks.suspend = [&](std::uint64_t ns) { guest_suspend(p, ns); };
    hooks.msr = [&](std::uint32_t index, std::optional<std::uint64_t> write) {
        return handle_psi_msr(ctx, t.id, index, write);
    };
    GatedVcpu gated(p, *t.vcpu);
    (void)run_task_loop(gated, hooks);
    if (sched_on_) sched_remove(t);
    psi_.retire_task(t.id);
    std::lock_guard<std::mutex> g(p.mu);
    t.done = true;
}

void AgentRunner::wait(const std::function<void()>& tick) {
    for (;;) {
        bool running = false;
        const std::uint64_t now = clock_.now_ns();
        for (std::size_t i = 0; i < parts_.size(); ++i) {
            AgentPartition& p = *parts_[i];
            bool live = false;
            {
                std::lock_guard<std::mutex> g(p.mu);
                live = p.outcome == Outcome::Running;
            }
            if (live && now - p.start_ns > p.spec.wall_time_ns) stop(i);
            std::uint64_t wake = p.resume_at.load();
            if (wake != 0 && now >= wake && p.resume_at.compare_exchange_strong(wake, 0)) {
                (void)resume(i);  // refused only if the partition ended meanwhile
            }
            running = running || live;
        }
        const std::uint64_t epoch = psi_.sample(now);
        if (epoch != 0) {
            for (auto& p : parts_) exchange_psi_page(*p, now);
            std::vector<EdgeTraffic> traffic;
            {
                std::lock_guard<std::mutex> g(edges_mu_);
                for (auto& l : edges_) {
                    l->update_weight();
                    traffic.push_back(EdgeTraffic{l->source, l->dest, l->last_moved()});
                }
            }
            if (coherence_) {
                for (const auto& o : coherence_->epoch(traffic)) {
                    if (reshape_on_) {
                        apply_proposal(o);
                    } else if (coherence_->record(o.text) && log_) {
                        log_("coherence",
                             fmt::format("epoch {}: {} -- proposed (reshaping is off)", coherence_->epochs(), o.text));
                    }
                }
            }
            if (psi_policy_) throttle(now, epoch);
        }
        if (tick) tick();
        if (!running) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    // A task may still spawn another while its partition ends: collect the
    // threads under the partition's lock, join them outside it, until none is left.
    for (auto& p : parts_) {
        for (;;) {
            std::vector<std::thread*> joinable;
            {
                std::lock_guard<std::mutex> g(p->mu);
                for (auto& t : p->tasks) {
                    if (t->thread.joinable()) joinable.push_back(&t->thread);
                }
            }
            if (joinable.empty()) break;
            for (std::thread* th : joinable) th->join();
        }
    }
    if (sched_thread_.joinable()) {
        {
            std::lock_guard<std::mutex> g(sched_mu_);
            sched_stop_ = true;
        }
        sched_cv_.notify_all();
        sched_thread_.join();
        sched_witness();  // the last epoch's batch
    }
}

// Each epoch, a partition whose allowance is below 1000 per mille is held out
// of the guest for (1000 - allowance) / 1000 of the next epoch -- unless it
// is boosted (seed 000: a partition that just started transitioning gets a
// short-term priority boost instead).
void AgentRunner::throttle(std::uint64_t now, std::uint64_t epoch_ns) {
    for (auto& p : parts_) {
        const auto d = psi_.policy(p->id);
        if (!d || p->stop) continue;
        boost(*p, d.value().boost != 0);
        if (d.value().boost != 0 || d.value().cpu_permille >= 1000) continue;
        const std::uint32_t cpu = d.value().cpu_permille;
        const std::uint64_t pause = epoch_ns * (1000u - cpu) / 1000u;
        p->throttle_until = now + pause;
        p->throttled_ns += pause;
        p->kick_all();
    }
}

// The boost is a Linux priority step per boost level for the partition's
// task threads (nice -5 per level; needs CAP_SYS_NICE, else not applied).
void AgentRunner::boost(AgentPartition& p, bool on) {
    if (on) ++p.boosted_epochs;
    if (on == p.boosted) return;
    const auto d = psi_.policy(p.id);
    const int nice = on && d ? -5 * static_cast<int>(d.value().boost) : 0;
    std::lock_guard<std::mutex> g(p.mu);
    for (const auto& t : p.tasks) {
        const int tid = t->tid.load();
        if (tid != 0 && !t->done) (void)setpriority(PRIO_PROCESS, static_cast<id_t>(tid), nice);
    }
    p.boosted = on;
}

// Once per epoch: take the guest's report from its shared Ψ page (if it has
// registered one and the report is consistent) and publish the host's view.
void AgentRunner::exchange_psi_page(AgentPartition& p, std::uint64_t now) {
    const std::uint64_t gva = p.psi_page.load();
    if (gva == 0 || p.stop) return;
    const auto v = p.memory->view(gva, RVM_PSI_PAGE_SIZE, true);
    if (!v.ok) return;  // CANNOT FAIL: checked at REGISTER; the layout is fixed
    const PsiPage page = v.bytes.first<RVM_PSI_PAGE_SIZE>();
    PsiGuestReport report;
    switch (psi_page_read_guest(page, report)) {
        case PsiPageRead::Ok:
            if (psi_.guest_update(p.id, report)) ++p.psi_page_reads;
            break;
        case PsiPageRead::Invalid:      // ignored: the guest broke its own page
        case PsiPageRead::Busy: break;  // torn: next epoch
    }
    psi_page_publish_host(page, psi_.host_view().guest_ratio_ppm, now - p.start_ns);
}

// HIBERNATE C1 (seed 001: C1 = Suspended): the nucleus moves the partition
// to Suspended (witnessed), every vCPU leaves the guest, and the supervisor
// resumes it when `ns` have passed (resume() also ends it early).
void AgentRunner::guest_suspend(AgentPartition& p, std::uint64_t ns) {
    // The wake-up time is set before the vCPUs stop, so the supervisor never
    // sees a C1 suspension without it.
    if (!suspend_partition(p, clock_.now_ns() + ns)) return;  // e.g. already suspended
    ++p.c1_suspends;
}

// Suspended in the nucleus (witnessed), then every vCPU leaves the guest.
KResult<void> AgentRunner::suspend_partition(AgentPartition& p, std::uint64_t resume_at) {
    {
        std::lock_guard<std::mutex> g(kernel_mu_);
        const auto r = kernel_.set_partition_state(p.id, PartitionState::Suspended);
        if (!r) return r;
    }
    p.resume_at = resume_at;
    p.suspended = true;
    p.kick_all();
    return {};
}

void AgentRunner::stop(std::size_t i) {
    AgentPartition& p = *parts_[i];
    {
        std::lock_guard<std::mutex> g(p.mu);
        if (p.outcome == Outcome::Running) {
            p.outcome = Outcome::TimedOut;
            p.end_ns = clock_.now_ns();
        }
    }
    halt(p);
}

KResult<void> AgentRunner::suspend(std::size_t i) { return suspend_partition(*parts_[i], 0); }

KResult<void> AgentRunner::resume(std::size_t i) {
    AgentPartition& p = *parts_[i];
    {
        std::lock_guard<std::mutex> g(kernel_mu_);
        const auto r = kernel_.set_partition_state(p.id, PartitionState::Active);
        if (!r) return r;
    }
    {
        std::lock_guard<std::mutex> g(p.mu);
        p.suspended = false;
    }
    p.resume_at = 0;
    p.cv.notify_all();
    return {};
}

void AgentRunner::destroy_all() {
    std::lock_guard<std::mutex> g(kernel_mu_);
    for (auto& p : parts_) (void)kernel_.destroy_partition(p->id);
}

std::vector<PartitionReport> AgentRunner::reports() const {
    std::vector<PartitionReport> out;
    for (const auto& p : parts_) {
        std::lock_guard<std::mutex> g(p->mu);
        PartitionReport r;
        r.name = p->spec.name;
        r.outcome = p->outcome;
        r.exit_code = p->exit_code;
        for (const auto& t : p->tasks) {  // under p->mu: the partition's totals are its tasks'
            r.exits += t->exits;
            r.hypercalls += t->hypercalls;
        }
        r.run_ns = (p->end_ns != 0 ? p->end_ns : clock_.now_ns()) - p->start_ns;
        r.fault = p->fault;
        r.psi = psi_.summary(p->id);
        r.throttled_ns = p->throttled_ns;
        r.boosted_epochs = p->boosted_epochs;
        r.c1_suspends = p->c1_suspends;
        r.psi_page_reads = p->psi_page_reads;
        r.vcpus = psi_.vcpus(p->id);
        {
            std::lock_guard<std::mutex> lg(p->limiter_mu);
            r.log_dropped = p->limiter.dropped();
        }
        out.push_back(std::move(r));
    }
    return out;
}

Result<void, std::string> AgentRunner::enable_scheduler(const SchedConfig& cfg) {
    auto s = std::make_unique<Scheduler>();
    const auto ok = s->configure(cfg);
    if (!ok) return err(fmt::format("scheduler configuration refused: {}", status_name(ok.error().code)));
    sched_ = std::move(s);
    sched_cur_.assign(cfg.cpus, kSchedIdle);
    sched_on_ = true;
    return {};
}

void AgentRunner::sched_enqueue(AgentPartition& p, AgentTask& t) {
    std::lock_guard<std::mutex> g(sched_mu_);
    t.sched_cpu = sched_next_cpu_++ % static_cast<std::uint32_t>(sched_cur_.size());
    t.sched_id = static_cast<std::uint32_t>(sched_tasks_.size());
    sched_tasks_.push_back(&t);
    TaskParams params;
    params.partition = p.id.index;
    params.period_ns = p.spec.period_ns;
    params.deadline_ns = p.spec.deadline_ns;
    params.budget_ns = p.spec.budget_ns;
    params.critical = p.spec.critical;
    if (!sched_->enqueue(t.sched_cpu, t.sched_id, params, clock_.now_ns())) {
        // Refused parameters (checked at add time by the manifest): run it
        // as an ordinary task rather than never.
        params = TaskParams{};
        params.partition = p.id.index;
        (void)sched_->enqueue(t.sched_cpu, t.sched_id, params, clock_.now_ns());
    }
}

// Once per epoch (under sched_mu_): the policy's run queues are per CPU, so
// when their lengths differ by two or more -- or by one, which over time is
// the same unfairness -- one task that is not running moves from the longest
// queue to the shortest, taking turns (the rotor) so every task visits
// every queue. Its thread re-pins itself when it next passes the gate.
void AgentRunner::sched_balance(std::uint64_t now) {
    const std::size_t cpus = sched_cur_.size();
    if (cpus < 2) return;
    std::vector<std::uint32_t> load(cpus, 0);
    for (const AgentTask* t : sched_tasks_) {
        if (!t->done) ++load[t->sched_cpu];
    }
    const auto most = static_cast<std::uint32_t>(std::max_element(load.begin(), load.end()) - load.begin());
    const auto least = static_cast<std::uint32_t>(std::min_element(load.begin(), load.end()) - load.begin());
    if (load[most] <= load[least]) return;
    const auto n = static_cast<std::uint32_t>(sched_tasks_.size());
    for (std::uint32_t k = 0; k < n; ++k) {
        const std::uint32_t id = (sched_rotor_ + k) % n;
        AgentTask* t = sched_tasks_[id];
        if (t->done || t->sched_cpu != most || sched_cur_[most] == id) continue;
        const SchedTask* queued = sched_->find(most, id);
        if (queued == nullptr || queued->params.period_ns != 0) continue;  // real-time tasks stay where their budget is
        const TaskParams params = queued->params;
        if (!sched_->dequeue(most, id, now)) continue;
        if (!sched_->enqueue(least, id, params, now)) {
            (void)sched_->enqueue(most, id, params, now);  // CANNOT FAIL: the slot it just left
            continue;
        }
        t->sched_cpu = least;
        sched_rotor_ = id + 1;
        return;
    }
}

// The task waits in the host (notify_wait, suspension, duty cycle): the
// policy blocks it -- its CPU goes to the next task at once -- and wakes it
// afterwards; it then waits at the gate for its CPU like any other.
void AgentRunner::off_cpu(AgentTask& t, const std::function<void()>& wait) {
    if (!sched_on_) {
        wait();
        return;
    }
    {
        std::lock_guard<std::mutex> g(sched_mu_);
        (void)sched_->block(t.sched_cpu, t.sched_id, clock_.now_ns());
        if (sched_cur_[t.sched_cpu] == t.sched_id) sched_cur_[t.sched_cpu] = kSchedIdle;
        t.granted = false;
        sched_poke_ = true;
    }
    sched_cv_.notify_all();
    wait();
    {
        std::lock_guard<std::mutex> g(sched_mu_);
        (void)sched_->wake(t.sched_cpu, t.sched_id, clock_.now_ns());
        sched_poke_ = true;
    }
    sched_cv_.notify_all();
}

void AgentRunner::sched_remove(AgentTask& t) {
    std::lock_guard<std::mutex> g(sched_mu_);
    const std::uint32_t cpu = t.sched_cpu;
    (void)sched_->dequeue(cpu, t.sched_id, clock_.now_ns());
    if (sched_cur_[cpu] == t.sched_id) sched_cur_[cpu] = kSchedIdle;
    t.granted = false;
}

// The scheduler thread: at every quantum end (or release) per CPU, ask the
// policy who runs next, take the CPU from the previous holder (kick) and
// give it to the next (gate). Every 10 ms an epoch closes and its events are
// witnessed.
void AgentRunner::sched_loop() {
    constexpr std::uint64_t kEpochNs = 10'000'000;
    constexpr std::uint64_t kMaxSleepNs = 1'000'000;
    constexpr std::uint64_t kMinSleepNs = 20'000;
    std::vector<std::uint64_t> slice_end(sched_cur_.size(), 0);
    for (;;) {
        std::uint64_t next = std::numeric_limits<std::uint64_t>::max();
        {
            std::lock_guard<std::mutex> g(sched_mu_);
            if (sched_stop_) break;
            const std::uint64_t now = clock_.now_ns();
            for (std::uint32_t cpu = 0; cpu < sched_cur_.size(); ++cpu) {
                const std::uint64_t t0 = clock_.now_ns();
                bool again = sched_cur_[cpu] == kSchedIdle || now >= slice_end[cpu];
                if (!again) {
                    const auto tk = sched_->tick(cpu, now);
                    again = tk && tk.value();
                }
                Pick pick;
                if (again) {
                    const auto r = sched_->pick_next(cpu, now);
                    if (r) pick = r.value();
                    ++sched_stats_.decisions;
                }
                sched_stats_.decision_ns += clock_.now_ns() - t0;  // the policy only, not the kick
                if (again) {
                    const std::uint32_t to = pick.task;
                    if (to != sched_cur_[cpu]) {
                        if (sched_cur_[cpu] != kSchedIdle) {
                            AgentTask* old = sched_tasks_[sched_cur_[cpu]];
                            old->granted = false;
                            old->vcpu->kick();
                        }
                        if (to != kSchedIdle) {
                            sched_tasks_[to]->granted_at = clock_.now_ns();
                            sched_tasks_[to]->granted = true;
                        }
                        sched_cur_[cpu] = to;
                        ++sched_stats_.switches;
                    }
                    slice_end[cpu] = to == kSchedIdle ? now + kMaxSleepNs : now + pick.quantum_ns;
                }
                next = std::min(next, slice_end[cpu]);
            }
            if (now - sched_epoch_start_ >= kEpochNs) {
                sched_balance(now);
                sched_->end_epoch(now);
                sched_epoch_start_ = now;
            }
        }
        gate_cv_.notify_all();
        sched_witness();
        const std::uint64_t now = clock_.now_ns();
        const std::uint64_t sleep = next > now ? std::clamp(next - now, kMinSleepNs, kMaxSleepNs) : kMinSleepNs;
        std::unique_lock<std::mutex> g(sched_mu_);
        sched_cv_.wait_for(g, std::chrono::nanoseconds(sleep), [&] { return sched_poke_ || sched_stop_.load(); });
        sched_poke_ = false;
    }
}

void AgentRunner::sched_witness() {
    std::array<SchedEvent, 16> ev{};
    for (;;) {
        std::size_t n = 0;
        {
            std::lock_guard<std::mutex> g(sched_mu_);
            n = sched_ ? sched_->drain_events(ev) : 0;
            for (std::size_t i = 0; i < n; ++i) {
                if (ev[i].kind == SchedEventKind::EpochBatch) sched_stats_.deadline_misses += ev[i].deadline_misses;
            }
        }
        if (n == 0) return;
        std::lock_guard<std::mutex> g(kernel_mu_);
        for (std::size_t i = 0; i < n; ++i) {
            const SchedEvent& e = ev[i];
            if (e.kind == SchedEventKind::ModeSwitch) {
                kernel_.note_mode_switch(static_cast<std::uint8_t>(e.from), static_cast<std::uint8_t>(e.to),
                                         static_cast<std::uint8_t>(e.reason), e.partition, e.epoch);
            } else {
                kernel_.note_sched_epoch(e.epoch, e.switches, e.deadline_misses, static_cast<std::uint8_t>(e.to));
            }
        }
    }
}

void AgentRunner::enable_coherence(bool reshape) {
    reshape_on_ = reshape;
    if (coherence_) return;
    coherence_ = std::make_unique<CoherenceObserver>();
    for (std::size_t i = 0; i < parts_.size(); ++i)
        coherence_->add_partition(parts_[i]->id, parts_[i]->spec.name, cell_of(i));
}

std::vector<AgentRunner::Reshape> AgentRunner::reshapes() const {
    std::lock_guard<std::mutex> g(reshapes_mu_);
    return reshapes_;
}

std::uint8_t AgentRunner::cell_of(std::size_t i) {
    std::lock_guard<std::mutex> g(kernel_mu_);
    const Partition* p = kernel_.partition(parts_[i]->id);
    return p != nullptr ? p->cell : 0;
}

AgentPartition* AgentRunner::partition_by_raw(std::uint64_t raw) {
    for (auto& p : parts_) {
        if (p->id.raw() == raw) return p.get();
    }
    return nullptr;
}

Result<AgentRunner::Reshape, std::string> AgentRunner::migrate(std::size_t i, std::size_t to) {
    if (i >= parts_.size() || to >= parts_.size()) return err(std::string("no such partition"));
    std::lock_guard<std::mutex> reshaping(reshape_mu_);
    return move_cells({parts_[i].get()}, parts_[to]->cell, How::Migrate);
}

Result<AgentRunner::Reshape, std::string> AgentRunner::merge(std::size_t a, std::size_t b) {
    if (a >= parts_.size() || b >= parts_.size()) return err(std::string("no such partition"));
    std::lock_guard<std::mutex> reshaping(reshape_mu_);
    std::vector<AgentPartition*> movers;
    for (auto& p : parts_) {
        if (p->cell == parts_[b]->cell) movers.push_back(p.get());
    }
    return move_cells(std::move(movers), parts_[a]->cell, How::Merge);
}

Result<AgentRunner::Reshape, std::string> AgentRunner::split(const std::vector<std::size_t>& leave) {
    std::lock_guard<std::mutex> reshaping(reshape_mu_);
    std::vector<AgentPartition*> movers;
    for (const std::size_t i : leave) {
        if (i >= parts_.size()) return err(std::string("no such partition"));
        movers.push_back(parts_[i].get());
    }
    if (movers.empty()) return err(std::string("a split needs partitions that leave"));
    std::size_t stay = 0;
    for (auto& p : parts_) {
        if (p->cell != movers[0]->cell) continue;
        if (std::find(movers.begin(), movers.end(), p.get()) == movers.end()) ++stay;
    }
    for (AgentPartition* m : movers) {
        if (m->cell != movers[0]->cell) return err(std::string("a split takes partitions of one cell"));
    }
    if (stay == 0) return err(std::string("a split must leave a partition behind"));
    return move_cells(std::move(movers), nullptr, How::Split);
}

// Applies one of the engine's proposals: groups are nucleus cells, vertices
// partitions. A split keeps its first part where it is and sends every other
// part to a new cell of its own.
void AgentRunner::apply_proposal(const CoherenceObserver::Observed& o) {
    std::lock_guard<std::mutex> reshaping(reshape_mu_);
    std::vector<Result<Reshape, std::string>> done;
    const auto members = [&](std::uint64_t cell, const std::vector<std::uint64_t>* only) {
        std::vector<AgentPartition*> out;
        for (std::size_t i = 0; i < parts_.size(); ++i) {
            if (cell_of(i) != cell) continue;
            if (only != nullptr && std::find(only->begin(), only->end(), parts_[i]->id.raw()) == only->end()) continue;
            out.push_back(parts_[i].get());
        }
        return out;
    };
    if (const auto* m = std::get_if<coherence::MigrateProposal>(&o.proposal)) {
        AgentPartition* p = partition_by_raw(m->vertex);
        const auto to = members(m->to, nullptr);
        if (p == nullptr || to.empty()) return;
        done.push_back(move_cells({p}, to[0]->cell, How::Migrate));
    } else if (const auto* g = std::get_if<coherence::MergeProposal>(&o.proposal)) {
        const auto into = members(g->a, nullptr);
        if (into.empty()) return;
        done.push_back(move_cells(members(g->b, nullptr), into[0]->cell, How::Merge));
    } else if (const auto* sp = std::get_if<coherence::SplitProposal>(&o.proposal)) {
        for (std::size_t k = 1; k < sp->parts.size(); ++k) {
            done.push_back(move_cells(members(sp->partition, &sp->parts[k]), nullptr, How::Split));
        }
    }
    for (const auto& r : done) {
        const std::string line =
            r ? fmt::format("{} -- applied in {:.2f} ms ({} vCPUs moved), now cell {}", o.text,
                            static_cast<double>(r.value().ns) / 1e6, r.value().vcpus, r.value().cell)
              : fmt::format("{} -- not applied: {}", o.text, r.error());
        (void)coherence_->record(line);
        if (log_) log_("coherence", fmt::format("epoch {}: {}", coherence_->epochs(), line));
    }
    // Whatever happened, the engine learns where every partition is.
    for (std::size_t i = 0; i < parts_.size(); ++i) coherence_->set_cell(parts_[i]->id, cell_of(i));
}

Result<AgentRunner::Reshape, std::string> AgentRunner::move_cells(std::vector<AgentPartition*> movers,
                                                                  std::shared_ptr<Cell> target, How how) {
    const std::uint64_t t0 = clock_.now_ns();
    const PartitionState during = how == How::Split   ? PartitionState::Splitting
                                  : how == How::Merge ? PartitionState::Merging
                                                      : PartitionState::Migrating;
    const std::uint32_t call = how == How::Split ? RVM_HC_PARTITION_SPLIT : RVM_HC_PARTITION_MERGE;
    const Rights right{how == How::Split ? RVM_RIGHT_SPLIT : how == How::Merge ? RVM_RIGHT_MERGE : RVM_RIGHT_MIGRATE};
    if (movers.empty()) return err(std::string("no partition to move"));
    for (AgentPartition* p : movers) {
        if (p->spec.profile == Profile::Kernel) {
            return err(
                fmt::format("{}: not supported: reshaping a kernel-profile partition (its MSR routing belongs "
                            "to its VM)",
                            p->spec.name));
        }
        if (target && p->cell == target) return err(fmt::format("{} is already in that cell", p->spec.name));
        std::lock_guard<std::mutex> g(p->mu);
        if (p->outcome != Outcome::Running || p->stop) return err(fmt::format("{} is not running", p->spec.name));
    }
    // Authority, then the witnessed start of the reshape.
    {
        std::lock_guard<std::mutex> g(kernel_mu_);
        for (AgentPartition* p : movers) {
            const Partition* part = kernel_.partition(p->id);
            if (part == nullptr || part->state != PartitionState::Active) {
                return err(fmt::format("{} is not active", p->spec.name));
            }
            const CapHandle self = CapHandle::from_raw(p->info.self_cap);
            if (!kernel_.state().caps.lookup(p->id.index, self, RVM_OBJ_PARTITION, right)) {
                return err(fmt::format("{}: its capability lacks the right to be reshaped", p->spec.name));
            }
            const CallArgs args{p->id.raw(), static_cast<std::uint64_t>(how), 0, 0, 0};
            const auto token =
                kernel_.mint_proof(p->id, self, RVM_PROOF_DEEP, call, args, kernel_.now_ns() + 1'000'000'000);
            if (!token) return err(fmt::format("{}: no proof: {}", p->spec.name, status_name(token.error().code)));
            const auto tier = kernel_.check_proof(p->id, token.value(), call, args, RVM_PROOF_DEEP);
            if (!tier) return err(fmt::format("{}: proof refused: {}", p->spec.name, status_name(tier.error().code)));
            kernel_.consume_proof(p->id, token.value(), tier.value());
        }
        for (AgentPartition* p : movers) (void)kernel_.set_partition_state(p->id, during);
    }
    const auto back_to_active = [&](std::uint64_t detail) {
        std::lock_guard<std::mutex> g(kernel_mu_);
        for (AgentPartition* p : movers) {
            (void)kernel_.set_partition_state(p->id, PartitionState::Active, FailReason::None, detail);
        }
    };

    // Hold every partition of every cell involved out of its vCPUs.
    std::set<Cell*> cells;
    for (AgentPartition* p : movers) cells.insert(p->cell.get());
    if (target) cells.insert(target.get());
    std::vector<AgentPartition*> held;
    for (auto& q : parts_) {
        if (cells.contains(q->cell.get())) held.push_back(q.get());
    }
    for (AgentPartition* p : movers) {
        std::lock_guard<std::mutex> g(p->mu);
        p->reshaping = true;
    }
    const std::uint64_t h0 = clock_.now_ns();
    bool all_out = true;
    for (AgentPartition* q : held) all_out = q->hold(kHoldTimeoutNs) && all_out;
    const auto release = [&] {
        for (AgentPartition* p : movers) {
            std::lock_guard<std::mutex> g(p->mu);
            p->reshaping = false;
        }
        for (AgentPartition* q : held) q->release();
    };

    struct Moved {
        AgentPartition* p;
        AgentTask* t;
    };
    std::vector<Moved> moved;
    std::vector<AgentPartition*> mapped;
    std::string why = all_out ? "" : "the vCPUs did not leave the guest in time";
    const bool fresh = !target;
    if (why.empty() && fresh) {
        auto c = Cell::create(sys_);
        if (c) {
            target = std::move(c.value());
        } else {
            why = c.error();
        }
    }
    for (AgentPartition* p : movers) {
        if (!why.empty()) break;
        std::vector<AgentTask*> tasks;
        std::vector<MemMap> maps = p->cell->maps_of(p->id.raw());
        {
            std::lock_guard<std::mutex> g(p->mu);
            for (auto& t : p->tasks) {
                if (!t->done) tasks.push_back(t.get());
            }
        }
        const auto m = target->set_maps(p->id.raw(), std::move(maps));
        if (!m) {
            why = fmt::format("{}: {}", p->spec.name, m.error());
            break;
        }
        mapped.push_back(p);
        for (AgentTask* t : tasks) {
            if (moved.size() >= fail_after_.load()) {
                why = "injected failure (test)";
                break;
            }
            const auto r = t->vcpu->rehome(target->vm(), target->next_vcpu_id());
            if (!r) {
                why = fmt::format("{}: vCPU: {}", p->spec.name, kvm::describe(r.error()));
                break;
            }
            moved.push_back(Moved{p, t});
        }
    }
    if (!why.empty()) {
        fail_after_ = ~0u;
        // Roll back: every moved vCPU home again, the target's maps gone.
        for (auto it = moved.rbegin(); it != moved.rend(); ++it) {
            const auto r = it->t->vcpu->rehome(it->p->cell->vm(), it->p->cell->next_vcpu_id());
            if (!r) {
                release();
                fail(*it->p, FailReason::Other, 0,
                     fmt::format("reshape rollback could not bring a vCPU back: {}", kvm::describe(r.error())));
                back_to_active(1);
                return err(why);
            }
        }
        for (AgentPartition* p : mapped) (void)target->drop(p->id.raw());
        release();
        back_to_active(1);
        return err(why);
    }
    // Commit: the movers leave their old cells.
    for (AgentPartition* p : movers) {
        std::shared_ptr<Cell> old;
        {
            std::lock_guard<std::mutex> g(p->mu);
            old = std::exchange(p->cell, target);
        }
        const auto d = old->drop(p->id.raw());
        if (!d && log_) log_(p->spec.name, fmt::format("reshape: the old cell kept a mapping: {}", d.error()));
    }
    for (const Moved& m : moved) psi_.rebind_task(m.t->id, m.t->vcpu->fd());
    const std::uint64_t h1 = clock_.now_ns();
    release();
    Reshape out;
    {
        std::lock_guard<std::mutex> g(kernel_mu_);
        std::uint8_t cell = kNewCell;
        if (!fresh) {
            for (auto& q : parts_) {
                if (q->cell == target && std::find(movers.begin(), movers.end(), q.get()) == movers.end()) {
                    cell = kernel_.partition(q->id)->cell;
                    break;
                }
            }
        }
        for (AgentPartition* p : movers) {
            const auto c = kernel_.set_cell(p->id, cell);
            if (c) cell = c.value();
            (void)kernel_.set_partition_state(p->id, PartitionState::Active);
        }
        out.cell = cell;
    }
    out.partitions = static_cast<std::uint32_t>(movers.size());
    out.vcpus = static_cast<std::uint32_t>(moved.size());
    out.held_ns = h1 - h0;
    out.ns = clock_.now_ns() - t0;
    {
        std::lock_guard<std::mutex> g(reshapes_mu_);
        reshapes_.push_back(out);
    }
    return out;
}

std::vector<std::string> AgentRunner::coherence_proposals() const {
    return coherence_ ? coherence_->proposals() : std::vector<std::string>{};
}

AgentRunner::SchedStats AgentRunner::sched_stats() const {
    std::lock_guard<std::mutex> g(sched_mu_);
    return sched_stats_;
}

std::vector<EdgeReport> AgentRunner::edge_reports() const {
    std::vector<EdgeReport> out;
    std::lock_guard<std::mutex> g(edges_mu_);
    for (const auto& l : edges_) {
        EdgeReport r;
        for (const auto& p : parts_) {
            if (p->id == l->source) r.from = p->spec.name;
            if (p->id == l->dest) r.to = p->spec.name;
        }
        r.capacity = l->capacity;
        r.share = l->share ? l->share->size() : 0;
        r.bytes = l->bytes();
        r.messages = l->messages();
        r.weight = l->weight();
        out.push_back(std::move(r));
    }
    return out;
}

}  // namespace rvm::host
