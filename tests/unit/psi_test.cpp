// Ψ (transition intensity): classification, windows, policy bands, boost,
// aggregates and guest reports, on crafted counter sequences (no KVM).
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <memory>
#include <random>
#include <vector>

#include "abi/hypercall.h"
#include "abi/psi.h"
#include "nucleus/psi.hpp"
#include "nucleus/psi_engine.hpp"
#include "nucleus/psi_policy.hpp"
#include "support/seed.hpp"

namespace rvm {
namespace {

using test::seed_from_env;

constexpr std::uint64_t kEpochNs = 100'000'000;  // 100 ms

PsiSample idle_step() { return PsiSample{}; }
// A vCPU computing through a 100 ms epoch: the host timer preempts it ~25 times.
PsiSample compute_step() { return PsiSample{.exits = 25}; }
// A hypercall storm: every hypercall is a port-I/O exit to user space.
PsiSample storm_step() { return PsiSample{.exits = 5000, .io_exits = 5000, .hypercalls = 5000}; }

PsiSample add(PsiSample a, const PsiSample& b) {
    a.exits += b.exits;
    a.io_exits += b.io_exits;
    a.mmio_exits += b.mmio_exits;
    a.irq_injections += b.irq_injections;
    a.halt_exits += b.halt_exits;
    a.insn_emulation += b.insn_emulation;
    a.hypercalls += b.hypercalls;
    return a;
}

// ---------------------------------------------------------------- ABI

TEST(PsiAbi, ConstantsFollowSeed001) {
    EXPECT_EQ(RVM_PSI_STATE_ZERO, 0);
    EXPECT_EQ(RVM_PSI_STATE_ONE, 1);
    EXPECT_EQ(RVM_PSI_STATE_PSI, 2);
    EXPECT_EQ(RVM_PSI_STATE_MSR, 0xC0010100u);
    EXPECT_EQ(RVM_PSI_CONF_MSR, 0xC0010101u);
    EXPECT_EQ(RVM_PSI_STATS_MSR, 0xC0010102u);
    EXPECT_EQ(RVM_PSI_CTRL_MSR, 0xC0010103u);
    EXPECT_EQ(RVM_HC_PSI_REGISTER, 0x01000001);
    EXPECT_EQ(RVM_HC_PSI_HIBERNATE, 0x01000004);
    EXPECT_EQ(RVM_CPUID_LEAF_BASE, 0x40000000u);

    char sig[13] = {};
    const std::uint32_t regs[3] = {RVM_CPUID_SIGNATURE_EBX, RVM_CPUID_SIGNATURE_ECX, RVM_CPUID_SIGNATURE_EDX};
    std::memcpy(sig, regs, 12);
    EXPECT_STREQ(sig, "RVMRVMRVM");
}

TEST(PsiAbi, SharedPageMagicAndLayout) {
    rvm_psi_page page{};
    page.magic = RVM_PSI_PAGE_MAGIC;
    unsigned char bytes[sizeof page];
    std::memcpy(bytes, &page, sizeof page);
    EXPECT_EQ(std::memcmp(bytes, "ZIMEPSI\0", 8), 0);
    EXPECT_EQ(sizeof page, 64u);
}

TEST(PsiAbi, MsrValues) {
    EXPECT_EQ(psi_state_msr_value(PsiState::Psi, 250'000), (std::uint64_t{2} << 32) | 250'000u);
    EXPECT_EQ(psi_state_msr_value(PsiState::Zero, 2'000'000), kPsiRatioOne);  // saturated
    EXPECT_EQ(psi_stats_msr_value(7, 9), (std::uint64_t{7} << 32) | 9u);
    EXPECT_EQ(psi_stats_msr_value(std::uint64_t{1} << 40, 1), (std::uint64_t{0xffffffff} << 32) | 1u);
    const PsiThresholds t{.psi_threshold = 1000, .idle_exits = 10, .window = 64};
    EXPECT_EQ(psi_conf_msr_value(t), 1000u | (std::uint64_t{10} << 32) | (std::uint64_t{64} << 48));
}

// ---------------------------------------------------------------- classification

TEST(PsiClassify, DeltasTreatBackwardsCountersAsReset) {
    const PsiSample prev{.exits = 100, .io_exits = 50, .hypercalls = ~std::uint64_t{0}};
    const PsiSample cur{.exits = 130, .io_exits = 7, .hypercalls = 5};
    const PsiDeltas d = psi_deltas(prev, cur);
    EXPECT_EQ(d.exits, 30u);
    EXPECT_EQ(d.io_exits, 7u);    // reset: the new value
    EXPECT_EQ(d.hypercalls, 5u);  // wrapped: indistinguishable, same treatment
}

TEST(PsiClassify, IdleComputeAndStorm) {
    const PsiThresholds t;
    EXPECT_EQ(psi_classify(idle_step(), t), PsiState::Zero);
    EXPECT_EQ(psi_classify(compute_step(), t), PsiState::One);
    EXPECT_EQ(psi_classify(storm_step(), t), PsiState::Psi);
}

TEST(PsiClassify, IdleBoundaryIsTenExits) {
    const PsiThresholds t;  // idle_exits = 10 (seed 000)
    EXPECT_EQ(psi_classify(PsiDeltas{.exits = 9}, t), PsiState::Zero);
    EXPECT_EQ(psi_classify(PsiDeltas{.exits = 10}, t), PsiState::One);
}

TEST(PsiClassify, ActivityIsExitsIrqMmioAndIo) {
    const PsiThresholds t{.psi_threshold = 100, .idle_exits = 10, .window = 10};
    EXPECT_EQ(psi_activity(PsiDeltas{.exits = 1, .io_exits = 2, .mmio_exits = 4, .irq_injections = 8}), 15u);
    // halt exits, emulated instructions and hypercalls do not add.
    EXPECT_EQ(psi_activity(PsiDeltas{.halt_exits = 1000, .insn_emulation = 1000, .hypercalls = 1000}), 0u);
    // Exactly at the threshold is not PSI; one above is.
    EXPECT_EQ(psi_classify(PsiDeltas{.exits = 50, .mmio_exits = 50}, t), PsiState::One);
    EXPECT_EQ(psi_classify(PsiDeltas{.exits = 50, .mmio_exits = 51}, t), PsiState::Psi);
    // PSI is tested first: an interrupt storm into a vCPU that barely exits.
    EXPECT_EQ(psi_classify(PsiDeltas{.exits = 2, .irq_injections = 500}, t), PsiState::Psi);
    const std::uint64_t big = ~std::uint64_t{0} - 1;
    EXPECT_EQ(psi_activity(PsiDeltas{.exits = big, .io_exits = big}), ~std::uint64_t{0});
}

TEST(PsiClassify, ThresholdsValidated) {
    EXPECT_TRUE(validate(PsiThresholds{}).ok());
    EXPECT_TRUE(validate(PsiThresholds{.psi_threshold = 10, .idle_exits = 10, .window = 64}).ok());
    EXPECT_TRUE(validate(PsiThresholds{.psi_threshold = 1, .idle_exits = 1, .window = 1}).ok());
    for (const PsiThresholds& bad : {PsiThresholds{.window = 0}, PsiThresholds{.window = 65},
                                     PsiThresholds{.idle_exits = 0}, PsiThresholds{.psi_threshold = 9}}) {
        auto r = validate(bad);
        ASSERT_FALSE(r.ok());
        EXPECT_EQ(r.error().code, RVM_E_INVALID);
    }
}

// ---------------------------------------------------------------- window

TEST(PsiHistory, RatioOverTheLastWindowEpochs) {
    PsiHistory h(4);
    EXPECT_EQ(h.ratio_ppm(), 0u);
    h.push(PsiState::Psi, kEpochNs);
    EXPECT_EQ(h.ratio_ppm(), 1'000'000u);  // 1 of 1
    h.push(PsiState::One, kEpochNs);
    h.push(PsiState::Zero, kEpochNs);
    EXPECT_EQ(h.ratio_ppm(), 333'333u);  // 1 of 3, rounded down
    h.push(PsiState::Psi, kEpochNs);
    EXPECT_EQ(h.ratio_ppm(), 500'000u);  // 2 of 4
    h.push(PsiState::One, kEpochNs);     // the first PSI leaves the window
    EXPECT_EQ(h.epochs(), 4u);
    EXPECT_EQ(h.ratio_ppm(), 250'000u);
    for (int i = 0; i < 4; ++i) h.push(PsiState::One, kEpochNs);
    EXPECT_EQ(h.ratio_ppm(), 0u);
}

TEST(PsiHistory, FullSixtyFourEpochWindow) {
    PsiHistory h(kPsiMaxWindow);
    for (std::uint32_t i = 0; i < 100; ++i) h.push(i % 4 == 0 ? PsiState::Psi : PsiState::One, kEpochNs);
    EXPECT_EQ(h.epochs(), 64u);
    EXPECT_EQ(h.psi_epochs(), 16u);
    EXPECT_EQ(h.ratio_ppm(), 250'000u);
    EXPECT_EQ(h.window_ns(), 64 * kEpochNs);
}

TEST(PsiHistory, TransitionRate) {
    PsiHistory h(4);
    h.push(PsiState::Zero, kEpochNs);  // first epoch: no change
    EXPECT_EQ(h.changes(), 0u);
    h.push(PsiState::One, kEpochNs);
    h.push(PsiState::Zero, kEpochNs);
    h.push(PsiState::One, kEpochNs);
    EXPECT_EQ(h.changes(), 3u);
    EXPECT_EQ(h.transition_rate_mhz(), 7'500u);  // 3 changes in 0.4 s
    // A long epoch without a change pushes out the first, changeless one.
    h.push(PsiState::One, 2 * kEpochNs);
    EXPECT_EQ(h.changes(), 3u);
    EXPECT_EQ(h.window_ns(), 5 * kEpochNs);
    EXPECT_EQ(h.transition_rate_mhz(), 6'000u);  // 3 changes in 0.5 s
    h.push(PsiState::One, kEpochNs);             // the Zero->One change leaves the window
    EXPECT_EQ(h.changes(), 2u);
    EXPECT_EQ(h.window_ns(), 5 * kEpochNs);
    EXPECT_EQ(h.transition_rate_mhz(), 4'000u);
}

// ---------------------------------------------------------------- policy

TEST(PsiPolicy, BandsAtTheExactBoundaries) {
    const PsiPolicyConfig c;
    struct Case {
        std::uint32_t ppm;
        PsiBand band;
        std::uint16_t permille;
    };
    for (const Case& k : {Case{0, PsiBand::Full, 1000}, Case{99'900, PsiBand::Full, 1000},
                          Case{99'999, PsiBand::Full, 1000}, Case{100'000, PsiBand::Reduced, 800},
                          Case{300'000, PsiBand::Reduced, 800}, Case{300'001, PsiBand::Throttled, 500},
                          Case{300'100, PsiBand::Throttled, 500}, Case{1'000'000, PsiBand::Throttled, 500}}) {
        const PsiDecision d = psi_decide(k.ppm, 0, c);
        EXPECT_EQ(d.band, k.band) << k.ppm;
        EXPECT_EQ(d.cpu_permille, k.permille) << k.ppm;
        EXPECT_EQ(d.mem_permille, k.permille) << k.ppm;
        EXPECT_EQ(d.boost, 0u);
    }
}

TEST(PsiPolicy, SwitchedOff) {
    PsiPolicyConfig c;
    c.throttle = false;
    c.boost = false;
    const PsiDecision d = psi_decide(900'000, 5, c);
    EXPECT_EQ(d.band, PsiBand::Full);
    EXPECT_EQ(d.cpu_permille, 1000u);
    EXPECT_EQ(d.mem_permille, 1000u);
    EXPECT_EQ(d.boost, 0u);
    EXPECT_EQ(d.boost_epochs_left, 0u);
    c.boost = true;
    c.boost_level = 4;
    EXPECT_EQ(psi_decide(900'000, 5, c).boost, 4u);
}

TEST(PsiPolicy, ConfigValidated) {
    EXPECT_TRUE(validate(PsiPolicyConfig{}).ok());
    auto refused = [](auto mutate) {
        PsiPolicyConfig c;
        mutate(c);
        auto r = validate(c);
        return !r.ok() && r.error().code == RVM_E_INVALID;
    };
    EXPECT_TRUE(refused([](PsiPolicyConfig& c) { c.reduced_from_ppm = 0; }));
    EXPECT_TRUE(refused([](PsiPolicyConfig& c) { c.reduced_from_ppm = 400'000; }));  // above throttled_above
    EXPECT_TRUE(refused([](PsiPolicyConfig& c) { c.throttled_above_ppm = 1'000'001; }));
    EXPECT_TRUE(refused([](PsiPolicyConfig& c) { c.full.cpu_permille = 1001; }));
    EXPECT_TRUE(refused([](PsiPolicyConfig& c) { c.throttled.mem_permille = 0; }));
    EXPECT_TRUE(refused([](PsiPolicyConfig& c) {
        c.reduced.cpu_permille = 1000;
        c.full.cpu_permille = 900;
    }));
    EXPECT_TRUE(refused([](PsiPolicyConfig& c) { c.throttled.mem_permille = 900; }));  // above reduced
    EXPECT_TRUE(refused([](PsiPolicyConfig& c) { c.boost_level = 0; }));
    EXPECT_TRUE(refused([](PsiPolicyConfig& c) { c.boost_level = kPsiMaxBoostLevel + 1; }));
    EXPECT_TRUE(refused([](PsiPolicyConfig& c) { c.boost_epochs = 0; }));
    EXPECT_TRUE(refused([](PsiPolicyConfig& c) { c.boost_epochs = kPsiMaxBoostEpochs + 1; }));
    EXPECT_TRUE(refused([](PsiPolicyConfig& c) {
        c.boost = false;
        c.boost_epochs = 0;
    }));  // checked when off
    // Equal thresholds leave a one-point Reduced band: legal.
    PsiPolicyConfig c;
    c.reduced_from_ppm = c.throttled_above_ppm = 200'000;
    EXPECT_TRUE(validate(c).ok());
}

// ---------------------------------------------------------------- engine

class PsiEngineTest : public ::testing::Test {
protected:
    static constexpr PartitionId kP1{1, 1};
    static constexpr PartitionId kP2{2, 7};
    static constexpr TaskId kV0{0, 1};
    static constexpr TaskId kV1{1, 3};
    static constexpr TaskId kV2{2, 1};

    void SetUp() override {
        ASSERT_TRUE(e->attach_partition(kP1).ok());
        ASSERT_TRUE(e->attach_partition(kP2).ok());
        ASSERT_TRUE(e->attach_vcpu(kV0, kP1).ok());
    }

    // Feeds one epoch of `step` to `v` and returns the state.
    PsiState step(TaskId v, const PsiSample& s, std::uint64_t epoch) {
        PsiSample& c = counters[v.index];
        c = add(c, s);
        auto r = e->observe(v, c, PsiEpoch{epoch, kEpochNs});
        EXPECT_TRUE(r.ok()) << "observe failed at epoch " << epoch;
        return r.ok() ? r.value() : PsiState::Zero;
    }
    PsiPartitionView view(PartitionId p) {
        auto r = e->partition_view(p);
        EXPECT_TRUE(r.ok());
        return r.ok() ? r.value() : PsiPartitionView{};
    }
    PsiDecision decide(PartitionId p) {
        auto r = e->policy(p);
        EXPECT_TRUE(r.ok());
        return r.ok() ? r.value() : PsiDecision{};
    }

    std::unique_ptr<PsiEngine> e = std::make_unique<PsiEngine>();
    PsiSample counters[kPsiMaxVcpus] = {};
};

TEST_F(PsiEngineTest, IdleComputeStormSequence) {
    EXPECT_EQ(step(kV0, idle_step(), 1), PsiState::Zero);
    EXPECT_EQ(step(kV0, compute_step(), 2), PsiState::One);
    EXPECT_EQ(step(kV0, storm_step(), 3), PsiState::Psi);
    EXPECT_EQ(step(kV0, compute_step(), 4), PsiState::One);
    auto v = e->vcpu_view(kV0);
    ASSERT_TRUE(v.ok());
    EXPECT_EQ(v.value().partition, kP1);
    EXPECT_EQ(v.value().state, PsiState::One);
    EXPECT_EQ(v.value().epochs, 4u);
    EXPECT_EQ(v.value().ratio_ppm, 250'000u);
    EXPECT_EQ(v.value().last_deltas.exits, 25u);
    EXPECT_EQ(v.value().transition_rate_mhz, 7'500u);  // 3 changes in 0.4 s
}

TEST_F(PsiEngineTest, CounterResetMidRun) {
    step(kV0, storm_step(), 1);
    // The vCPU was recreated: its counters restart from a small value.
    auto r = e->observe(kV0, PsiSample{.exits = 30}, PsiEpoch{2, kEpochNs});
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r.value(), PsiState::One);  // delta = 30, not a huge wrap-around
    EXPECT_EQ(e->vcpu_view(kV0).value().last_deltas.exits, 30u);
}

TEST_F(PsiEngineTest, BaselineAndReset) {
    const PsiSample now{.exits = 1'000'000, .io_exits = 500'000};
    ASSERT_TRUE(e->attach_vcpu(kV1, kP1, now).ok());
    // Deltas are taken from the baseline, so a long-lived vCPU is not PSI at once.
    EXPECT_EQ(e->observe(kV1, add(now, compute_step()), PsiEpoch{1, kEpochNs}).value(), PsiState::One);
    counters[kV0.index] = {};
    step(kV0, storm_step(), 1);
    step(kV0, storm_step(), 2);
    EXPECT_EQ(view(kP1).psi_epochs, 2u);
    ASSERT_TRUE(e->reset(kV0, counters[kV0.index]).ok());
    auto v = e->vcpu_view(kV0).value();
    EXPECT_EQ(v.epochs, 0u);
    EXPECT_EQ(v.state, PsiState::Zero);
    EXPECT_EQ(view(kP1).psi_epochs, 0u);
    EXPECT_EQ(view(kP1).epochs, 1u);  // kV1's epoch
    // After a reset any epoch index is accepted again.
    EXPECT_EQ(step(kV0, idle_step(), 1), PsiState::Zero);
}

TEST_F(PsiEngineTest, StaleAndForeignHandlesRefused) {
    auto code = [](const auto& r) { return r.ok() ? RVM_OK : r.error().code; };
    const PsiEpoch ep{1, kEpochNs};
    EXPECT_EQ(code(e->observe(TaskId{}, {}, ep)), RVM_E_BAD_HANDLE);                    // null
    EXPECT_EQ(code(e->observe(TaskId{kPsiMaxVcpus, 1}, {}, ep)), RVM_E_BAD_HANDLE);     // out of range
    EXPECT_EQ(code(e->observe(TaskId{kV0.index, 2}, {}, ep)), RVM_E_BAD_HANDLE);        // wrong generation
    EXPECT_EQ(code(e->observe(kV1, {}, ep)), RVM_E_BAD_HANDLE);                         // never attached
    EXPECT_EQ(code(e->attach_vcpu(TaskId{kV0.index, 5}, kP1)), RVM_E_BUSY);             // slot taken
    EXPECT_EQ(code(e->attach_vcpu(kV1, PartitionId{kP1.index, 2})), RVM_E_BAD_HANDLE);  // stale partition
    EXPECT_EQ(code(e->attach_partition(PartitionId{kP1.index, 9})), RVM_E_BUSY);
    EXPECT_EQ(code(e->attach_partition(PartitionId{kPsiMaxPartitions, 1})), RVM_E_BAD_HANDLE);
    EXPECT_EQ(code(e->detach_partition(kP1)), RVM_E_BUSY);  // still has kV0

    ASSERT_TRUE(e->detach_vcpu(kV0).ok());
    EXPECT_EQ(code(e->observe(kV0, {}, ep)), RVM_E_BAD_HANDLE);  // detached: stale
    EXPECT_EQ(code(e->reset(kV0)), RVM_E_BAD_HANDLE);
    EXPECT_EQ(code(e->vcpu_view(kV0)), RVM_E_BAD_HANDLE);
    EXPECT_EQ(code(e->detach_vcpu(kV0)), RVM_E_BAD_HANDLE);
    const TaskId reused{kV0.index, kV0.generation + 1};
    ASSERT_TRUE(e->attach_vcpu(reused, kP1).ok());
    EXPECT_EQ(code(e->observe(kV0, {}, ep)), RVM_E_BAD_HANDLE);  // old generation of a reused slot
    EXPECT_TRUE(e->observe(reused, {}, ep).ok());

    ASSERT_TRUE(e->detach_vcpu(reused).ok());
    ASSERT_TRUE(e->detach_partition(kP1).ok());
    EXPECT_EQ(code(e->policy(kP1)), RVM_E_BAD_HANDLE);
    EXPECT_EQ(code(e->partition_view(kP1)), RVM_E_BAD_HANDLE);
    EXPECT_EQ(code(e->guest_register(kP1)), RVM_E_BAD_HANDLE);
    EXPECT_EQ(e->host_view().partitions, 1u);
    EXPECT_EQ(e->host_view().vcpus, 0u);
}

TEST_F(PsiEngineTest, EpochsValidated) {
    auto code = [](const auto& r) { return r.ok() ? RVM_OK : r.error().code; };
    EXPECT_EQ(code(e->observe(kV0, {}, PsiEpoch{1, 0})), RVM_E_INVALID);
    EXPECT_EQ(code(e->observe(kV0, {}, PsiEpoch{1, kPsiMaxEpochNs + 1})), RVM_E_INVALID);
    EXPECT_TRUE(e->observe(kV0, {}, PsiEpoch{5, kPsiMaxEpochNs}).ok());
    EXPECT_EQ(code(e->observe(kV0, {}, PsiEpoch{5, kEpochNs})), RVM_E_INVALID);  // twice in one epoch
    EXPECT_EQ(code(e->observe(kV0, {}, PsiEpoch{4, kEpochNs})), RVM_E_INVALID);  // backwards
    EXPECT_TRUE(e->observe(kV0, {}, PsiEpoch{7, kEpochNs}).ok());                // gaps are fine
    EXPECT_EQ(e->vcpu_view(kV0).value().epochs, 2u);
}

TEST_F(PsiEngineTest, AggregatesMatchHandComputedValues) {
    ASSERT_TRUE(e->attach_vcpu(kV1, kP1).ok());
    ASSERT_TRUE(e->attach_vcpu(kV2, kP2).ok());
    // kV0: 10 epochs, 5 PSI. kV1: 2 epochs, both PSI. kV2: 4 epochs, 1 PSI.
    for (std::uint64_t ep = 1; ep <= 10; ++ep) step(kV0, ep % 2 == 0 ? storm_step() : compute_step(), ep);
    for (std::uint64_t ep = 9; ep <= 10; ++ep) step(kV1, storm_step(), ep);
    for (std::uint64_t ep = 7; ep <= 10; ++ep) step(kV2, ep == 7 ? storm_step() : idle_step(), ep);

    const PsiPartitionView p1 = view(kP1);
    EXPECT_EQ(p1.vcpus, 2u);
    EXPECT_EQ(p1.epochs, 12u);
    EXPECT_EQ(p1.psi_epochs, 7u);
    EXPECT_EQ(p1.ratio_ppm, 583'333u);   // 7 / 12, not the plain mean (50 % + 100 %) / 2
    EXPECT_EQ(p1.state, PsiState::Psi);  // kV0 and kV1 both ended in PSI
    EXPECT_EQ(p1.in_state[2], 2u);
    // kV0 changed state every epoch after the first: 9 changes in 1 s = 9 Hz; kV1 none.
    EXPECT_EQ(p1.transition_rate_mhz, 9'000u);

    const PsiPartitionView p2 = view(kP2);
    EXPECT_EQ(p2.ratio_ppm, 250'000u);
    EXPECT_EQ(p2.state, PsiState::Zero);
    EXPECT_EQ(p2.transition_rate_mhz, 2'500u);  // one change in 0.4 s

    const PsiHostView h = e->host_view();
    EXPECT_EQ(h.partitions, 2u);
    EXPECT_EQ(h.vcpus, 3u);
    EXPECT_EQ(h.epochs, 16u);
    EXPECT_EQ(h.psi_epochs, 8u);
    EXPECT_EQ(h.ratio_ppm, 500'000u);
    EXPECT_EQ(h.in_state[0], 1u);
    EXPECT_EQ(h.in_state[2], 2u);
    EXPECT_EQ(h.transition_rate_mhz, 11'500u);
}

TEST_F(PsiEngineTest, PolicyFollowsTheWindowRatio) {
    // Window 10: k PSI epochs -> k * 10 %.
    for (std::uint64_t ep = 1; ep <= 10; ++ep) step(kV0, compute_step(), ep);
    EXPECT_EQ(decide(kP1).band, PsiBand::Full);
    step(kV0, storm_step(), 11);  // 1 of 10 = exactly 10 %
    EXPECT_EQ(decide(kP1).ratio_ppm, 100'000u);
    EXPECT_EQ(decide(kP1).cpu_permille, 800u);
    step(kV0, storm_step(), 12);
    step(kV0, storm_step(), 13);  // exactly 30 %
    EXPECT_EQ(decide(kP1).band, PsiBand::Reduced);
    step(kV0, storm_step(), 14);  // 40 %
    EXPECT_EQ(decide(kP1).band, PsiBand::Throttled);
    EXPECT_EQ(decide(kP1).mem_permille, 500u);
    for (std::uint64_t ep = 15; ep <= 24; ++ep) step(kV0, compute_step(), ep);
    EXPECT_EQ(decide(kP1).band, PsiBand::Full);  // recovered once the storm left the window
}

TEST_F(PsiEngineTest, BoostArmsOnEntryAndExpires) {
    PsiConfig c;
    c.policy.boost_epochs = 3;
    c.policy.boost_level = 2;
    ASSERT_TRUE(e->configure(c).ok());
    step(kV0, compute_step(), 1);
    EXPECT_EQ(decide(kP1).boost, 0u);
    step(kV0, storm_step(), 2);  // enters PSI: armed for epochs 2, 3, 4
    EXPECT_EQ(decide(kP1).boost, 2u);
    EXPECT_EQ(decide(kP1).boost_epochs_left, 3u);
    step(kV0, storm_step(), 3);  // staying in PSI does not extend it
    EXPECT_EQ(decide(kP1).boost_epochs_left, 2u);
    step(kV0, storm_step(), 4);
    EXPECT_EQ(decide(kP1).boost_epochs_left, 1u);
    step(kV0, storm_step(), 5);
    EXPECT_EQ(decide(kP1).boost, 0u);  // expired although still transitioning
    step(kV0, compute_step(), 6);
    step(kV0, storm_step(), 7);  // a new transition re-arms it
    EXPECT_EQ(decide(kP1).boost_epochs_left, 3u);
    EXPECT_EQ(decide(kP2).boost, 0u);  // other partitions are unaffected
}

TEST_F(PsiEngineTest, BoostCountsPartitionEpochsNotVcpus) {
    PsiConfig c;
    c.policy.boost_epochs = 2;
    ASSERT_TRUE(e->configure(c).ok());
    ASSERT_TRUE(e->attach_vcpu(kV1, kP1).ok());
    // The two vCPUs take turns in PSI: the partition transitions in every
    // epoch, whichever vCPU is observed first, so the boost is armed once.
    step(kV0, storm_step(), 1);
    step(kV1, compute_step(), 1);
    EXPECT_EQ(decide(kP1).boost_epochs_left, 2u);
    step(kV0, compute_step(), 2);
    step(kV1, storm_step(), 2);
    EXPECT_EQ(decide(kP1).boost_epochs_left, 1u);
    step(kV0, storm_step(), 3);
    step(kV1, compute_step(), 3);
    EXPECT_EQ(decide(kP1).boost, 0u);
}

TEST_F(PsiEngineTest, PolicySwitchedOff) {
    PsiConfig c;
    c.policy.throttle = false;
    c.policy.boost = false;
    ASSERT_TRUE(e->configure(c).ok());
    for (std::uint64_t ep = 1; ep <= 10; ++ep) step(kV0, storm_step(), ep);
    const PsiDecision d = decide(kP1);
    EXPECT_EQ(d.ratio_ppm, 1'000'000u);
    EXPECT_EQ(d.cpu_permille, 1000u);
    EXPECT_EQ(d.mem_permille, 1000u);
    EXPECT_EQ(d.boost, 0u);
}

TEST_F(PsiEngineTest, ConfigureIsAllOrNothing) {
    for (std::uint64_t ep = 1; ep <= 4; ++ep) step(kV0, storm_step(), ep);
    PsiConfig bad;
    bad.thresholds.window = 5;
    bad.policy.boost_level = 0;
    EXPECT_FALSE(e->configure(bad).ok());
    EXPECT_EQ(e->config(), PsiConfig{});
    EXPECT_EQ(view(kP1).epochs, 4u);
    // A new window restarts the windows; the state and baseline stay.
    PsiConfig good;
    good.thresholds.window = 2;
    ASSERT_TRUE(e->configure(good).ok());
    EXPECT_EQ(view(kP1).epochs, 0u);
    EXPECT_EQ(e->host_view().epochs, 0u);
    EXPECT_EQ(view(kP1).state, PsiState::Psi);
    EXPECT_EQ(step(kV0, compute_step(), 5), PsiState::One);
    step(kV0, storm_step(), 6);
    step(kV0, storm_step(), 7);
    EXPECT_EQ(e->vcpu_view(kV0).value().ratio_ppm, 1'000'000u);  // 2 of 2
}

TEST_F(PsiEngineTest, GuestReportsAndTheWeightedAggregate) {
    auto code = [](const auto& r) { return r.ok() ? RVM_OK : r.error().code; };
    EXPECT_EQ(code(e->guest_update(kP1, PsiGuestReport{})), RVM_E_STATE);  // not registered
    EXPECT_EQ(code(e->guest_unregister(kP1)), RVM_E_STATE);
    ASSERT_TRUE(e->guest_register(kP1).ok());
    ASSERT_TRUE(e->guest_register(kP1).ok());  // idempotent
    ASSERT_TRUE(e->guest_register(kP2).ok());
    EXPECT_EQ(code(e->guest_update(kP1, PsiGuestReport{.ratio_ppm = 1'000'001})), RVM_E_INVALID);
    EXPECT_EQ(e->host_view().guests_registered, 2u);
    EXPECT_EQ(e->host_view().guests_reporting, 0u);
    EXPECT_EQ(e->host_view().guest_ratio_ppm, 0u);

    // (10 % * 100 + 50 % * 300) / 400 = 40 %.
    ASSERT_TRUE(e->guest_update(kP1, PsiGuestReport{.ratio_ppm = 100'000, .committed = 90, .deferred = 10}).ok());
    ASSERT_TRUE(e->guest_update(kP2, PsiGuestReport{.ratio_ppm = 500'000, .committed = 150, .deferred = 150}).ok());
    EXPECT_EQ(e->host_view().guest_ratio_ppm, 400'000u);
    EXPECT_TRUE(view(kP1).guest_reported);
    EXPECT_EQ(view(kP2).guest.deferred, 150u);

    // No events behind any report: the plain mean.
    ASSERT_TRUE(e->guest_update(kP1, PsiGuestReport{.ratio_ppm = 100'000}).ok());
    ASSERT_TRUE(e->guest_update(kP2, PsiGuestReport{.ratio_ppm = 400'000}).ok());
    EXPECT_EQ(e->host_view().guest_ratio_ppm, 250'000u);
    // Huge counts saturate the weight instead of overflowing.
    ASSERT_TRUE(e->guest_update(kP1, PsiGuestReport{.ratio_ppm = 0, .committed = ~0ull, .deferred = ~0ull}).ok());
    ASSERT_TRUE(e->guest_update(kP2, PsiGuestReport{.ratio_ppm = 1'000'000, .committed = ~0ull}).ok());
    EXPECT_EQ(e->host_view().guest_ratio_ppm, 500'000u);

    ASSERT_TRUE(e->guest_unregister(kP2).ok());
    EXPECT_EQ(e->host_view().guests_registered, 1u);
    EXPECT_EQ(e->host_view().guest_ratio_ppm, 0u);
    EXPECT_FALSE(view(kP2).guest_reported);
}

TEST_F(PsiEngineTest, GuestReportCanOnlyLowerItsOwnAllowance) {
    ASSERT_TRUE(e->guest_register(kP1).ok());
    for (std::uint64_t ep = 1; ep <= 10; ++ep) step(kV0, ep <= 4 ? storm_step() : compute_step(), ep);  // 40 %
    ASSERT_TRUE(e->guest_update(kP1, PsiGuestReport{.ratio_ppm = 0}).ok());
    EXPECT_EQ(decide(kP1).band, PsiBand::Throttled);                            // observed 40 % wins
    for (std::uint64_t ep = 11; ep <= 20; ++ep) step(kV0, compute_step(), ep);  // observed 0 %
    // The seed's boundaries, reached through the guest's own ratio.
    ASSERT_TRUE(e->guest_update(kP1, PsiGuestReport{.ratio_ppm = 99'900}).ok());  // 9.99 %
    EXPECT_EQ(decide(kP1).cpu_permille, 1000u);
    ASSERT_TRUE(e->guest_update(kP1, PsiGuestReport{.ratio_ppm = 100'000}).ok());  // 10 %
    EXPECT_EQ(decide(kP1).cpu_permille, 800u);
    ASSERT_TRUE(e->guest_update(kP1, PsiGuestReport{.ratio_ppm = 300'000}).ok());  // 30 %
    EXPECT_EQ(decide(kP1).cpu_permille, 800u);
    ASSERT_TRUE(e->guest_update(kP1, PsiGuestReport{.ratio_ppm = 300'100}).ok());  // 30.01 %
    EXPECT_EQ(decide(kP1).cpu_permille, 500u);
    EXPECT_EQ(decide(kP1).ratio_ppm, 300'100u);
}

TEST_F(PsiEngineTest, FullTables) {
    for (std::uint32_t i = 1; i < kPsiMaxVcpus; ++i) ASSERT_TRUE(e->attach_vcpu(TaskId{i, 1}, kP2).ok());
    EXPECT_EQ(e->host_view().vcpus, kPsiMaxVcpus);
    for (std::uint32_t i = 0; i < kPsiMaxVcpus; ++i) {
        const TaskId v{i, i == 0 ? kV0.generation : 1};
        ASSERT_TRUE(e->observe(v, storm_step(), PsiEpoch{1, kEpochNs}).ok());
    }
    EXPECT_EQ(e->host_view().ratio_ppm, 1'000'000u);
    EXPECT_EQ(view(kP2).vcpus, kPsiMaxVcpus - 1);
}

// ---------------------------------------------------------------- randomized

__extension__ typedef unsigned __int128 u128;

// An independent model: every vCPU keeps its full list of (state, length).
struct ModelVcpu {
    bool live = false;
    std::uint32_t generation = 0;
    std::uint32_t partition = 0;
    PsiSample prev;
    std::uint64_t epoch = 0;
    std::vector<PsiState> states;
    std::vector<std::uint64_t> lengths;
};

struct ModelWindow {
    std::uint64_t epochs = 0, psi = 0, changes = 0, ns = 0;
};

ModelWindow model_window(const ModelVcpu& v, std::uint32_t window) {
    ModelWindow w;
    const std::size_t n = v.states.size();
    const std::size_t first = n > window ? n - window : 0;
    for (std::size_t i = first; i < n; ++i) {
        ++w.epochs;
        w.psi += v.states[i] == PsiState::Psi ? 1u : 0u;
        w.changes += i > 0 && v.states[i] != v.states[i - 1] ? 1u : 0u;
        w.ns += v.lengths[i];
    }
    return w;
}

PsiState model_classify(const PsiSample& prev, const PsiSample& cur, const PsiThresholds& t) {
    auto d = [](std::uint64_t a, std::uint64_t b) { return b >= a ? b - a : b; };
    const std::uint64_t exits = d(prev.exits, cur.exits);
    const u128 activity = static_cast<u128>(exits) + d(prev.irq_injections, cur.irq_injections) +
                          d(prev.mmio_exits, cur.mmio_exits) + d(prev.io_exits, cur.io_exits);
    if (activity > t.psi_threshold) return PsiState::Psi;
    return exits < t.idle_exits ? PsiState::Zero : PsiState::One;
}

void check_against_model(const PsiEngine& e, const std::vector<ModelVcpu>& vs, std::uint32_t window,
                         const std::vector<PsiGuestReport*>& reports) {
    std::uint64_t host_epochs = 0, host_psi = 0, host_rate = 0;
    std::vector<std::uint64_t> p_epochs(kPsiMaxPartitions), p_psi(kPsiMaxPartitions), p_rate(kPsiMaxPartitions);
    for (std::uint32_t i = 0; i < vs.size(); ++i) {
        const ModelVcpu& m = vs[i];
        if (!m.live) continue;
        const ModelWindow w = model_window(m, window);
        auto view = e.vcpu_view(TaskId{i, m.generation});
        ASSERT_TRUE(view.ok());
        const std::uint64_t ratio = w.epochs == 0 ? 0 : w.psi * 1'000'000 / w.epochs;
        const std::uint64_t rate = w.ns == 0 ? 0 : w.changes * 1'000'000'000'000ull / w.ns;
        ASSERT_LE(view.value().ratio_ppm, 1'000'000u);
        ASSERT_EQ(view.value().ratio_ppm, ratio) << "vcpu " << i;
        ASSERT_EQ(view.value().transition_rate_mhz, rate) << "vcpu " << i;
        p_epochs[m.partition] += w.epochs;
        p_psi[m.partition] += w.psi;
        p_rate[m.partition] += rate;
        host_epochs += w.epochs;
        host_psi += w.psi;
        host_rate += rate;
    }
    for (std::uint32_t p = 0; p < 4; ++p) {
        auto view = e.partition_view(PartitionId{p, 1});
        ASSERT_TRUE(view.ok());
        const std::uint64_t ratio = p_epochs[p] == 0 ? 0 : p_psi[p] * 1'000'000 / p_epochs[p];
        ASSERT_LE(view.value().ratio_ppm, 1'000'000u);
        ASSERT_EQ(view.value().ratio_ppm, ratio) << "partition " << p;
        ASSERT_EQ(view.value().transition_rate_mhz, p_rate[p]);
        std::uint64_t effective = ratio;
        if (reports[p] != nullptr) effective = std::max<std::uint64_t>(effective, reports[p]->ratio_ppm);
        const PsiDecision d = e.policy(PartitionId{p, 1}).value();
        ASSERT_EQ(d.ratio_ppm, effective);
        ASSERT_EQ(d.band, effective < 100'000    ? PsiBand::Full
                          : effective <= 300'000 ? PsiBand::Reduced
                                                 : PsiBand::Throttled);
    }
    const PsiHostView h = e.host_view();
    ASSERT_EQ(h.epochs, host_epochs);
    ASSERT_EQ(h.ratio_ppm, host_epochs == 0 ? 0 : host_psi * 1'000'000 / host_epochs);
    ASSERT_LE(h.ratio_ppm, 1'000'000u);
    ASSERT_EQ(h.transition_rate_mhz, host_rate);
    // The seed-001 aggregate with wide arithmetic.
    u128 num = 0, den = 0, plain = 0;
    std::uint32_t n = 0;
    for (PsiGuestReport* r : reports) {
        if (r == nullptr) continue;
        const u128 w = std::min<u128>(
            std::min<std::uint64_t>(r->committed, 0xffffffffu) + std::min<std::uint64_t>(r->deferred, 0xffffffffu),
            0xffffffffu);
        num += w * r->ratio_ppm;
        den += w;
        plain += r->ratio_ppm;
        ++n;
    }
    const std::uint64_t agg =
        den > 0 ? static_cast<std::uint64_t>(num / den) : (n > 0 ? static_cast<std::uint64_t>(plain / n) : 0);
    ASSERT_EQ(h.guest_ratio_ppm, agg);
    ASSERT_LE(h.guest_ratio_ppm, 1'000'000u);
}

void run_random(std::uint64_t seed, int steps) {
    SCOPED_TRACE(::testing::Message() << "seed " << seed << " (rerun with RVM_SEED=" << seed << ")");
    std::mt19937_64 rng(seed);
    auto pick = [&](std::uint64_t n) { return std::uniform_int_distribution<std::uint64_t>(0, n - 1)(rng); };
    auto engine = std::make_unique<PsiEngine>();
    PsiConfig config;
    config.thresholds = PsiThresholds{.psi_threshold = 200, .idle_exits = 10, .window = 8};
    ASSERT_TRUE(engine->configure(config).ok());
    constexpr std::uint32_t kParts = 4, kVcpus = 24;
    for (std::uint32_t p = 0; p < kParts; ++p) ASSERT_TRUE(engine->attach_partition(PartitionId{p, 1}).ok());
    std::vector<ModelVcpu> vs(kVcpus);
    std::vector<PsiGuestReport> report_store(kParts);
    std::vector<PsiGuestReport*> reports(kParts, nullptr);
    std::uint64_t epoch = 1;

    for (int s = 0; s < steps; ++s) {
        const std::uint64_t op = pick(100);
        const auto i = static_cast<std::uint32_t>(pick(kVcpus));
        ModelVcpu& m = vs[i];
        if (op < 8) {  // attach or detach
            if (!m.live) {
                const std::uint32_t generation = m.generation + 1;
                m = ModelVcpu{};
                m.live = true;
                m.generation = generation;
                m.partition = static_cast<std::uint32_t>(pick(kParts));
                ASSERT_TRUE(engine->attach_vcpu(TaskId{i, m.generation}, PartitionId{m.partition, 1}).ok());
            } else {
                ASSERT_TRUE(engine->detach_vcpu(TaskId{i, m.generation}).ok());
                m.live = false;
                EXPECT_FALSE(engine->observe(TaskId{i, m.generation}, {}, PsiEpoch{epoch, 1}).ok());
            }
        } else if (op < 10 && m.live) {  // reset with the current counters
            ASSERT_TRUE(engine->reset(TaskId{i, m.generation}, m.prev).ok());
            m.states.clear();
            m.lengths.clear();
            m.epoch = 0;
        } else if (op < 13) {  // a guest report, sometimes invalid
            const auto p = static_cast<std::uint32_t>(pick(kParts));
            const PsiGuestReport r{.ratio_ppm = static_cast<std::uint32_t>(pick(1'100'000)),
                                   .committed = pick(4) == 0 ? ~0ull - pick(10) : pick(1000),
                                   .deferred = pick(1000)};
            ASSERT_TRUE(engine->guest_register(PartitionId{p, 1}).ok());
            const bool ok = engine->guest_update(PartitionId{p, 1}, r).ok();
            ASSERT_EQ(ok, r.ratio_ppm <= 1'000'000u);
            if (ok) {
                report_store[p] = r;
                reports[p] = &report_store[p];
            }
        } else if (op < 14) {  // a new window restarts every window; the same one nothing
            const auto window = static_cast<std::uint32_t>(1 + pick(kPsiMaxWindow));
            const bool changed = window != config.thresholds.window;
            config.thresholds.window = window;
            ASSERT_TRUE(engine->configure(config).ok());
            for (ModelVcpu& v : vs) {
                if (!changed) break;
                v.states.clear();
                v.lengths.clear();
            }
        } else if (m.live) {  // observe one epoch with random increments, sometimes a reset counter
            PsiSample c = m.prev;
            const std::uint64_t scale = pick(3) == 0 ? 1000 : 30;
            c.exits += pick(scale);
            c.io_exits += pick(scale);
            c.mmio_exits += pick(scale / 3 + 1);
            c.irq_injections += pick(scale / 3 + 1);
            if (pick(40) == 0) c.exits = pick(50);  // counter reset
            const std::uint64_t len = 1 + pick(200'000'000);
            m.epoch = std::max(m.epoch, epoch) + pick(2);
            auto r = engine->observe(TaskId{i, m.generation}, c, PsiEpoch{m.epoch + 1, len});
            ASSERT_TRUE(r.ok());
            ASSERT_EQ(r.value(), model_classify(m.prev, c, config.thresholds));
            ++m.epoch;
            m.prev = c;
            m.states.push_back(r.value());
            m.lengths.push_back(len);
        }
        if (pick(10) == 0) ++epoch;
        ASSERT_NO_FATAL_FAILURE(check_against_model(*engine, vs, config.thresholds.window, reports));
    }
}

TEST(PsiRandomized, AggregatesMatchAReferenceModel) {
    const std::uint64_t seed = seed_from_env(0x5eed'0051);
    std::printf("PsiRandomized seed: %llu\n", static_cast<unsigned long long>(seed));
    run_random(seed, 4000);
}

TEST(PsiRandomized, SecondSeed) { run_random(seed_from_env(0x5eed'0052) + 1, 4000); }

}  // namespace
}  // namespace rvm
