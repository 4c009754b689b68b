// Scheduler policy (seed 002 section 5): which task a host CPU runs next and
// for how long. Pure: the caller owns time (now_ns), threads and vCPUs, tells
// the policy what happened (enqueue, block, wake, failures) and witnesses the
// events it hands back. Fixed capacity: kSchedMaxCpus run queues of
// kSchedMaxTasksPerCpu tasks each; a pick is a linear scan (no heap).
//
// Modes (the scheduler is in exactly one; docs/edges-and-scheduling.md):
//   Recovery  while a partition is failed/restarting, for `recovery_epochs`
//             epochs after the last failure, or while coherence is below
//             `coherence_critical_ppm`. At most `recovery_max_partitions`
//             partitions run per CPU per epoch; restarting ones are admitted
//             first. EDF then round robin among the admitted.
//   Reflex    else, while any enqueued task is `critical`: EDF among tasks
//             with an active job (earliest absolute deadline, ties by id); the
//             others round robin behind them. No boosts, no signals.
//   Flow      otherwise: highest flow_priority() (seed 002 5.2 plus seed
//             000's Ψ boost); equal priorities by least CPU time used, then id.
//
// Jobs. A task with deadline_ns > 0 runs jobs of budget_ns CPU time that
// must finish by release + deadline_ns. Periodic tasks (period_ns > 0) are
// released every period and are not eligible between the end of a job
// (budget used, or the task blocked) and the next release; aperiodic ones get
// a job when enqueued or woken and run as ordinary tasks once its budget is
// used. A job unfinished at its deadline counts one miss.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

#include "nucleus/status.hpp"

