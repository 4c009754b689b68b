// The task loop on the fake backend: scripted exits, no KVM.
#include <gtest/gtest.h>

#include "abi/hypercall.h"
#include "backend/fake/fake_vcpu.hpp"
#include "host/runtime/task_loop.hpp"

namespace rvm::host {
namespace {

namespace ex = backend::exits;

backend::Regs call(std::uint64_t nr, std::uint64_t a1 = 0) {
    backend::Regs r;
    r.rax = nr;
    r.rdi = a1;
    r.rip = 0x401000;
    return r;
}

struct Recorder {
    std::vector<backend::Regs> calls;
    std::vector<std::pair<FailReason, std::uint64_t>> fails;
    std::string fail_text;
    std::vector<std::uint64_t> exits;
    int counted_exits = 0, yields = 0, waits = 0;
    bool stop = false;
    // What the "runner" answers: EXIT ends the task, YIELD yields, anything else returns nr + 1.
    // A TaskHost; suspend is a yield and every MSR access is #GP (no Ψ MSRs here).
    bool stopped() const { return stop; }
    void wait_while_suspended() { ++waits; }
    CallResult hypercall(const backend::Regs& r) {
        calls.push_back(r);
        if (r.rax == RVM_HC_EXIT) return CallResult{CallResult::Next::ExitTask, 0, r.rdi, {}, {}, 0, {}};
        if (r.rax == RVM_HC_YIELD) return CallResult{CallResult::Next::Yield, 0, 0, {}, {}, 0, {}};
        return CallResult{CallResult::Next::Resume, r.rax + 1, 0, {}, {}, 0, {}};
    }
    void fail(FailReason why, std::uint64_t rip, std::string text) {
        fails.emplace_back(why, rip);
        fail_text = std::move(text);
    }
    void exited(std::uint64_t code) { exits.push_back(code); }
    void counted() { ++counted_exits; }
    void yield() { ++yields; }
    void suspend(std::uint64_t) { ++yields; }
    MsrReply msr(std::uint32_t, std::optional<std::uint64_t>) { return MsrReply{}; }
    Recorder& hooks() { return *this; }
};

TEST(TaskLoop, HypercallsGetTheirResultsAndExitEndsTheTask) {
    fake::FakeVcpu v({ex::Hypercall{call(RVM_HC_CLOCK)}, ex::Preempted{}, ex::Hypercall{call(RVM_HC_YIELD)},
                      ex::Hypercall{call(RVM_HC_EXIT, 7)}, ex::Hypercall{call(RVM_HC_LOG)}});
    Recorder rec;
    EXPECT_EQ(run_task_loop(v, rec.hooks()), TaskEnd::Exited);
    EXPECT_EQ(v.results, (std::vector<std::uint64_t>{RVM_HC_CLOCK + 1, 0}));  // EXIT sets nothing
    EXPECT_EQ(rec.exits, std::vector<std::uint64_t>{7});
    EXPECT_EQ(rec.calls.size(), 3u);  // the LOG after EXIT never runs
    EXPECT_EQ(rec.counted_exits, 4);
    EXPECT_EQ(rec.yields, 1);
    EXPECT_TRUE(rec.fails.empty());
    EXPECT_TRUE(v.done);
}

TEST(TaskLoop, GuestFaultsFailThePartitionWithReasonAndRip) {
    struct Case {
        backend::VcpuExit exit;
        FailReason reason;
        std::uint64_t rip;
    };
    const Case cases[] = {
        {ex::Shutdown{0x400979}, FailReason::TripleFault, 0x400979},
        {ex::Halt{0x400010}, FailReason::IllegalInstruction, 0x400010},
        {ex::Fault{0x400020, 0x80, "port I/O to a port other than the hypercall port"}, FailReason::BadAccess,
         0x400020},
    };
    for (const Case& c : cases) {
        fake::FakeVcpu v({c.exit, ex::Hypercall{call(RVM_HC_EXIT)}});
        Recorder rec;
        EXPECT_EQ(run_task_loop(v, rec.hooks()), TaskEnd::Failed);
        ASSERT_EQ(rec.fails.size(), 1u);
        EXPECT_EQ(rec.fails[0].first, c.reason);
        EXPECT_EQ(rec.fails[0].second, c.rip);
        EXPECT_TRUE(rec.calls.empty());
        EXPECT_TRUE(v.done);
    }
}

TEST(TaskLoop, ABackendErrorFailsAndAStopEndsWithoutRunning) {
    fake::FakeVcpu broken({});
    broken.fail_run = true;
    Recorder rec;
    EXPECT_EQ(run_task_loop(broken, rec.hooks()), TaskEnd::Failed);
    ASSERT_EQ(rec.fails.size(), 1u);
    EXPECT_NE(rec.fail_text.find("fake KVM_RUN failure"), std::string::npos);

    fake::FakeVcpu idle({ex::Hypercall{call(RVM_HC_CLOCK)}});
    Recorder stopped;
    stopped.stop = true;
    EXPECT_EQ(run_task_loop(idle, stopped.hooks()), TaskEnd::Stopped);
    EXPECT_EQ(idle.runs, 0u);
    EXPECT_TRUE(idle.done);
}

}  // namespace
}  // namespace rvm::host
