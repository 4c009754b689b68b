// The seed-001 Ψ MSRs without KVM: handle_psi_msr() against a PsiMonitor.
// Every MSR read and written with good and hostile values: a refused access
// is #GP and changes nothing the host or another partition can see.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdint>
#include <initializer_list>
#include <mutex>
#include <optional>
#include <vector>

#include "abi/psi.h"
#include "host/psi/psi_monitor.hpp"
#include "host/runtime/agent_calls.hpp"
#include "support/world.hpp"

namespace rvm::host {
namespace {

struct Msrs {
    Msrs() : pid(w.partition(PartitionConfig{31, 4, 8, 0})), other(w.partition(PartitionConfig{32, 4, 8, 0})) {
        psi.attach_partition(pid);
        psi.attach_partition(other);
        ctx.emplace(PartitionCallContext{pid, gate, memory, info, 0, limiter, limiter_mu, &psi});
        ctx->psi_page = &page;
    }
    MsrReply rd(std::uint32_t msr) { return handle_psi_msr(*ctx, TaskId{}, msr, std::nullopt); }
    MsrReply wr(std::uint32_t msr, std::uint64_t v) { return handle_psi_msr(*ctx, TaskId{}, msr, v); }
    [[nodiscard]] PsiPartitionView view() const { return psi.partition_view(pid).value(); }

