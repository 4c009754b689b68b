// Scheduler policy (nucleus/scheduler.hpp): EDF and deadline misses on a
// simulated timeline, the Flow formula of seed 002 5.2, Recovery's cap,
// fairness, batching of context switches, capacity and random sequences.
// Seeds: RVM_SEED or the fixed default, printed.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstdio>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <vector>

#include "nucleus/scheduler.hpp"
#include "support/seed.hpp"

namespace rvm {
namespace {

using test::seed_from_env;

constexpr std::uint64_t kMs = 1'000'000;

std::unique_ptr<Scheduler> make(const SchedConfig& c = {}) {
    auto s = std::make_unique<Scheduler>();
    EXPECT_TRUE(s->configure(c));
    return s;
}

std::vector<SchedEvent> drain(Scheduler& s) {
    std::vector<SchedEvent> out(kSchedMaxEvents);
    out.resize(s.drain_events(out));
    return out;
}

// Runs `cpu` from `now` to `until`, each pick for its whole quantum; closes an
// epoch every `epoch_ns`. Returns CPU time per task.
struct Sim {
    explicit Sim(Scheduler& sched) : s(sched) {}
    Scheduler& s;
    std::uint32_t cpu = 0;
    std::uint64_t now = 0;
    std::uint64_t epoch_ns = 100 * kMs;
    std::uint64_t next_epoch = 100 * kMs;
    std::map<SchedTaskId, std::uint64_t> ran;
    std::vector<SchedTaskId> order;

