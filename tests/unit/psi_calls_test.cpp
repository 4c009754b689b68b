// The seed-001 Ψ hypercalls without KVM: handle_hypercall() with synthetic
// registers against a small Kernel and a PsiMonitor (RVM_HC_PSI_REGISTER /
// UPDATE / QUERY / HIBERNATE; abi/psi.h). Exact statuses and argument
// positions, the weighted guest aggregate over two partitions, the policy
// allowance, and a context without a monitor.
#include <gtest/gtest.h>

#include <array>
#include <atomic>
#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <mutex>
#include <optional>
#include <vector>

#include "abi/hypercall.h"
#include "abi/psi.h"
#include "host/psi/psi_monitor.hpp"
#include "host/runtime/agent_calls.hpp"
#include "support/world.hpp"

namespace rvm::host {
namespace {

using test::arg_of;
using test::status_of;

constexpr std::uint64_t kStart = 5'000'000;

struct Caller {
    Caller(test::World& w, PsiMonitor* psi, std::uint8_t id) : pid(w.partition(PartitionConfig{id, 4, 8, 0})) {
        if (psi != nullptr) psi->attach_partition(pid);
        gate.emplace(w.k());
        ctx.emplace(PartitionCallContext{pid, *gate, memory, info, kStart, limiter, limiter_mu, psi});
    }
    CallResult call(std::uint64_t nr, std::uint64_t a1 = 0, std::uint64_t a2 = 0, std::uint64_t a3 = 0) {
        backend::Regs r;
        r.rax = nr;
        r.rdi = a1;
        r.rsi = a2;
        r.rdx = a3;
        return handle_hypercall(*ctx, r, kStart + 1000);
    }
    rvm_ret_t ret(std::uint64_t nr, std::uint64_t a1 = 0, std::uint64_t a2 = 0, std::uint64_t a3 = 0) {
        const CallResult r = call(nr, a1, a2, a3);
        EXPECT_EQ(r.next, CallResult::Next::Resume);
        return static_cast<rvm_ret_t>(r.rax);
    }