namespace rvm {

inline constexpr std::size_t kSchedMaxCpus = 64;
inline constexpr std::size_t kSchedMaxTasksPerCpu = 256;
inline constexpr std::size_t kSchedMaxEvents = 256;
inline constexpr std::size_t kSchedMaxRestarting = 64;
inline constexpr std::uint32_t kSchedMaxRecoveryPartitions = 16;
inline constexpr std::uint64_t kSchedMaxSpanNs = 3'600'000'000'000;  // bound on periods, deadlines, quanta
inline constexpr std::uint32_t kSchedPpm = 1'000'000;

// The caller's task id (unique across CPUs); ties break on it.
using SchedTaskId = std::uint32_t;
inline constexpr SchedTaskId kSchedIdle = 0xffffffffu;
inline constexpr std::uint64_t kSchedNever = ~0ull;  // no time: never admitted, no release

enum class SchedMode : std::uint8_t { Reflex = 0, Flow = 1, Recovery = 2 };
[[nodiscard]] const char* sched_mode_name(SchedMode m);

// Declared by the caller (the manifest). Refused unless: deadline_ns == 0
// or 0 < budget_ns <= deadline_ns; period_ns == 0 or deadline_ns <= period_ns;
// critical only with a deadline; every span <= kSchedMaxSpanNs.
struct TaskParams {
    std::uint32_t partition = 0;    // caller's partition id: Recovery admits by it
    std::uint64_t period_ns = 0;    // 0 = aperiodic
    std::uint64_t deadline_ns = 0;  // relative deadline; 0 = none
    std::uint64_t budget_ns = 0;    // CPU time per job
    bool critical = false;          // a hard deadline: selects Reflex while enqueued
};

// Flow inputs, per task, supplied by the caller each epoch (all default 0).
// The seed's novelty slot is fed with the Ψ ratio (seed 000: a transitioning
// partition is processing new input); risk and cut come from the coherence
// engine (0 until it exists; cut_ppm = 10^6 where seed 5.2 grants
// PRESSURE_BOOST). cpu_permille (seed 001's Ψ band allowance) scales the
// Flow quantum.
struct FlowSignals {
    std::uint32_t psi_ppm = 0;          // 0..10^6
    std::uint32_t risk_ppm = 0;         // 0..10^6
    std::uint32_t cut_ppm = 0;          // 0..10^6
    std::uint8_t psi_boost = 0;         // PsiDecision::boost, steps 0..15
    std::uint16_t cpu_permille = 1000;  // 1..1000
    friend constexpr bool operator==(const FlowSignals&, const FlowSignals&) = default;
};

// Seed 002 5.2 in parts per million (no floating point in the nucleus):
//   urgency = 10^12 / (remaining_ns + 10^6)   (= 1 / (remaining_ms + 1)); 0 without a job
//   novelty = 0.3 * psi_ppm   risk = 2.0 * risk_ppm   cut = 0.5 * cut_ppm
//   boost   = psi_boost * boost_step_ppm
//   total   = urgency + novelty - risk + cut + boost
struct FlowPriority {
    std::int64_t urgency = 0;
    std::int64_t novelty = 0;
    std::int64_t risk = 0;
    std::int64_t cut = 0;
    std::int64_t boost = 0;
    std::int64_t total = 0;
};
// abs_deadline_ns == 0: no active job.
[[nodiscard]] FlowPriority flow_priority(std::uint64_t abs_deadline_ns, std::uint64_t now_ns, const FlowSignals& s,
                                         std::uint32_t boost_step_ppm);

struct SchedConfig {
    std::uint32_t cpus = 1;                     // 1..kSchedMaxCpus
    std::uint64_t quantum_ns = 1'000'000;       // ordinary tasks (Reflex jobs run to their budget)
    std::uint64_t min_quantum_ns = 50'000;      // floor of the Ψ-scaled Flow quantum
    std::uint32_t boost_step_ppm = 100'000;     // one Ψ boost step = 0.1 priority
    std::uint32_t recovery_max_partitions = 1;  // per CPU, 1..kSchedMaxRecoveryPartitions
    std::uint32_t recovery_epochs = 3;          // epochs after the last failure
    std::uint32_t coherence_critical_ppm = 0;   // coherence below it means Recovery; 0 = off
    friend constexpr bool operator==(const SchedConfig&, const SchedConfig&) = default;
};
// RVM_E_INVALID on anything outside the ranges above, quanta of 0 or above
// kSchedMaxSpanNs, min_quantum_ns > quantum_ns.
[[nodiscard]] KResult<void> validate(const SchedConfig& c);

struct Pick {
    SchedTaskId task = kSchedIdle;  // kSchedIdle: nothing eligible
    std::uint64_t quantum_ns = 0;   // run at most this long, then tick/pick again
    SchedMode mode = SchedMode::Flow;
    [[nodiscard]] constexpr bool idle() const { return task == kSchedIdle; }
};

enum class ModeReason : std::uint8_t { CriticalTask, NoCriticalTask, Failure, CoherenceLow, Recovered };

// Handed to the caller to witness (RVM_WK_MODE_SWITCH for ModeSwitch; the
// per-epoch batch of DC-10 for EpochBatch: one record per epoch, not one per
// context switch).
enum class SchedEventKind : std::uint8_t { ModeSwitch, EpochBatch };
struct SchedEvent {
    SchedEventKind kind = SchedEventKind::ModeSwitch;
    SchedMode from = SchedMode::Flow;  // ModeSwitch
    SchedMode to = SchedMode::Flow;    // ModeSwitch; EpochBatch: the mode at the end of the epoch
    ModeReason reason = ModeReason::Recovered;
    std::uint32_t partition = 0;  // ModeSwitch for Failure: the failed partition
    std::uint64_t time_ns = 0;
    std::uint64_t epoch = 0;            // the epoch it happened in
    std::uint64_t switches = 0;         // EpochBatch: context switches, all CPUs
    std::uint64_t deadline_misses = 0;  // EpochBatch: all CPUs
};

struct CpuStats {
    std::uint32_t tasks = 0;
    std::uint32_t runnable = 0;
    std::uint64_t switches_epoch = 0;
    std::uint64_t switches_total = 0;
    std::uint64_t picks = 0;
    std::uint64_t idle_picks = 0;
    std::uint64_t deadline_misses = 0;
};

// One task as the policy tracks it (exposed for tests and views).
struct SchedTask {
    SchedTaskId id = kSchedIdle;
    TaskParams params;
    FlowSignals signals;
    std::uint64_t release_ns = 0;    // release of the current (or last) job
    std::uint64_t abs_deadline = 0;  // of the active job; 0 = no active job
    std::uint64_t budget_left = 0;   // of the active job
    std::uint64_t vruntime = 0;      // CPU time used, normalized on enqueue/wake
    bool runnable = false;
    bool missed = false;  // the active job's miss is counted
};

class Scheduler {
public:
    Scheduler() = default;
    Scheduler(const Scheduler&) = delete;
    Scheduler& operator=(const Scheduler&) = delete;

