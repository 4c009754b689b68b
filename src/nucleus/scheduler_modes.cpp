// Scheduler: admission of critical partitions to Reflex, the operating
// modes (Reflex, Flow, Recovery) and their switches, the events handed to the
// caller to witness, failure and recovery, epochs.
#include "nucleus/scheduler.hpp"

namespace rvm {

bool Scheduler::admitted(const Cpu& c, std::uint32_t partition) const {
    for (std::uint32_t i = 0; i < c.admitted_count; ++i) {
        if (c.admitted[i] == partition) return true;
    }
    return false;
}

// Recovery: admits up to recovery_max_partitions partitions with eligible
// tasks on this CPU, restarting partitions first, then the one whose tasks
// used the least CPU time (so healthy partitions take turns across epochs),
// then the lowest id.
void Scheduler::admit(Cpu& c) {
    struct Candidate {
        std::uint32_t partition;
        bool restarting;
        std::uint64_t vruntime;
    };
    std::array<Candidate, kSchedMaxTasksPerCpu> cand{};
    std::uint32_t n = 0;
    for (std::uint32_t i = 0; i < c.count; ++i) {
        const SchedTask& t = c.tasks[i];
        if (!eligible(t)) continue;
        std::uint32_t j = 0;
        while (j < n && cand[j].partition != t.params.partition) ++j;
        if (j == n) cand[n++] = Candidate{t.params.partition, partition_restarting(t.params.partition), t.vruntime};
        cand[j].vruntime = (t.vruntime < cand[j].vruntime ? t.vruntime : cand[j].vruntime);
    }
    auto before = [](const Candidate& a, const Candidate& b) {
        if (a.restarting != b.restarting) return a.restarting;
        if (a.vruntime != b.vruntime) return a.vruntime < b.vruntime;
        return a.partition < b.partition;
    };
    c.admitted_count = 0;
    while (c.admitted_count < config_.recovery_max_partitions && n > 0) {
        std::uint32_t best = 0;
        for (std::uint32_t j = 1; j < n; ++j) {
            if (before(cand[j], cand[best])) best = j;
        }
        c.admitted[c.admitted_count++] = cand[best].partition;
        cand[best] = cand[--n];
    }
    c.admitted_epoch = epoch_;
}

SchedMode Scheduler::wanted_mode(ModeReason* reason) const {
    if (restarting_count_ > 0 || recovery_hold_ > 0) {
        *reason = ModeReason::Failure;
        return SchedMode::Recovery;
    }
    if (config_.coherence_critical_ppm != 0 && coherence_ppm_ < config_.coherence_critical_ppm) {
        *reason = ModeReason::CoherenceLow;
        return SchedMode::Recovery;
    }
    if (mode_ == SchedMode::Recovery) {
        *reason = ModeReason::Recovered;
    } else {
        *reason = critical_ > 0 ? ModeReason::CriticalTask : ModeReason::NoCriticalTask;
    }
    return critical_ > 0 ? SchedMode::Reflex : SchedMode::Flow;
}

void Scheduler::invalidate_admissions() {
    for (Cpu& c : cpus_) c.admitted_epoch = kSchedNever;
}

void Scheduler::update_mode(std::uint64_t now_ns, std::uint32_t partition) {
    ModeReason reason = ModeReason::Recovered;
    const SchedMode want = wanted_mode(&reason);
    if (want == mode_) return;
    SchedEvent e;
    e.kind = SchedEventKind::ModeSwitch;
    e.from = mode_;
    e.to = want;
    e.reason = reason;
    e.partition = reason == ModeReason::Failure ? partition : 0;
    e.time_ns = now_ns;
    e.epoch = epoch_;
    push_event(e);
    mode_ = want;
    invalidate_admissions();
}

void Scheduler::push_event(const SchedEvent& e) {
    if (event_count_ == kSchedMaxEvents) {
        ++events_dropped_;
        return;
    }
    events_[(event_head_ + event_count_) % kSchedMaxEvents] = e;
    ++event_count_;
}

std::size_t Scheduler::drain_events(std::span<SchedEvent> out) {
    std::size_t n = 0;
    while (n < out.size() && event_count_ > 0) {
        out[n++] = events_[event_head_];
        event_head_ = (event_head_ + 1) % kSchedMaxEvents;
        --event_count_;
    }
    return n;
}

void Scheduler::report_failure(std::uint32_t partition, std::uint64_t now_ns) {
    if (!partition_restarting(partition) && restarting_count_ < kSchedMaxRestarting) {
        restarting_[restarting_count_++] = partition;
    }
    recovery_hold_ = config_.recovery_epochs;
    invalidate_admissions();  // the restarting partition goes first
    if (mode_ == SchedMode::Recovery) return;
    update_mode(now_ns, partition);
}

void Scheduler::partition_recovered(std::uint32_t partition, std::uint64_t now_ns) {
    for (std::uint32_t i = 0; i < restarting_count_; ++i) {
        if (restarting_[i] == partition) {
            restarting_[i] = restarting_[--restarting_count_];
            break;
        }
    }
    invalidate_admissions();
    update_mode(now_ns, 0);
}

void Scheduler::set_coherence(std::uint32_t ppm, std::uint64_t now_ns) {
    coherence_ppm_ = ppm > kSchedPpm ? kSchedPpm : ppm;
    update_mode(now_ns, 0);
}

void Scheduler::end_epoch(std::uint64_t now_ns) {
    SchedEvent e;
    e.kind = SchedEventKind::EpochBatch;
    e.from = mode_;
    e.to = mode_;
    e.time_ns = now_ns;
    e.epoch = epoch_;
    for (std::uint32_t cpu = 0; cpu < config_.cpus; ++cpu) {
        Cpu& c = cpus_[cpu];
        e.switches += c.stats.switches_epoch;
        e.deadline_misses += c.misses_epoch;
        c.stats.switches_epoch = 0;
        c.misses_epoch = 0;
    }
    push_event(e);
    ++epoch_;
    if (recovery_hold_ > 0) --recovery_hold_;
    update_mode(now_ns, 0);
}

}  // namespace rvm