    PartitionId pid;
    std::vector<std::uint8_t> ram = std::vector<std::uint8_t>(0x10000, 0);
    AgentMemory memory{ram, {}};
    rvm_info info{};
    LogLimiter limiter{5};
    std::mutex limiter_mu;
    std::optional<NucleusGate> gate;
    std::optional<PartitionCallContext> ctx;
};

::testing::AssertionResult refused(rvm_ret_t r, rvm_status status, std::uint32_t arg) {
    if (status_of(r) != status || arg_of(r) != arg) {
        return ::testing::AssertionFailure() << "got ret " << r << " (status " << status_of(r) << " arg " << arg_of(r)
                                             << "), want status " << status << " arg " << arg;
    }
    return ::testing::AssertionSuccess();
}

struct Psi {
    test::World w;
    PsiMonitor monitor;
    Caller a{w, &monitor, 31};
    Caller b{w, &monitor, 32};
};

TEST(PsiCalls, RegisterIsIdempotentAndAPageNeedsAHostThatServesIt) {
    Psi t;
    EXPECT_EQ(t.a.ret(RVM_HC_PSI_REGISTER), 0);
    EXPECT_EQ(t.a.ret(RVM_HC_PSI_REGISTER), 0);
    EXPECT_EQ(t.monitor.host_view().guests_registered, 1u);
    EXPECT_TRUE(t.monitor.partition_view(t.a.pid).value().guest_registered);
    EXPECT_FALSE(t.monitor.partition_view(t.b.pid).value().guest_registered);
    EXPECT_TRUE(refused(t.b.ret(RVM_HC_PSI_REGISTER, 0x1000), RVM_E_NOT_SUPPORTED, 1)) << "context without a page slot";
    EXPECT_FALSE(t.monitor.partition_view(t.b.pid).value().guest_registered) << "a refused register registers";
}

TEST(PsiCalls, UpdateChecksTheRatioThenTheRegistration) {
    Psi t;
    EXPECT_TRUE(refused(t.a.ret(RVM_HC_PSI_UPDATE, 100'000, 1, 2), RVM_E_STATE, 0));
    EXPECT_TRUE(refused(t.a.ret(RVM_HC_PSI_UPDATE, RVM_PSI_RATIO_ONE + 1u), RVM_E_INVALID, 1));
    ASSERT_EQ(t.a.ret(RVM_HC_PSI_REGISTER), 0);
    EXPECT_EQ(t.a.ret(RVM_HC_PSI_UPDATE, 0, 0, 0), 0);
    EXPECT_EQ(t.a.ret(RVM_HC_PSI_UPDATE, RVM_PSI_RATIO_ONE, 7, 9), 0);
    const PsiGuestReport want{RVM_PSI_RATIO_ONE, 7, 9};
    EXPECT_EQ(t.monitor.partition_view(t.a.pid).value().guest, want);
    for (const std::uint64_t bad : std::initializer_list<std::uint64_t>{
             std::uint64_t{RVM_PSI_RATIO_ONE} + 1u, 0x1'0000'0000ull, 0x1'0000'0000ull + 5u, ~0ull}) {
        EXPECT_TRUE(refused(t.a.ret(RVM_HC_PSI_UPDATE, bad, 1, 1), RVM_E_INVALID, 1)) << bad;
    }
    EXPECT_EQ(t.monitor.partition_view(t.a.pid).value().guest, want) << "a refused update changed the report";
}

TEST(PsiCalls, QueryReturnsTheWeightedGuestAggregate) {
    Psi t;
    EXPECT_EQ(t.a.ret(RVM_HC_PSI_QUERY, RVM_PSI_QUERY_GUESTS), 0) << "no guest has reported";
    ASSERT_EQ(t.a.ret(RVM_HC_PSI_REGISTER), 0);
    ASSERT_EQ(t.b.ret(RVM_HC_PSI_REGISTER), 0);
    ASSERT_EQ(t.a.ret(RVM_HC_PSI_UPDATE, 200'000, 1, 0), 0);  // weight 1
    EXPECT_EQ(t.b.ret(RVM_HC_PSI_QUERY, RVM_PSI_QUERY_GUESTS), 200'000);
    ASSERT_EQ(t.b.ret(RVM_HC_PSI_UPDATE, 600'000, 2, 1), 0);  // weight 3
    // (1 * 200,000 + 3 * 600,000) / 4 = 500,000, seen by both.
    EXPECT_EQ(t.a.ret(RVM_HC_PSI_QUERY, RVM_PSI_QUERY_GUESTS), 500'000);
    EXPECT_EQ(t.b.ret(RVM_HC_PSI_QUERY, RVM_PSI_QUERY_GUESTS), 500'000);
    // Nothing observed yet: the host-observed ratios are 0.
    EXPECT_EQ(t.a.ret(RVM_HC_PSI_QUERY, RVM_PSI_QUERY_SELF), 0);
    EXPECT_EQ(t.a.ret(RVM_HC_PSI_QUERY, RVM_PSI_QUERY_HOST), 0);
}

TEST(PsiCalls, QueryReturnsThePolicyAllowance) {
    Psi t;
    EXPECT_EQ(t.a.ret(RVM_HC_PSI_QUERY, RVM_PSI_QUERY_CPU_PERMILLE), 1000);
    EXPECT_EQ(t.a.ret(RVM_HC_PSI_QUERY, RVM_PSI_QUERY_MEM_PERMILLE), 1000);
    ASSERT_EQ(t.a.ret(RVM_HC_PSI_REGISTER), 0);
    ASSERT_EQ(t.a.ret(RVM_HC_PSI_UPDATE, 200'000, 1, 1), 0);  // 10-30 %: 80 %
    EXPECT_EQ(t.a.ret(RVM_HC_PSI_QUERY, RVM_PSI_QUERY_CPU_PERMILLE), 800);
    EXPECT_EQ(t.a.ret(RVM_HC_PSI_QUERY, RVM_PSI_QUERY_MEM_PERMILLE), 800);
    ASSERT_EQ(t.a.ret(RVM_HC_PSI_UPDATE, 300'001, 1, 1), 0);  // above 30 %: 50 %
    EXPECT_EQ(t.a.ret(RVM_HC_PSI_QUERY, RVM_PSI_QUERY_CPU_PERMILLE), 500);
    EXPECT_EQ(t.b.ret(RVM_HC_PSI_QUERY, RVM_PSI_QUERY_CPU_PERMILLE), 1000) << "per partition";
    const auto d = t.monitor.policy(t.a.pid);
    ASSERT_TRUE(d.ok());
    EXPECT_EQ(d.value().cpu_permille, 500u);
}

TEST(PsiCalls, QueryRefusesUnknownSelectors) {
    Psi t;
    for (const std::uint64_t bad :
         std::initializer_list<std::uint64_t>{std::uint64_t{5}, std::uint64_t{6}, 0x100ull, 0x1'0000'0000ull, ~0ull}) {
        EXPECT_TRUE(refused(t.a.ret(RVM_HC_PSI_QUERY, bad), RVM_E_INVALID, 1)) << bad;
    }
}

TEST(PsiCalls, HibernateServesC0AndC1Only) {
    Psi t;
    EXPECT_EQ(t.a.ret(RVM_HC_PSI_HIBERNATE, RVM_PSI_POWER_C0), 0);
    const CallResult c1 = t.a.call(RVM_HC_PSI_HIBERNATE, RVM_PSI_POWER_C1);
    EXPECT_EQ(c1.next, CallResult::Next::Suspend) << "C1 suspends the partition";
    EXPECT_EQ(c1.rax, 0u);
    EXPECT_EQ(c1.suspend_ns, kC1DefaultNs) << "argument 2 = 0: one default epoch";
    EXPECT_EQ(t.a.call(RVM_HC_PSI_HIBERNATE, RVM_PSI_POWER_C1, 5'000'000).suspend_ns, 5'000'000u);
    EXPECT_EQ(t.a.call(RVM_HC_PSI_HIBERNATE, RVM_PSI_POWER_C1, kC1MaxNs).suspend_ns, kC1MaxNs);
    EXPECT_TRUE(refused(t.a.ret(RVM_HC_PSI_HIBERNATE, RVM_PSI_POWER_C1, kC1MaxNs + 1), RVM_E_INVALID, 2));
    EXPECT_TRUE(refused(t.a.ret(RVM_HC_PSI_HIBERNATE, RVM_PSI_POWER_C1, ~0ull), RVM_E_INVALID, 2));
    EXPECT_TRUE(refused(t.a.ret(RVM_HC_PSI_HIBERNATE, RVM_PSI_POWER_C3), RVM_E_NOT_SUPPORTED, 1));
    EXPECT_TRUE(refused(t.a.ret(RVM_HC_PSI_HIBERNATE, RVM_PSI_POWER_C6), RVM_E_NOT_SUPPORTED, 1));
    for (const std::uint64_t bad : std::initializer_list<std::uint64_t>{
             std::uint64_t{2}, std::uint64_t{4}, std::uint64_t{5}, std::uint64_t{7}, 0x1'0000'0001ull, ~0ull}) {
        EXPECT_TRUE(refused(t.a.ret(RVM_HC_PSI_HIBERNATE, bad), RVM_E_INVALID, 1)) << bad;
    }
}

// A caller whose RAM holds a shared Ψ page the host may serve.
struct PageCaller {
    explicit PageCaller(test::World& w, PsiMonitor& psi)
        : pid(w.partition(PartitionConfig{35, 4, 8, 0})),
          memory(ram, {GuestRange{0x1000, 0x3000, true, false}, GuestRange{0x3000, 0x4000, false, false}}) {
        psi.attach_partition(pid);
        gate.emplace(w.k());
        ctx.emplace(PartitionCallContext{pid, *gate, memory, info, kStart, limiter, limiter_mu, &psi});
        ctx->psi_page = &page;
    }
    rvm_ret_t reg(std::uint64_t gva) {
        backend::Regs r;
        r.rax = RVM_HC_PSI_REGISTER;
        r.rdi = gva;
        return static_cast<rvm_ret_t>(handle_hypercall(*ctx, r, kStart).rax);
    }
    void init_page(std::uint64_t gva, std::uint64_t magic = RVM_PSI_PAGE_MAGIC,
                   std::uint64_t version = RVM_PSI_PAGE_VERSION) {
        std::memcpy(ram.data() + gva, &magic, 8);
        std::memcpy(ram.data() + gva + 8, &version, 8);
    }
    PartitionId pid;
    alignas(64) std::array<std::uint8_t, 0x4000> ram{};
    AgentMemory memory;
    rvm_info info{};
    LogLimiter limiter{5};
    std::mutex limiter_mu;
    std::optional<NucleusGate> gate;
    std::atomic<std::uint64_t> page{0};
    std::optional<PartitionCallContext> ctx;
};

TEST(PsiCalls, RegisterWithASharedPageChecksItAtTheBoundary) {
    test::World w;
    PsiMonitor monitor;
    PageCaller c{w, monitor};
    c.init_page(0x1040);
    c.init_page(0x3000);
    c.init_page(0x1080, RVM_PSI_PAGE_MAGIC + 1);
    c.init_page(0x10c0, RVM_PSI_PAGE_MAGIC, 2);
    EXPECT_TRUE(refused(c.reg(0x1044), RVM_E_INVALID, 1)) << "not 64-byte aligned";
    EXPECT_TRUE(refused(c.reg(0x3000), RVM_E_FAULT, 1)) << "read-only memory";
    EXPECT_TRUE(refused(c.reg(0x8000), RVM_E_FAULT, 1)) << "unmapped";
    EXPECT_TRUE(refused(c.reg(0xffff'ffff'ffff'ffc0ull), RVM_E_FAULT, 1)) << "wraps";
    EXPECT_TRUE(refused(c.reg(0x1080), RVM_E_INVALID, 1)) << "bad magic";
    EXPECT_TRUE(refused(c.reg(0x10c0), RVM_E_INVALID, 1)) << "bad version";
    EXPECT_FALSE(monitor.partition_view(c.pid).value().guest_registered) << "a refused register registers nothing";
    EXPECT_EQ(c.page.load(), 0u);
    EXPECT_EQ(c.reg(0x1040), 0);
    EXPECT_EQ(c.page.load(), 0x1040u);
    EXPECT_TRUE(monitor.partition_view(c.pid).value().guest_registered);
}

// The memory allowance (DESIGN.md 6): with the policy on, REGION_MAP may grow
// a partition beyond its base RAM by at most mem_permille of that RAM.
TEST(PsiCalls, RegionMapGrowthIsBoundedByTheMemoryAllowance) {
    Psi t;
    std::atomic<bool> policy{true};
    t.a.ctx->psi_policy = &policy;
    t.a.ctx->base_pages = 10;  // so the allowance is 10 pages at full, 5 at 50 %
    const std::uint64_t self = t.w.self_cap(t.a.pid).raw();
    const auto map = [&](std::uint64_t pages) {
        return t.a.ret(RVM_HC_REGION_MAP, self, pages * 4096, RVM_REGION_SLAB);
    };
    // Nothing mapped yet: the partition holds 0 pages, below its base; full allowance.
    ASSERT_EQ(t.a.ret(RVM_HC_PSI_REGISTER), 0);
    ASSERT_EQ(t.a.ret(RVM_HC_PSI_UPDATE, 600'000, 1, 1), 0);  // above 30 %: 500 per mille
    ASSERT_EQ(t.monitor.policy(t.a.pid).value().mem_permille, 500u);
    EXPECT_GE(map(8), 0) << "8 pages: still within the 10 base pages";
    EXPECT_GE(map(2), 0) << "10 pages: exactly the base";
    EXPECT_GE(map(5), 0) << "5 extra = 50 % of the base";
    EXPECT_TRUE(refused(map(1), RVM_E_POLICY, 2)) << "one page beyond the allowance";
    policy = false;
    EXPECT_GE(map(1), 0) << "policy off: not enforced";
    policy = true;
    ASSERT_EQ(t.a.ret(RVM_HC_PSI_UPDATE, 0, 1, 1), 0);  // back to full: 10 extra pages
    EXPECT_GE(map(4), 0);
    EXPECT_TRUE(refused(map(1), RVM_E_POLICY, 2));
    EXPECT_TRUE(refused(t.a.ret(RVM_HC_REGION_MAP, self, 4095, RVM_REGION_SLAB), RVM_E_INVALID, 2))
        << "a request the decoder refuses gets the decoder's status";
}

TEST(PsiCalls, WithoutAMonitorNothingIsServed) {
    test::World w;
    Caller p{w, nullptr, 33};
    for (const std::uint64_t nr : {RVM_HC_PSI_REGISTER, RVM_HC_PSI_UPDATE, RVM_HC_PSI_QUERY, RVM_HC_PSI_HIBERNATE}) {
        EXPECT_TRUE(refused(p.ret(nr), RVM_E_NOT_SUPPORTED, 0)) << nr;
    }
}

TEST(PsiCalls, AnUnattachedPartitionIsABadHandle) {
    test::World w;
    PsiMonitor monitor;
    Caller p{w, nullptr, 34};
    p.ctx->psi = &monitor;  // never attached to the monitor
    EXPECT_TRUE(refused(p.ret(RVM_HC_PSI_REGISTER), RVM_E_BAD_HANDLE, 0));
    EXPECT_TRUE(refused(p.ret(RVM_HC_PSI_QUERY, RVM_PSI_QUERY_SELF), RVM_E_BAD_HANDLE, 0));
    EXPECT_TRUE(refused(p.ret(RVM_HC_PSI_QUERY, RVM_PSI_QUERY_CPU_PERMILLE), RVM_E_BAD_HANDLE, 0));
    EXPECT_EQ(p.ret(RVM_HC_PSI_QUERY, RVM_PSI_QUERY_GUESTS), 0);
}

}  // namespace
}  // namespace rvm::host