    // Validates and applies `c`; forgets every task, event and statistic.
    [[nodiscard]] KResult<void> configure(const SchedConfig& c);

    // The task becomes runnable on `cpu` (a job is released if it has a
    // deadline). RVM_E_INVALID arg 1 (cpu) / 3 (params), RVM_E_STATE arg 2
    // (id already enqueued on some CPU, or kSchedIdle), RVM_E_EXHAUSTED (full).
    [[nodiscard]] KResult<void> enqueue(std::uint32_t cpu, SchedTaskId id, const TaskParams& p, std::uint64_t now_ns);
    // RVM_E_BAD_HANDLE arg 2 for a task not on `cpu` (here and below).
    [[nodiscard]] KResult<void> dequeue(std::uint32_t cpu, SchedTaskId id, std::uint64_t now_ns);
    // Blocking ends a periodic task's job (it waits for its next release).
    [[nodiscard]] KResult<void> block(std::uint32_t cpu, SchedTaskId id, std::uint64_t now_ns);
    [[nodiscard]] KResult<void> wake(std::uint32_t cpu, SchedTaskId id, std::uint64_t now_ns);
    [[nodiscard]] KResult<void> set_signals(std::uint32_t cpu, SchedTaskId id, const FlowSignals& s);

    // Charges the running task up to now_ns, releases due jobs, counts
    // misses, and chooses. A different task than the CPU ran last counts one
    // context switch (batched per epoch).
    [[nodiscard]] KResult<Pick> pick_next(std::uint32_t cpu, std::uint64_t now_ns);
    // Charges the running task; true when the caller should pick again (the
    // slice ended or the task is no longer eligible). Job releases cannot
    // come mid-slice: a quantum never extends past the next release.
    [[nodiscard]] KResult<bool> tick(std::uint32_t cpu, std::uint64_t now_ns);

    // Failure of a partition (fault, failed reconstruction): Recovery until
    // partition_recovered() and recovery_epochs epochs without a new failure.
    void report_failure(std::uint32_t partition, std::uint64_t now_ns);
    void partition_recovered(std::uint32_t partition, std::uint64_t now_ns);
    // Coherence of the system (coherence engine), 0..10^6.
    void set_coherence(std::uint32_t ppm, std::uint64_t now_ns);
    // Closes the epoch: one EpochBatch event, counters reset, mode re-evaluated.
    void end_epoch(std::uint64_t now_ns);

    // Moves up to out.size() pending events to `out`, oldest first.
    std::size_t drain_events(std::span<SchedEvent> out);
    [[nodiscard]] std::uint64_t events_dropped() const { return events_dropped_; }

