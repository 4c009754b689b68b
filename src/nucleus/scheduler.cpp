#include "nucleus/scheduler.hpp"

#include "nucleus/psi_policy.hpp"

namespace rvm {
namespace {

constexpr std::uint64_t kNever = kSchedNever;

constexpr std::uint64_t min_u64(std::uint64_t a, std::uint64_t b) { return a < b ? a : b; }
constexpr std::uint64_t max_u64(std::uint64_t a, std::uint64_t b) { return a > b ? a : b; }

KResult<void> validate(const TaskParams& p) {
    if (p.period_ns > kSchedMaxSpanNs || p.deadline_ns > kSchedMaxSpanNs || p.budget_ns > kSchedMaxSpanNs) {
        return fail(RVM_E_INVALID, 3);
    }
    const std::uint64_t deadline = p.deadline_ns != 0 ? p.deadline_ns : p.period_ns;  // implicit deadline
    if (deadline == 0) {
        if (p.critical) return fail(RVM_E_INVALID, 3);
        return {};
    }
    if (p.budget_ns == 0 || p.budget_ns > deadline) return fail(RVM_E_INVALID, 3);
    if (p.period_ns != 0 && deadline > p.period_ns) return fail(RVM_E_INVALID, 3);
    return {};
}

KResult<void> validate(const FlowSignals& s) {
    if (s.psi_ppm > kSchedPpm || s.risk_ppm > kSchedPpm || s.cut_ppm > kSchedPpm || s.psi_boost > kPsiMaxBoostLevel ||
        s.cpu_permille == 0 || s.cpu_permille > 1000) {
        return fail(RVM_E_INVALID, 3);
    }
    return {};
}

}  // namespace

const char* sched_mode_name(SchedMode m) {
    switch (m) {
        case SchedMode::Reflex: return "reflex";
        case SchedMode::Flow: return "flow";
        case SchedMode::Recovery: return "recovery";
    }
    return "?";
}

FlowPriority flow_priority(std::uint64_t abs_deadline_ns, std::uint64_t now_ns, const FlowSignals& s,
                           std::uint32_t boost_step_ppm) {
    FlowPriority p;
    if (abs_deadline_ns != 0) {
        const std::uint64_t remaining = abs_deadline_ns > now_ns ? abs_deadline_ns - now_ns : 0;
        // 1 / (remaining_ms + 1) in ppm; remaining <= 2^64 - 1 - 10^6 in any realistic clock.
        p.urgency =
            static_cast<std::int64_t>(1'000'000'000'000ull / (min_u64(remaining, kNever - kSchedPpm) + kSchedPpm));
    }
    p.novelty = static_cast<std::int64_t>(s.psi_ppm) * 3 / 10;  // NOVELTY_WEIGHT 0.3
    p.risk = static_cast<std::int64_t>(s.risk_ppm) * 2;         // RISK_WEIGHT 2.0
    p.cut = static_cast<std::int64_t>(s.cut_ppm) / 2;           // PRESSURE_BOOST 0.5
    p.boost = static_cast<std::int64_t>(s.psi_boost) * boost_step_ppm;
    p.total = p.urgency + p.novelty - p.risk + p.cut + p.boost;
    return p;
}

KResult<void> validate(const SchedConfig& c) {
    if (c.cpus == 0 || c.cpus > kSchedMaxCpus) return fail(RVM_E_INVALID);
    if (c.quantum_ns == 0 || c.quantum_ns > kSchedMaxSpanNs) return fail(RVM_E_INVALID);
    if (c.min_quantum_ns == 0 || c.min_quantum_ns > c.quantum_ns) return fail(RVM_E_INVALID);
    if (c.boost_step_ppm > kSchedPpm) return fail(RVM_E_INVALID);
    if (c.recovery_max_partitions == 0 || c.recovery_max_partitions > kSchedMaxRecoveryPartitions) {
        return fail(RVM_E_INVALID);
    }
    if (c.coherence_critical_ppm > kSchedPpm) return fail(RVM_E_INVALID);
    return {};
}

KResult<void> Scheduler::configure(const SchedConfig& c) {
    if (auto v = validate(c); !v) return v;
    config_ = c;
    for (Cpu& cpu : cpus_) cpu = Cpu{};
    mode_ = SchedMode::Flow;
    epoch_ = 0;
    critical_ = 0;
    restarting_count_ = 0;
    recovery_hold_ = 0;
    coherence_ppm_ = kSchedPpm;
    event_head_ = 0;
    event_count_ = 0;
    events_dropped_ = 0;
    return {};
}

// ---------------------------------------------------------------- lookup

std::uint32_t Scheduler::index_of(const Cpu& c, SchedTaskId id) {
    for (std::uint32_t i = 0; i < c.count; ++i) {
        if (c.tasks[i].id == id) return i;
    }
    return c.count;
}

// The calls that name a queued task: RVM_E_INVALID arg 1 for a CPU beyond
// the configuration, RVM_E_BAD_HANDLE arg 2 for a task not queued on it.
KResult<SchedTask*> Scheduler::slot(std::uint32_t cpu, SchedTaskId id) {
    if (cpu >= config_.cpus) return fail(RVM_E_INVALID, 1);
    // SAFETY: find() only reads; the task lives in our own (non-const) queue.
    auto* t = const_cast<SchedTask*>(find(cpu, id));
    if (t == nullptr) return fail(RVM_E_BAD_HANDLE, 2);
    return t;
}

const SchedTask* Scheduler::find(std::uint32_t cpu, SchedTaskId id) const {
    if (cpu >= config_.cpus) return nullptr;
    const Cpu& c = cpus_[cpu];
    const std::uint32_t i = index_of(c, id);
    return i < c.count ? &c.tasks[i] : nullptr;
}

bool Scheduler::enqueued_anywhere(SchedTaskId id) const {
    for (std::uint32_t cpu = 0; cpu < config_.cpus; ++cpu) {
        if (find(cpu, id) != nullptr) return true;
    }
    return false;
}

bool Scheduler::partition_restarting(std::uint32_t partition) const {
    for (std::uint32_t i = 0; i < restarting_count_; ++i) {
        if (restarting_[i] == partition) return true;
    }
    return false;
}

CpuStats Scheduler::cpu_stats(std::uint32_t cpu) const {
    if (cpu >= config_.cpus) return {};
    const Cpu& c = cpus_[cpu];
    CpuStats s = c.stats;
    s.tasks = c.count;
    s.runnable = 0;
    for (std::uint32_t i = 0; i < c.count; ++i) s.runnable += c.tasks[i].runnable ? 1u : 0u;
    return s;
}

// ---------------------------------------------------------------- jobs and time

std::uint64_t Scheduler::clamp_now(Cpu& c, std::uint64_t now_ns) {
    c.now = max_u64(c.now, now_ns);
    return c.now;
}

void Scheduler::start_job(SchedTask& t, std::uint64_t release_ns) {
    const std::uint64_t deadline = t.params.deadline_ns;
    if (deadline == 0) return;
    t.release_ns = release_ns;
    t.abs_deadline = release_ns + deadline;
    t.budget_left = t.params.budget_ns;
    t.missed = false;
}

void Scheduler::count_miss(Cpu& c, SchedTask& t) {
    t.missed = true;
    ++c.stats.deadline_misses;
    ++c.misses_epoch;
}

void Scheduler::end_job(Cpu& c, SchedTask& t, std::uint64_t finish_ns) {
    if (t.abs_deadline == 0) return;
    if (finish_ns > t.abs_deadline && !t.missed) count_miss(c, t);
    t.abs_deadline = 0;
    t.budget_left = 0;
    t.missed = false;
}

// Releases a periodic task's due job (catching up whole periods it slept
// through) and counts a miss for an active job past its deadline.
void Scheduler::refresh(Cpu& c, SchedTask& t, std::uint64_t now_ns) {
    if (!t.runnable) return;
    const std::uint64_t period = t.params.period_ns;
    if (t.abs_deadline != 0 && now_ns > t.abs_deadline && !t.missed) count_miss(c, t);
    if (period != 0 && now_ns >= t.release_ns + period) {
        // deadline <= period: a job still active at the next release is late.
        if (t.abs_deadline != 0 && !t.missed) count_miss(c, t);
        const std::uint64_t periods = (now_ns - t.release_ns) / period;
        start_job(t, t.release_ns + periods * period);
        if (now_ns > t.abs_deadline) count_miss(c, t);
    }
}

// Charges the current task for [since, now): CPU time and job budget.
void Scheduler::charge(Cpu& c, std::uint64_t now_ns) {
    if (c.current == kSchedIdle) return;
    const std::uint32_t i = index_of(c, c.current);
    const std::uint64_t ran = now_ns - c.since;
    c.since = now_ns;
    if (i == c.count) return;
    SchedTask* t = &c.tasks[i];
    t->vruntime += ran;
    if (t->abs_deadline != 0) {
        const std::uint64_t used = min_u64(ran, t->budget_left);
        const std::uint64_t finished_at = now_ns - ran + used;
        t->budget_left -= used;
        if (t->budget_left == 0) end_job(c, *t, finished_at);
    }
}

bool Scheduler::eligible(const SchedTask& t) { return t.runnable && (t.params.period_ns == 0 || t.abs_deadline != 0); }

std::uint64_t Scheduler::min_vruntime(const Cpu& c, SchedTaskId except) {
    std::uint64_t v = kNever;
    for (std::uint32_t i = 0; i < c.count; ++i) {
        const SchedTask& t = c.tasks[i];
        if (t.runnable && t.id != except) v = min_u64(v, t.vruntime);
    }
    return v == kNever ? 0 : v;
}

std::uint64_t Scheduler::next_release(const Cpu& c) {
    std::uint64_t at = kNever;
    for (std::uint32_t i = 0; i < c.count; ++i) {
        const SchedTask& t = c.tasks[i];
        if (t.runnable && t.params.period_ns != 0) at = min_u64(at, t.release_ns + t.params.period_ns);
    }
    return at;
}

std::uint64_t Scheduler::quantum_for(const SchedTask& t) const {
    const std::uint64_t flow = max_u64(config_.min_quantum_ns, config_.quantum_ns * t.signals.cpu_permille / 1000);
    if (t.abs_deadline != 0) return mode_ == SchedMode::Flow ? min_u64(t.budget_left, flow) : t.budget_left;
    return mode_ == SchedMode::Flow ? flow : config_.quantum_ns;
}

// ---------------------------------------------------------------- task operations

KResult<void> Scheduler::enqueue(std::uint32_t cpu, SchedTaskId id, const TaskParams& p, std::uint64_t now_ns) {
    if (cpu >= config_.cpus) return fail(RVM_E_INVALID, 1);
    if (id == kSchedIdle || enqueued_anywhere(id)) return fail(RVM_E_STATE, 2);
    if (auto v = validate(p); !v) return v;
    Cpu& c = cpus_[cpu];
    if (c.count == kSchedMaxTasksPerCpu) return fail(RVM_E_EXHAUSTED);
    const std::uint64_t now = clamp_now(c, now_ns);
    SchedTask t;
    t.id = id;
    t.params = p;
    if (t.params.deadline_ns == 0) t.params.deadline_ns = t.params.period_ns;
    t.runnable = true;
    t.vruntime = min_vruntime(c, kSchedIdle);
    start_job(t, now);
    c.tasks[c.count++] = t;
    if (p.critical) {
        ++critical_;
        update_mode(now, 0);
    }
    return {};
}

KResult<Scheduler::Stopped> Scheduler::stop(std::uint32_t cpu, SchedTaskId id, std::uint64_t now_ns) {
    const auto found = slot(cpu, id);
    if (!found) return err(found.error());
    SchedTask* t = found.value();
    Cpu& c = cpus_[cpu];
    const std::uint64_t now = clamp_now(c, now_ns);
    if (c.current == id) {
        charge(c, now);
        c.current = kSchedIdle;
    }
    return Stopped{t, &c, now};
}

KResult<void> Scheduler::dequeue(std::uint32_t cpu, SchedTaskId id, std::uint64_t now_ns) {
    const auto s = stop(cpu, id, now_ns);
    if (!s) return err(s.error());
    SchedTask* t = s.value().task;
    Cpu& c = *s.value().cpu;
    const std::uint64_t now = s.value().now;
    const bool critical = t->params.critical;
    *t = c.tasks[--c.count];  // order does not matter: every choice is a total order on keys
    c.tasks[c.count] = SchedTask{};
    if (critical) {
        --critical_;
        update_mode(now, 0);
    }
    return {};
}

KResult<void> Scheduler::block(std::uint32_t cpu, SchedTaskId id, std::uint64_t now_ns) {
    const auto s = stop(cpu, id, now_ns);
    if (!s) return err(s.error());
    SchedTask* t = s.value().task;
    Cpu& c = *s.value().cpu;
    const std::uint64_t now = s.value().now;
    if (!t->runnable) return {};
    end_job(c, *t, now);  // a task that waits is done with its job
    t->runnable = false;
    return {};
}

KResult<void> Scheduler::wake(std::uint32_t cpu, SchedTaskId id, std::uint64_t now_ns) {
    const auto found = slot(cpu, id);
    if (!found) return err(found.error());
    SchedTask* t = found.value();
    Cpu& c = cpus_[cpu];
    const std::uint64_t now = clamp_now(c, now_ns);
    if (t->runnable) return {};
    t->vruntime = max_u64(t->vruntime, min_vruntime(c, id));  // no credit for time asleep
    t->runnable = true;
    if (t->params.period_ns == 0) start_job(*t, now);  // periodic tasks wait for their release
    return {};
}

KResult<void> Scheduler::set_signals(std::uint32_t cpu, SchedTaskId id, const FlowSignals& s) {
    const auto found = slot(cpu, id);
    if (!found) return err(found.error());
    if (auto v = validate(s); !v) return v;
    found.value()->signals = s;
    return {};
}

// ---------------------------------------------------------------- choosing

// The task to run, or nullptr. Reflex and Recovery: active jobs by earliest
// deadline, then the rest by least CPU time; Flow: highest flow priority,
// then least CPU time. Ties by id, so the order of the array never matters.
const SchedTask* Scheduler::choose(const Cpu& c, std::uint64_t now_ns) const {
    const SchedTask* best = nullptr;
    std::int64_t best_prio = 0;
    const bool flow = mode_ == SchedMode::Flow;
    const bool recovery = mode_ == SchedMode::Recovery;
    for (std::uint32_t i = 0; i < c.count; ++i) {
        const SchedTask& t = c.tasks[i];
        if (!eligible(t) || (recovery && !admitted(c, t.params.partition))) continue;
        if (flow) {
            const std::int64_t prio = flow_priority(t.abs_deadline, now_ns, t.signals, config_.boost_step_ppm).total;
            const bool better = best == nullptr || prio > best_prio ||
                                (prio == best_prio &&
                                 (t.vruntime < best->vruntime || (t.vruntime == best->vruntime && t.id < best->id)));
            if (better) {
                best = &t;
                best_prio = prio;
            }
            continue;
        }
        bool better = best == nullptr;
        if (!better) {
            const bool job = t.abs_deadline != 0;
            const bool best_job = best->abs_deadline != 0;
            if (job != best_job) {
                better = job;
            } else if (job && t.abs_deadline != best->abs_deadline) {
                better = t.abs_deadline < best->abs_deadline;
            } else if (!job && t.vruntime != best->vruntime) {
                better = t.vruntime < best->vruntime;
            } else {
                better = t.id < best->id;
            }
        }
        if (better) best = &t;
    }
    return best;
}

KResult<Pick> Scheduler::pick_next(std::uint32_t cpu, std::uint64_t now_ns) {
    if (cpu >= config_.cpus) return fail(RVM_E_INVALID, 1);
    Cpu& c = cpus_[cpu];
    const std::uint64_t now = clamp_now(c, now_ns);
    charge(c, now);
    for (std::uint32_t i = 0; i < c.count; ++i) refresh(c, c.tasks[i], now);

    if (mode_ == SchedMode::Recovery && c.admitted_epoch != epoch_) admit(c);
    const SchedTask* t = choose(c, now);
    if (t == nullptr && mode_ == SchedMode::Recovery) {
        admit(c);  // the admitted partitions have nothing to run: stay work-conserving
        t = choose(c, now);
    }
    const std::uint64_t release = next_release(c);
    const std::uint64_t until_release = release == kNever ? kNever : release - now;
    Pick p;
    p.mode = mode_;
    ++c.stats.picks;
    if (t == nullptr) {
        ++c.stats.idle_picks;
        p.quantum_ns = min_u64(config_.quantum_ns, until_release);
        c.current = kSchedIdle;
    } else {
        p.task = t->id;
        p.quantum_ns = max_u64(1, min_u64(quantum_for(*t), until_release));
        if (t->id != c.last) {
            ++c.stats.switches_epoch;
            ++c.stats.switches_total;
            c.last = t->id;
        }
        c.current = t->id;
    }
    c.since = now;
    c.slice_end = now + p.quantum_ns;
    return p;
}

KResult<bool> Scheduler::tick(std::uint32_t cpu, std::uint64_t now_ns) {
    if (cpu >= config_.cpus) return fail(RVM_E_INVALID, 1);
    Cpu& c = cpus_[cpu];
    const std::uint64_t now = clamp_now(c, now_ns);
    charge(c, now);
    if (now >= c.slice_end) return true;
    if (c.current == kSchedIdle) return false;
    const SchedTask* t = find(cpu, c.current);
    return t == nullptr || !eligible(*t);
}

bool Scheduler::invariants_hold() const {
    std::uint32_t critical = 0;
    for (std::uint32_t cpu = 0; cpu < kSchedMaxCpus; ++cpu) {
        const Cpu& c = cpus_[cpu];
        if (c.count > kSchedMaxTasksPerCpu || (cpu >= config_.cpus && c.count != 0)) return false;
        if (c.current != kSchedIdle && find(cpu, c.current) == nullptr) return false;
        if (c.admitted_count > config_.recovery_max_partitions) return false;
        for (std::uint32_t i = 0; i < c.count; ++i) {
            const SchedTask& t = c.tasks[i];
            if (t.id == kSchedIdle || !validate(t.params) || !validate(t.signals)) return false;
            if ((t.abs_deadline == 0) != (t.budget_left == 0)) return false;
            if (t.abs_deadline != 0 && (t.params.deadline_ns == 0 || t.budget_left > t.params.budget_ns)) return false;
            for (std::uint32_t other = 0; other < config_.cpus; ++other) {
                const SchedTask* twin = find(other, t.id);
                if (twin != nullptr && twin != &t) return false;
            }
            critical += t.params.critical ? 1u : 0u;
        }
    }
    if (critical != critical_ || restarting_count_ > kSchedMaxRestarting || event_count_ > kSchedMaxEvents) {
        return false;
    }
    ModeReason reason = ModeReason::Recovered;
    return wanted_mode(&reason) == mode_;
}

}  // namespace rvm
