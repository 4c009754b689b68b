#include "host/runtime/host_scheduler.hpp"

#include <fmt/format.h>
#include <sched.h>

#include <pthread.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <limits>

namespace rvm::host {

namespace {
constexpr std::uint64_t kEpochNs = 10'000'000;
constexpr std::uint64_t kMaxSleepNs = 1'000'000;
constexpr std::uint64_t kMinSleepNs = 20'000;
}  // namespace

Result<void, std::string> HostScheduler::enable(const SchedConfig& cfg) {
    auto s = std::make_unique<Scheduler>();
    const auto ok = s->configure(cfg);
    if (!ok) return err(fmt::format("scheduler configuration refused: {}", status_name(ok.error().code)));
    policy_ = std::move(s);
    cur_.assign(cfg.cpus, kSchedIdle);
    on_ = true;
    return {};
}

void HostScheduler::start() {
    if (!on_) return;
    epoch_start_ = clock_.now_ns();
    thread_ = std::thread([this] { loop(); });
}

void HostScheduler::finish(bool witness_rest) {
    if (!thread_.joinable()) return;
    {
        std::lock_guard<std::mutex> g(mu_);
        stop_ = true;
    }
    gate_cv_.notify_all();
    cv_.notify_all();
    thread_.join();
    if (witness_rest) witness();
}

void HostScheduler::enqueue(const AgentPartition& p, AgentTask& t) {
    std::lock_guard<std::mutex> g(mu_);
    t.sched_cpu = next_cpu_++ % static_cast<std::uint32_t>(cur_.size());
    t.sched_id = static_cast<std::uint32_t>(tasks_.size());
    tasks_.push_back(&t);
    TaskParams params;
    params.partition = p.id.index;
    params.period_ns = p.spec.period_ns;
    params.deadline_ns = p.spec.deadline_ns;
    params.budget_ns = p.spec.budget_ns;
    params.critical = p.spec.critical;
    if (!policy_->enqueue(t.sched_cpu, t.sched_id, params, clock_.now_ns())) {
        // Refused parameters (checked at add time by the manifest): run it
        // as an ordinary task rather than never.
        params = TaskParams{};
        params.partition = p.id.index;
        (void)policy_->enqueue(t.sched_cpu, t.sched_id, params, clock_.now_ns());
    }
}

void HostScheduler::remove(AgentTask& t) {
    std::lock_guard<std::mutex> g(mu_);
    const std::uint32_t cpu = t.sched_cpu;
    (void)policy_->dequeue(cpu, t.sched_id, clock_.now_ns());
    if (cur_[cpu] == t.sched_id) cur_[cpu] = kSchedIdle;
    t.granted = false;
}

void HostScheduler::wait_for_cpu(AgentTask& t, const std::atomic<bool>& stop) {
    if (!t.granted) {
        std::unique_lock<std::mutex> g(mu_);
        gate_cv_.wait(g, [&] { return t.granted.load() || stop.load(); });
        const std::uint64_t at = t.granted_at.exchange(0);
        if (at != 0) {
            ++stats_.handoffs;
            stats_.handoff_ns += clock_.now_ns() - at;
        }
    }
    // Pinned to the CPU the policy schedules it on (it may have been
    // migrated): one vCPU thread per host CPU is runnable at a time, so
    // Linux has nothing left to decide.
    const std::uint32_t cpu = t.sched_cpu;
    if (cpu != t.pinned_cpu) {
        cpu_set_t set;
        CPU_ZERO(&set);
        CPU_SET(cpu, &set);
        (void)pthread_setaffinity_np(pthread_self(), sizeof set, &set);
        t.pinned_cpu = cpu;
    }
}

void HostScheduler::wake_gates() {
    {
        std::lock_guard<std::mutex> g(mu_);  // a gate waiter between check and sleep sees `stop`
    }
    gate_cv_.notify_all();
}

void HostScheduler::off_cpu(AgentTask& t, const std::function<void()>& wait) {
    if (!on_) {
        wait();
        return;
    }
    {
        std::lock_guard<std::mutex> g(mu_);
        (void)policy_->block(t.sched_cpu, t.sched_id, clock_.now_ns());
        if (cur_[t.sched_cpu] == t.sched_id) cur_[t.sched_cpu] = kSchedIdle;
        t.granted = false;
        poke_ = true;
    }
    cv_.notify_all();
    wait();
    {
        std::lock_guard<std::mutex> g(mu_);
        (void)policy_->wake(t.sched_cpu, t.sched_id, clock_.now_ns());
        poke_ = true;
    }
    cv_.notify_all();
}

// Once per epoch (under mu_): the policy's run queues are per CPU, so when
// their lengths differ by two or more -- or by one, which over time is the
// same unfairness -- one task that is not running moves from the longest
// queue to the shortest, taking turns (the rotor) so every task visits every
// queue. Its thread re-pins itself when it next passes the gate.
void HostScheduler::balance(std::uint64_t now) {
    const std::size_t cpus = cur_.size();
    if (cpus < 2) return;
    std::vector<std::uint32_t> load(cpus, 0);
    for (const AgentTask* t : tasks_) {
        if (!t->done) ++load[t->sched_cpu];
    }
    const auto most = static_cast<std::uint32_t>(std::max_element(load.begin(), load.end()) - load.begin());
    const auto least = static_cast<std::uint32_t>(std::min_element(load.begin(), load.end()) - load.begin());
    if (load[most] <= load[least]) return;
    const auto n = static_cast<std::uint32_t>(tasks_.size());
    for (std::uint32_t k = 0; k < n; ++k) {
        const std::uint32_t id = (rotor_ + k) % n;
        AgentTask* t = tasks_[id];
        if (t->done || t->sched_cpu != most || cur_[most] == id) continue;
        const SchedTask* queued = policy_->find(most, id);
        if (queued == nullptr || queued->params.period_ns != 0) continue;  // real-time tasks stay where their budget is
        const TaskParams params = queued->params;
        if (!policy_->dequeue(most, id, now)) continue;
        if (!policy_->enqueue(least, id, params, now)) {
            (void)policy_->enqueue(most, id, params, now);  // CANNOT FAIL: the slot it just left
            continue;
        }
        t->sched_cpu = least;
        rotor_ = id + 1;
        return;
    }
}

// At the quantum end (or release) of `cpu`: ask the policy who runs next,
// take the CPU from the previous holder (kick) and give it to the next.
void HostScheduler::decide(std::uint32_t cpu, std::uint64_t now, std::vector<std::uint64_t>& slice_end) {
    const std::uint64_t t0 = clock_.now_ns();
    bool again = cur_[cpu] == kSchedIdle || now >= slice_end[cpu];
    if (!again) {
        const auto tk = policy_->tick(cpu, now);
        again = tk && tk.value();
    }
    Pick pick;
    if (again) {
        const auto r = policy_->pick_next(cpu, now);
        if (r) pick = r.value();
        ++stats_.decisions;
    }
    stats_.decision_ns += clock_.now_ns() - t0;  // the policy only, not the kick
    if (!again) return;
    const std::uint32_t to = pick.task;
    if (to != cur_[cpu]) {
        if (cur_[cpu] != kSchedIdle) {
            AgentTask* old = tasks_[cur_[cpu]];
            old->granted = false;
            old->vcpu->kick();
        }
        if (to != kSchedIdle) {
            tasks_[to]->granted_at = clock_.now_ns();
            tasks_[to]->granted = true;
        }
        cur_[cpu] = to;
        ++stats_.switches;
    }
    slice_end[cpu] = to == kSchedIdle ? now + kMaxSleepNs : now + pick.quantum_ns;
}

// The scheduler thread: every CPU decided at its quantum end; every 10 ms an
// epoch closes and its events are witnessed.
void HostScheduler::loop() {
    std::vector<std::uint64_t> slice_end(cur_.size(), 0);
    for (;;) {
        std::uint64_t next = std::numeric_limits<std::uint64_t>::max();
        {
            std::lock_guard<std::mutex> g(mu_);
            if (stop_) break;
            const std::uint64_t now = clock_.now_ns();
            for (std::uint32_t cpu = 0; cpu < cur_.size(); ++cpu) {
                decide(cpu, now, slice_end);
                next = std::min(next, slice_end[cpu]);
            }
            if (now - epoch_start_ >= kEpochNs) {
                balance(now);
                policy_->end_epoch(now);
                epoch_start_ = now;
            }
        }
        gate_cv_.notify_all();
        witness();
        const std::uint64_t now = clock_.now_ns();
        const std::uint64_t sleep = next > now ? std::clamp(next - now, kMinSleepNs, kMaxSleepNs) : kMinSleepNs;
        std::unique_lock<std::mutex> g(mu_);
        cv_.wait_for(g, std::chrono::nanoseconds(sleep), [&] { return poke_ || stop_.load(); });
        poke_ = false;
    }
}

void HostScheduler::witness() {
    std::array<SchedEvent, 16> ev{};
    for (;;) {
        std::size_t n = 0;
        {
            std::lock_guard<std::mutex> g(mu_);
            n = policy_ ? policy_->drain_events(ev) : 0;
            for (std::size_t i = 0; i < n; ++i) {
                if (ev[i].kind == SchedEventKind::EpochBatch) stats_.deadline_misses += ev[i].deadline_misses;
            }
        }
        if (n == 0) return;
        nucleus_.with([&](Kernel& k) {
            for (std::size_t i = 0; i < n; ++i) {
                const SchedEvent& e = ev[i];
                if (e.kind == SchedEventKind::ModeSwitch) {
                    k.note_mode_switch(static_cast<std::uint8_t>(e.from), static_cast<std::uint8_t>(e.to),
                                       static_cast<std::uint8_t>(e.reason), e.partition, e.epoch);
                } else {
                    k.note_sched_epoch(e.epoch, e.switches, e.deadline_misses, static_cast<std::uint8_t>(e.to));
                }
            }
        });
    }
}

HostScheduler::Stats HostScheduler::stats() const {
    std::lock_guard<std::mutex> g(mu_);
    return stats_;
}

}  // namespace rvm::host