    [[nodiscard]] SchedMode mode() const { return mode_; }
    [[nodiscard]] std::uint64_t epoch() const { return epoch_; }
    [[nodiscard]] const SchedConfig& config() const { return config_; }
    [[nodiscard]] CpuStats cpu_stats(std::uint32_t cpu) const;
    // nullptr if `id` is not on `cpu`.
    [[nodiscard]] const SchedTask* find(std::uint32_t cpu, SchedTaskId id) const;
    [[nodiscard]] bool partition_restarting(std::uint32_t partition) const;
    // Ids unique, counts and flags consistent (tests).
    [[nodiscard]] bool invariants_hold() const;

private:
    struct Cpu {
        std::array<SchedTask, kSchedMaxTasksPerCpu> tasks{};
        std::uint32_t count = 0;
        SchedTaskId current = kSchedIdle;  // picked last; charged up to `since`
        SchedTaskId last = kSchedIdle;     // last task run (context-switch counting)
        std::uint64_t since = 0;
        std::uint64_t slice_end = 0;  // pick time + quantum
        std::uint64_t now = 0;        // latest time seen; earlier times are clamped to it
        std::array<std::uint32_t, kSchedMaxRecoveryPartitions> admitted{};
        std::uint32_t admitted_count = 0;
        std::uint64_t admitted_epoch = ~0ull;
        std::uint64_t misses_epoch = 0;
        CpuStats stats;
    };

    [[nodiscard]] static std::uint32_t index_of(const Cpu& c, SchedTaskId id);  // c.count if absent
    [[nodiscard]] KResult<SchedTask*> slot(std::uint32_t cpu, SchedTaskId id);
    [[nodiscard]] bool enqueued_anywhere(SchedTaskId id) const;
    std::uint64_t clamp_now(Cpu& c, std::uint64_t now_ns);
    void charge(Cpu& c, std::uint64_t now_ns);
    // dequeue / block: the task `id` on `cpu`, taken off the CPU (its time
    // charged) if it was running there; RVM_E_INVALID arg 1 / BAD_HANDLE arg 2.
    struct Stopped {
        SchedTask* task;
        Cpu* cpu;
        std::uint64_t now;
    };
    [[nodiscard]] KResult<Stopped> stop(std::uint32_t cpu, SchedTaskId id, std::uint64_t now_ns);
    static void refresh(Cpu& c, SchedTask& t, std::uint64_t now_ns);
    static void start_job(SchedTask& t, std::uint64_t release_ns);
    static void end_job(Cpu& c, SchedTask& t, std::uint64_t finish_ns);
    static void count_miss(Cpu& c, SchedTask& t);
    [[nodiscard]] static bool eligible(const SchedTask& t);
    [[nodiscard]] static std::uint64_t min_vruntime(const Cpu& c, SchedTaskId except);
    [[nodiscard]] static std::uint64_t next_release(const Cpu& c);
    [[nodiscard]] std::uint64_t quantum_for(const SchedTask& t) const;
    void admit(Cpu& c);
    [[nodiscard]] bool admitted(const Cpu& c, std::uint32_t partition) const;
    [[nodiscard]] const SchedTask* choose(const Cpu& c, std::uint64_t now_ns) const;
    [[nodiscard]] SchedMode wanted_mode(ModeReason* reason) const;
    void update_mode(std::uint64_t now_ns, std::uint32_t partition);
    void invalidate_admissions();
    void push_event(const SchedEvent& e);

    SchedConfig config_{};
    std::array<Cpu, kSchedMaxCpus> cpus_{};
    SchedMode mode_ = SchedMode::Flow;
    std::uint64_t epoch_ = 0;
    std::uint32_t critical_ = 0;  // enqueued critical tasks
    std::array<std::uint32_t, kSchedMaxRestarting> restarting_{};
    std::uint32_t restarting_count_ = 0;
    std::uint32_t recovery_hold_ = 0;  // epochs of Recovery left after the last failure
    std::uint32_t coherence_ppm_ = kSchedPpm;
    std::array<SchedEvent, kSchedMaxEvents> events_{};
    std::uint32_t event_head_ = 0;
    std::uint32_t event_count_ = 0;
    std::uint64_t events_dropped_ = 0;
};

}  // namespace rvm