    test::World w;
    PsiMonitor psi;
    PartitionId pid, other;
    std::vector<std::uint8_t> ram = std::vector<std::uint8_t>(0x1000, 0);
    AgentMemory memory{ram, {}};
    rvm_info info{};
    LogLimiter limiter{5};
    std::mutex limiter_mu;
    NucleusGate gate{w.k()};
    std::atomic<std::uint64_t> page{0};
    std::optional<PartitionCallContext> ctx;
};

bool gp(const MsrReply& r) { return r.gp; }
bool ok(const MsrReply& r, std::uint64_t v) { return !r.gp && r.value == v; }

TEST(PsiMsrs, CtrlRegistersAndUnregisters) {
    Msrs t;
    EXPECT_TRUE(ok(t.rd(RVM_PSI_CTRL_MSR), 0));
    EXPECT_TRUE(ok(t.wr(RVM_PSI_CTRL_MSR, RVM_PSI_CTRL_REGISTER), 0));
    EXPECT_TRUE(t.view().guest_registered);
    EXPECT_TRUE(ok(t.rd(RVM_PSI_CTRL_MSR), 1));
    EXPECT_TRUE(ok(t.wr(RVM_PSI_CTRL_MSR, RVM_PSI_CTRL_REGISTER), 0)) << "idempotent";
    t.page = 0x40;
    EXPECT_TRUE(ok(t.wr(RVM_PSI_CTRL_MSR, RVM_PSI_CTRL_UNREGISTER), 0));
    EXPECT_FALSE(t.view().guest_registered);
    EXPECT_EQ(t.page.load(), 0u) << "unregistering forgets the shared page";
    EXPECT_TRUE(gp(t.wr(RVM_PSI_CTRL_MSR, RVM_PSI_CTRL_UNREGISTER))) << "not registered";
}

TEST(PsiMsrs, CtrlRefusesReservedBitsAndUnknownCommands) {
    Msrs t;
    for (const std::uint64_t bad :
         std::initializer_list<std::uint64_t>{0ull, 3ull, 0xffull, 0x101ull, 0x100ull, 1ull << 32, ~0ull}) {
        EXPECT_TRUE(gp(t.wr(RVM_PSI_CTRL_MSR, bad))) << bad;
        EXPECT_FALSE(t.view().guest_registered) << bad;
    }
}

TEST(PsiMsrs, StateWritesTheGuestRatioAndReadsTheVcpu) {
    Msrs t;
    EXPECT_TRUE(ok(t.rd(RVM_PSI_STATE_MSR), 0)) << "an unobserved vCPU is ZERO with ratio 0";
    EXPECT_TRUE(gp(t.wr(RVM_PSI_STATE_MSR, 250'000))) << "before registration";
    EXPECT_FALSE(t.view().guest_reported);
    ASSERT_TRUE(ok(t.wr(RVM_PSI_CTRL_MSR, RVM_PSI_CTRL_REGISTER), 0));
    EXPECT_TRUE(ok(t.wr(RVM_PSI_STATE_MSR, 250'000), 0));
    EXPECT_EQ(t.view().guest.ratio_ppm, 250'000u);
    EXPECT_EQ(t.psi.host_view().guest_ratio_ppm, 250'000u);
    EXPECT_TRUE(ok(t.wr(RVM_PSI_STATE_MSR, RVM_PSI_RATIO_ONE), 0));
    for (const std::uint64_t bad : std::initializer_list<std::uint64_t>{
             std::uint64_t{RVM_PSI_RATIO_ONE} + 1, 0xffff'ffffull, 1ull << 32, (1ull << 32) | 5u, ~0ull}) {
        EXPECT_TRUE(gp(t.wr(RVM_PSI_STATE_MSR, bad))) << bad;
        EXPECT_EQ(t.view().guest.ratio_ppm, RVM_PSI_RATIO_ONE) << "a refused write changes nothing";
    }
}

TEST(PsiMsrs, ConfIsReadOnlyHostPolicy) {
    Msrs t;
    const PsiThresholds th = t.psi.thresholds();
    const MsrReply r = t.rd(RVM_PSI_CONF_MSR);
    ASSERT_FALSE(r.gp);
    EXPECT_EQ(r.value & 0xffff'ffffu, std::min<std::uint64_t>(th.psi_threshold, 0xffff'ffffu));
    EXPECT_EQ((r.value >> 32) & 0xffffu, th.idle_exits);
    EXPECT_EQ((r.value >> 48) & 0xffu, th.window);
    for (const std::uint64_t v : std::initializer_list<std::uint64_t>{0ull, r.value, ~0ull})
        EXPECT_TRUE(gp(t.wr(RVM_PSI_CONF_MSR, v))) << v;
    EXPECT_EQ(t.psi.thresholds(), th);
}

TEST(PsiMsrs, StatsPackCommittedAndDeferred) {
    Msrs t;
    EXPECT_TRUE(ok(t.rd(RVM_PSI_STATS_MSR), 0));
    EXPECT_TRUE(gp(t.wr(RVM_PSI_STATS_MSR, (7ull << 32) | 3u))) << "before registration";
    ASSERT_TRUE(ok(t.wr(RVM_PSI_CTRL_MSR, RVM_PSI_CTRL_REGISTER), 0));
    ASSERT_TRUE(ok(t.wr(RVM_PSI_STATE_MSR, 400'000), 0));
    EXPECT_TRUE(ok(t.wr(RVM_PSI_STATS_MSR, (7ull << 32) | 3u), 0));
    EXPECT_TRUE(ok(t.rd(RVM_PSI_STATS_MSR), (7ull << 32) | 3u));
    EXPECT_EQ(t.view().guest.ratio_ppm, 400'000u) << "a stats write keeps the ratio";
    EXPECT_EQ(t.view().guest.committed, 7u);
    EXPECT_EQ(t.view().guest.deferred, 3u);
    EXPECT_TRUE(ok(t.wr(RVM_PSI_STATS_MSR, ~0ull), 0)) << "every value of the two 32-bit halves is a count";
    EXPECT_TRUE(ok(t.rd(RVM_PSI_STATS_MSR), ~0ull));
}

TEST(PsiMsrs, UnknownMsrsAndNoMonitorAreGp) {
    Msrs t;
    for (const std::uint32_t msr : {0xC00100FFu, 0xC0010104u, 0u, 0xffff'ffffu}) {
        EXPECT_TRUE(gp(t.rd(msr))) << msr;
        EXPECT_TRUE(gp(t.wr(msr, 0))) << msr;
    }
    t.ctx->psi = nullptr;
    for (std::uint32_t msr = RVM_PSI_STATE_MSR; msr <= RVM_PSI_CTRL_MSR; ++msr) {
        EXPECT_TRUE(gp(t.rd(msr))) << msr;
        EXPECT_TRUE(gp(t.wr(msr, 1))) << msr;
    }
}

TEST(PsiMsrs, OnePartitionCannotTouchAnother) {
    Msrs t;
    ASSERT_TRUE(ok(t.wr(RVM_PSI_CTRL_MSR, RVM_PSI_CTRL_REGISTER), 0));
    ASSERT_TRUE(ok(t.wr(RVM_PSI_STATE_MSR, 900'000), 0));
    const PsiPartitionView o = t.psi.partition_view(t.other).value();
    EXPECT_FALSE(o.guest_registered);
    EXPECT_FALSE(o.guest_reported);
}

}  // namespace
}  // namespace rvm::host