    void run_until(std::uint64_t until) {
        while (now < until) {
            const Pick p = s.pick_next(cpu, now).value();
            ASSERT_GT(p.quantum_ns, 0u);
            const std::uint64_t q = std::min({p.quantum_ns, until - now, next_epoch - now});
            if (!p.idle()) {
                ran[p.task] += q;
                if (order.empty() || order.back() != p.task) order.push_back(p.task);
            }
            now += q;
            if (now == next_epoch) {
                (void)s.tick(cpu, now);
                s.end_epoch(now);
                next_epoch += epoch_ns;
            }
        }
        (void)s.tick(cpu, now);
    }
};

double jain(const std::vector<double>& x) {
    double sum = 0;
    double sq = 0;
    for (const double v : x) {
        sum += v;
        sq += v * v;
    }
    return sum * sum / (static_cast<double>(x.size()) * sq);
}

TEST(SchedulerConfig, ValidatesRanges) {
    EXPECT_TRUE(validate(SchedConfig{}));
    EXPECT_FALSE(validate(SchedConfig{.cpus = 0}));
    EXPECT_FALSE(validate(SchedConfig{.cpus = kSchedMaxCpus + 1}));
    EXPECT_FALSE(validate(SchedConfig{.quantum_ns = 0}));
    EXPECT_FALSE(validate(SchedConfig{.quantum_ns = 10'000, .min_quantum_ns = 20'000}));
    EXPECT_FALSE(validate(SchedConfig{.recovery_max_partitions = 0}));
    EXPECT_FALSE(validate(SchedConfig{.recovery_max_partitions = kSchedMaxRecoveryPartitions + 1}));
    EXPECT_FALSE(validate(SchedConfig{.coherence_critical_ppm = kSchedPpm + 1}));
    Scheduler s;
    EXPECT_EQ(s.configure(SchedConfig{.cpus = 0}).error().code, RVM_E_INVALID);
}

TEST(SchedulerFlow, PriorityFollowsSeedFormula) {
    const std::uint32_t step = 100'000;
    EXPECT_EQ(flow_priority(0, 5 * kMs, FlowSignals{}, step).total, 0);
    // urgency = 1 / (remaining_ms + 1)
    EXPECT_EQ(flow_priority(10 * kMs, 10 * kMs, FlowSignals{}, step).urgency, 1'000'000);
    EXPECT_EQ(flow_priority(10 * kMs, 11 * kMs, FlowSignals{}, step).urgency, 1'000'000);  // overdue
    EXPECT_EQ(flow_priority(11 * kMs, 10 * kMs, FlowSignals{}, step).urgency, 500'000);
    EXPECT_EQ(flow_priority(19 * kMs, 10 * kMs, FlowSignals{}, step).urgency, 100'000);
    const FlowPriority p =
        flow_priority(13 * kMs, 10 * kMs,
                      FlowSignals{.psi_ppm = 500'000, .risk_ppm = 100'000, .cut_ppm = 1'000'000, .psi_boost = 2}, step);
    EXPECT_EQ(p.urgency, 250'000);
    EXPECT_EQ(p.novelty, 150'000);  // 0.3 * 0.5
    EXPECT_EQ(p.risk, 200'000);     // 2.0 * 0.1
    EXPECT_EQ(p.cut, 500'000);      // PRESSURE_BOOST
    EXPECT_EQ(p.boost, 200'000);    // 2 steps of 0.1
    EXPECT_EQ(p.total, 250'000 + 150'000 - 200'000 + 500'000 + 200'000);
}

TEST(SchedulerFlow, PicksInFormulaOrder) {
    auto s = make();
    struct Case {
        SchedTaskId id;
        FlowSignals sig;
        std::uint64_t deadline;
    };
    const std::vector<Case> cases = {
        {1, FlowSignals{}, 0},                                             // 0
        {2, FlowSignals{.risk_ppm = 100'000}, 0},                          // -0.2
        {3, FlowSignals{.psi_ppm = 1'000'000}, 0},                         // 0.3
        {4, FlowSignals{.cut_ppm = 1'000'000}, 0},                         // 0.5
        {5, FlowSignals{.psi_boost = 15}, 0},                              // 1.5
        {6, FlowSignals{}, 3 * kMs},                                       // 1/(3+1) = 0.25
        {7, FlowSignals{.psi_ppm = 1'000'000, .risk_ppm = 1'000'000}, 0},  // -1.7
    };
    for (const Case& c : cases) {
        ASSERT_TRUE(s->enqueue(0, c.id, TaskParams{.deadline_ns = c.deadline, .budget_ns = c.deadline / 3}, 0));
        ASSERT_TRUE(s->set_signals(0, c.id, c.sig));
    }
    EXPECT_EQ(s->mode(), SchedMode::Flow);
    std::vector<SchedTaskId> order;
    for (std::size_t i = 0; i < cases.size(); ++i) {
        const Pick p = s->pick_next(0, 0).value();
        order.push_back(p.task);
        ASSERT_TRUE(s->block(0, p.task, 0));
    }
    EXPECT_EQ(order, (std::vector<SchedTaskId>{5, 4, 3, 6, 1, 2, 7}));
    EXPECT_TRUE(s->pick_next(0, 0).value().idle());
}

TEST(SchedulerFlow, PsiAllowanceScalesQuantum) {
    auto s = make(SchedConfig{.quantum_ns = kMs, .min_quantum_ns = 100'000});
    ASSERT_TRUE(s->enqueue(0, 1, TaskParams{}, 0));
    ASSERT_TRUE(s->set_signals(0, 1, FlowSignals{.cpu_permille = 500}));
    EXPECT_EQ(s->pick_next(0, 0).value().quantum_ns, kMs / 2);
    ASSERT_TRUE(s->set_signals(0, 1, FlowSignals{.cpu_permille = 1}));
    EXPECT_EQ(s->pick_next(0, 0).value().quantum_ns, 100'000u);
    EXPECT_EQ(s->set_signals(0, 1, FlowSignals{.cpu_permille = 0}).error(), (Status{RVM_E_INVALID, 3}));
    EXPECT_EQ(s->set_signals(0, 1, FlowSignals{.psi_ppm = kSchedPpm + 1}).error(), (Status{RVM_E_INVALID, 3}));
}

TEST(SchedulerReflex, EarliestDeadlineFirstRunsToBudget) {
    auto s = make();
    ASSERT_TRUE(s->enqueue(0, 30, TaskParams{.deadline_ns = 30 * kMs, .budget_ns = 3 * kMs, .critical = true}, 0));
    ASSERT_TRUE(s->enqueue(0, 10, TaskParams{.deadline_ns = 10 * kMs, .budget_ns = 2 * kMs, .critical = true}, 0));
    ASSERT_TRUE(s->enqueue(0, 20, TaskParams{.deadline_ns = 20 * kMs, .budget_ns = 4 * kMs, .critical = true}, 0));
    ASSERT_TRUE(s->enqueue(0, 99, TaskParams{}, 0));  // a hog without deadline
    EXPECT_EQ(s->mode(), SchedMode::Reflex);
    Sim sim(*s);
    sim.run_until(10 * kMs);  // 9 ms of jobs, then the hog
    ASSERT_GE(sim.order.size(), 4u);
    EXPECT_EQ(std::vector<SchedTaskId>(sim.order.begin(), sim.order.begin() + 4),
              (std::vector<SchedTaskId>{10, 20, 30, 99}));
    EXPECT_EQ(sim.ran[10], 2 * kMs);
    EXPECT_EQ(sim.ran[20], 4 * kMs);
    EXPECT_EQ(sim.ran[30], 3 * kMs);
    EXPECT_EQ(s->cpu_stats(0).deadline_misses, 0u);
}

// A periodic task (10 ms period, 5 ms deadline, 2 ms budget) among 8 hogs that
// the Ψ policy boosts to the maximum: Reflex keeps every deadline; the same
// task without `critical` in Flow loses to the boosted hogs.
TEST(SchedulerReflex, DeadlineTaskKeepsDeadlinesAmongHogs) {
    for (const bool critical : {true, false}) {
        SCOPED_TRACE(critical ? "reflex" : "flow");
        auto s = make();
        const TaskParams rt{.period_ns = 10 * kMs, .deadline_ns = 5 * kMs, .budget_ns = 2 * kMs, .critical = critical};
        ASSERT_TRUE(s->enqueue(0, 1, rt, 0));
        for (SchedTaskId h = 100; h < 108; ++h) {
            ASSERT_TRUE(s->enqueue(0, h, TaskParams{}, 0));
            ASSERT_TRUE(s->set_signals(0, h, FlowSignals{.psi_ppm = kSchedPpm, .psi_boost = 15}));
        }
        EXPECT_EQ(s->mode(), critical ? SchedMode::Reflex : SchedMode::Flow);
        Sim sim(*s);
        sim.run_until(2000 * kMs);
        const std::uint64_t misses = s->cpu_stats(0).deadline_misses;
        if (critical) {
            EXPECT_EQ(misses, 0u);
            EXPECT_EQ(sim.ran[1], 400 * kMs);  // every job got its budget
            for (SchedTaskId h = 100; h < 108; ++h)
                EXPECT_NEAR(static_cast<double>(sim.ran[h]), 200.0 * kMs, 2.0 * kMs);
        } else {
            EXPECT_GT(misses, 100u);
        }
    }
}

TEST(SchedulerReflex, OverloadCountsMissesPerEpoch) {
    auto s = make();
    // Utilization 0.6 + 0.6 > 1: misses are certain.
    ASSERT_TRUE(s->enqueue(0, 1, TaskParams{.period_ns = 10 * kMs, .budget_ns = 6 * kMs, .critical = true}, 0));
    ASSERT_TRUE(s->enqueue(0, 2, TaskParams{.period_ns = 10 * kMs, .budget_ns = 6 * kMs, .critical = true}, 0));
    (void)drain(*s);
    Sim sim(*s);
    sim.run_until(1000 * kMs);
    const std::uint64_t misses = s->cpu_stats(0).deadline_misses;
    EXPECT_GE(misses, 90u);
    std::uint64_t batched = 0;
    std::uint64_t batches = 0;
    for (const SchedEvent& e : drain(*s)) {
        ASSERT_EQ(e.kind, SchedEventKind::EpochBatch);
        batched += e.deadline_misses;
        ++batches;
    }
    EXPECT_EQ(batches, 10u);
    EXPECT_EQ(batched, misses);
}

TEST(SchedulerFlow, EqualTasksShareFairly) {
    auto s = make();
    constexpr int kTasks = 10;
    for (int i = 0; i < kTasks; ++i) ASSERT_TRUE(s->enqueue(0, static_cast<SchedTaskId>(i), TaskParams{}, 0));
    Sim sim(*s);
    sim.run_until(5000 * kMs);
    // A late joiner starts at the others' CPU time: it neither starves them nor starves.
    ASSERT_TRUE(s->enqueue(0, kTasks, TaskParams{}, sim.now));
    const std::map<SchedTaskId, std::uint64_t> before = sim.ran;
    sim.run_until(10'000 * kMs);
    std::vector<double> share;
    for (int i = 0; i <= kTasks; ++i) {
        const auto id = static_cast<SchedTaskId>(i);
        const auto it = before.find(id);
        share.push_back(static_cast<double>(sim.ran[id] - (it == before.end() ? 0 : it->second)));
    }
    const double j = jain(share);
    std::printf("SchedulerFlow.EqualTasksShareFairly: Jain index %.6f\n", j);
    EXPECT_GT(j, 0.99);
}

TEST(SchedulerRecovery, CapsConcurrencyAndAdmitsRestartingFirst) {
    auto s = make(SchedConfig{.recovery_max_partitions = 1, .recovery_epochs = 2});
    for (std::uint32_t part = 1; part <= 4; ++part) {
        for (std::uint32_t k = 0; k < 2; ++k)
            ASSERT_TRUE(s->enqueue(0, part * 10 + k, TaskParams{.partition = part}, 0));
    }
    s->report_failure(3, 0);
    EXPECT_EQ(s->mode(), SchedMode::Recovery);
    auto ev = drain(*s);
    ASSERT_EQ(ev.size(), 1u);
    EXPECT_EQ(ev[0].from, SchedMode::Flow);
    EXPECT_EQ(ev[0].to, SchedMode::Recovery);
    EXPECT_EQ(ev[0].reason, ModeReason::Failure);
    EXPECT_EQ(ev[0].partition, 3u);

    Sim sim(*s);
    sim.run_until(100 * kMs);  // epoch 0: only the restarting partition
    for (const auto& [id, t] : sim.ran) EXPECT_EQ(id / 10, 3u) << id;

    s->partition_recovered(3, sim.now);
    EXPECT_EQ(s->mode(), SchedMode::Recovery);  // held for recovery_epochs after the failure
    sim.ran.clear();
    sim.run_until(200 * kMs);  // epoch 1 (hold 1 left): one partition, not 3 (it used the most)
    std::set<std::uint32_t> parts;
    for (const auto& [id, t] : sim.ran) parts.insert(id / 10);
    EXPECT_EQ(parts.size(), 1u);
    EXPECT_EQ(parts.count(3), 0u);
    EXPECT_EQ(s->mode(), SchedMode::Flow);  // the second epoch end released the hold
    ev = drain(*s);
    ASSERT_FALSE(ev.empty());
    EXPECT_EQ(ev.back().kind, SchedEventKind::ModeSwitch);
    EXPECT_EQ(ev.back().to, SchedMode::Flow);
    EXPECT_EQ(ev.back().reason, ModeReason::Recovered);
    sim.ran.clear();
    sim.run_until(600 * kMs);
    EXPECT_EQ(sim.ran.size(), 8u);  // full concurrency again
}

TEST(SchedulerModes, SwitchesAreEventsForTheWitness) {
    auto s = make(SchedConfig{.coherence_critical_ppm = 200'000});
    ASSERT_TRUE(s->enqueue(0, 1, TaskParams{.deadline_ns = kMs, .budget_ns = kMs, .critical = true}, 5));
    EXPECT_EQ(s->mode(), SchedMode::Reflex);
    ASSERT_TRUE(s->dequeue(0, 1, 6));
    EXPECT_EQ(s->mode(), SchedMode::Flow);
    s->set_coherence(100'000, 7);
    EXPECT_EQ(s->mode(), SchedMode::Recovery);
    s->set_coherence(900'000, 8);
    EXPECT_EQ(s->mode(), SchedMode::Flow);
    const auto ev = drain(*s);
    ASSERT_EQ(ev.size(), 4u);
    EXPECT_EQ(ev[0].reason, ModeReason::CriticalTask);
    EXPECT_EQ(ev[0].time_ns, 5u);
    EXPECT_EQ(ev[1].reason, ModeReason::NoCriticalTask);
    EXPECT_EQ(ev[2].reason, ModeReason::CoherenceLow);
    EXPECT_EQ(ev[3].reason, ModeReason::Recovered);
    EXPECT_STREQ(sched_mode_name(ev[2].to), "recovery");
}

TEST(SchedulerEpoch, ContextSwitchesAreBatched) {
    auto s = make(SchedConfig{.cpus = 2});
    ASSERT_TRUE(s->enqueue(0, 1, TaskParams{}, 0));
    ASSERT_TRUE(s->enqueue(0, 2, TaskParams{}, 0));
    ASSERT_TRUE(s->enqueue(1, 3, TaskParams{}, 0));
    for (std::uint64_t t = 0; t < 100; ++t) {
        ASSERT_FALSE(s->pick_next(0, t * kMs).value().idle());
        ASSERT_EQ(s->pick_next(1, t * kMs).value().task, 3u);  // always the same: one switch in
    }
    EXPECT_TRUE(drain(*s).empty());  // nothing per switch
    EXPECT_EQ(s->cpu_stats(0).switches_epoch, 100u);
    s->end_epoch(100 * kMs);
    const auto ev = drain(*s);
    ASSERT_EQ(ev.size(), 1u);
    EXPECT_EQ(ev[0].kind, SchedEventKind::EpochBatch);
    EXPECT_EQ(ev[0].epoch, 0u);
    EXPECT_EQ(ev[0].switches, 101u);
    EXPECT_EQ(s->cpu_stats(0).switches_epoch, 0u);
    EXPECT_EQ(s->cpu_stats(0).switches_total, 100u);
    EXPECT_EQ(s->epoch(), 1u);
}

TEST(SchedulerQueue, FullQueueAndBadCallsRefuseCleanly) {
    auto s = make(SchedConfig{.cpus = 2});
    for (std::uint32_t i = 0; i < kSchedMaxTasksPerCpu; ++i) ASSERT_TRUE(s->enqueue(0, i, TaskParams{}, 0));
    EXPECT_EQ(s->enqueue(0, 1000, TaskParams{}, 0).error().code, RVM_E_EXHAUSTED);
    EXPECT_EQ(s->find(0, 1000), nullptr);
    EXPECT_EQ(s->cpu_stats(0).tasks, kSchedMaxTasksPerCpu);
    EXPECT_EQ(s->enqueue(1, 5, TaskParams{}, 0).error(), (Status{RVM_E_STATE, 2}));  // already on CPU 0
    EXPECT_EQ(s->enqueue(1, kSchedIdle, TaskParams{}, 0).error(), (Status{RVM_E_STATE, 2}));
    EXPECT_EQ(s->enqueue(2, 1000, TaskParams{}, 0).error(), (Status{RVM_E_INVALID, 1}));
    EXPECT_EQ(s->enqueue(1, 1000, TaskParams{.deadline_ns = kMs}, 0).error(), (Status{RVM_E_INVALID, 3}));
    EXPECT_EQ(s->enqueue(1, 1000, TaskParams{.deadline_ns = kMs, .budget_ns = 2 * kMs}, 0).error(),
              (Status{RVM_E_INVALID, 3}));
    EXPECT_EQ(s->enqueue(1, 1000, TaskParams{.period_ns = kMs, .deadline_ns = 2 * kMs, .budget_ns = kMs}, 0).error(),
              (Status{RVM_E_INVALID, 3}));
    EXPECT_EQ(s->enqueue(1, 1000, TaskParams{.critical = true}, 0).error(), (Status{RVM_E_INVALID, 3}));
    EXPECT_EQ(s->dequeue(1, 5, 0).error(), (Status{RVM_E_BAD_HANDLE, 2}));
    EXPECT_EQ(s->wake(0, 1000, 0).error(), (Status{RVM_E_BAD_HANDLE, 2}));
    EXPECT_EQ(s->pick_next(7, 0).error(), (Status{RVM_E_INVALID, 1}));
    EXPECT_TRUE(s->invariants_hold());
    ASSERT_TRUE(s->dequeue(0, 17, 0));
    EXPECT_TRUE(s->enqueue(0, 1000, TaskParams{}, 0));
    EXPECT_TRUE(s->invariants_hold());
}

TEST(SchedulerRandom, OperationSequencesKeepInvariants) {
    const std::uint64_t seed = seed_from_env(0x5c4ed);
    SCOPED_TRACE(::testing::Message() << "seed " << seed << " (rerun with RVM_SEED=" << seed << ")");
    std::printf("SchedulerRandom seed %llu\n", static_cast<unsigned long long>(seed));
    std::mt19937_64 rng(seed);
    auto s = make(SchedConfig{.cpus = 4, .recovery_max_partitions = 2, .coherence_critical_ppm = 100'000});
    std::map<SchedTaskId, std::uint32_t> where;  // the model: task -> cpu
    std::uint64_t now = 0;
    std::vector<SchedEvent> sink(kSchedMaxEvents);
    for (int step = 0; step < 20'000; ++step) {
        now += rng() % (2 * kMs);
        auto cpu = static_cast<std::uint32_t>(rng() % 5);  // 4 = invalid
        auto id = static_cast<SchedTaskId>(rng() % 300);
        const int op = static_cast<int>(rng() % 100);
        if (op >= 20 && op < 55 && !where.empty() && rng() % 4 != 0) {  // mostly aim at an enqueued task
            auto it = where.lower_bound(id);
            if (it == where.end()) it = where.begin();
            id = it->first;
            cpu = it->second;
        }
        if (op < 20) {
            TaskParams p{.partition = static_cast<std::uint32_t>(rng() % 6)};
            if (rng() % 3 == 0) {
                p.deadline_ns = (1 + rng() % 20) * kMs;
                p.budget_ns = 1 + rng() % p.deadline_ns;
                p.period_ns = rng() % 2 == 0 ? p.deadline_ns + rng() % (10 * kMs) : 0;
                p.critical = rng() % 8 == 0;
            }
            const bool expect = cpu < 4 && !where.contains(id) && s->cpu_stats(cpu).tasks < kSchedMaxTasksPerCpu;
            const bool ok = s->enqueue(cpu, id, p, now).ok();
            ASSERT_EQ(ok, expect);
            if (ok) where[id] = cpu;
        } else if (op < 30) {
            const bool ok = s->dequeue(cpu, id, now).ok();
            ASSERT_EQ(ok, where.contains(id) && where[id] == cpu);
            if (ok) where.erase(id);
        } else if (op < 40) {
            ASSERT_EQ(s->block(cpu, id, now).ok(), where.contains(id) && where[id] == cpu);
        } else if (op < 50) {
            ASSERT_EQ(s->wake(cpu, id, now).ok(), where.contains(id) && where[id] == cpu);
        } else if (op < 55) {
            const FlowSignals sig{.psi_ppm = static_cast<std::uint32_t>(rng() % 1'100'000),
                                  .cut_ppm = static_cast<std::uint32_t>(rng() % 1'000'000),
                                  .psi_boost = static_cast<std::uint8_t>(rng() % 16),
                                  .cpu_permille = static_cast<std::uint16_t>(1 + rng() % 1000)};
            (void)s->set_signals(cpu, id, sig);
        } else if (op < 85) {
            const auto p = s->pick_next(cpu, now);
            ASSERT_EQ(p.ok(), cpu < 4);
            if (p.ok() && !p.value().idle()) {
                const SchedTask* t = s->find(cpu, p.value().task);
                ASSERT_NE(t, nullptr);
                ASSERT_TRUE(t->runnable);
                ASSERT_GT(p.value().quantum_ns, 0u);
                ASSERT_LE(p.value().quantum_ns, std::max(s->config().quantum_ns, t->params.budget_ns));
            }
        } else if (op < 92) {
            (void)s->tick(cpu, now);
        } else if (op < 95) {
            s->end_epoch(now);
        } else if (op < 97) {
            s->report_failure(static_cast<std::uint32_t>(rng() % 6), now);
        } else if (op < 99) {
            s->partition_recovered(static_cast<std::uint32_t>(rng() % 6), now);
        } else {
            s->set_coherence(static_cast<std::uint32_t>(rng() % 1'000'000), now);
        }
        ASSERT_TRUE(s->invariants_hold()) << "step " << step << " op " << op;
        if (rng() % 50 == 0) (void)s->drain_events(sink);
    }
    std::size_t tasks = 0;
    for (std::uint32_t c = 0; c < 4; ++c) tasks += s->cpu_stats(c).tasks;
    EXPECT_EQ(tasks, where.size());
}

}  // namespace
}  // namespace rvm
