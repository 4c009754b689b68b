// AgentCalls without KVM: handle_hypercall() with synthetic registers against
// a small Kernel and an AgentMemory over a std::vector. One test per agent
// call with its refusals (exact status and argument position), the log rate
// limit, sanitize_log, unknown numbers and task_spawn.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <mutex>
#include <string>
#include <vector>

#include "abi/hypercall.h"
#include "host/runtime/agent_calls.hpp"
#include "support/world.hpp"

namespace rvm::host {
namespace {

using test::arg_of;
using test::status_of;

constexpr std::uint64_t kStart = 5'000'000;
// RAM: info [0x10000, +4K) R, text [0x20000, +4K) R+X, rodata [0x21000, +4K) R,
// data [0x22000, +8K) R+W; everything else unmapped.
constexpr std::uint64_t kInfo = 0x10000, kText = 0x20000, kRodata = 0x21000, kData = 0x22000;

struct Calls {
    test::World w;
    PartitionId pid = w.partition(PartitionConfig{21, 4, 8, 0});
    std::vector<std::uint8_t> ram = std::vector<std::uint8_t>(0x30000, 0xee);
    AgentMemory memory{ram,
                       {{kInfo, kInfo + 0x1000, false, false},
                        {kText, kText + 0x1000, false, true},
                        {kRodata, kRodata + 0x1000, false, false},
                        {kData, kData + 0x2000, true, false}}};
    rvm_info info{};
    LogLimiter limiter{5};
    std::mutex limiter_mu;
    NucleusGate gate{w.k()};
    PartitionCallContext ctx{pid, gate, memory, info, kStart, limiter, limiter_mu};

    Calls() {
        info.magic = RVM_INFO_MAGIC;
        info.partition = pid.raw();
        info.self_cap = w.self_cap(pid).raw();
        info.memory_size = ram.size();
        for (std::size_t i = 0; i < std::size(info.reserved); ++i) info.reserved[i] = 0x1111111111111111ull * (i + 1);
    }

    CallResult call(std::uint64_t nr, std::uint64_t a1 = 0, std::uint64_t a2 = 0, std::uint64_t a3 = 0,
                    std::uint64_t now = kStart + 1000) {
        backend::Regs r;
        r.rax = nr;
        r.rdi = a1;
        r.rsi = a2;
        r.rdx = a3;
        return handle_hypercall(ctx, r, now);
    }
    void put(std::uint64_t gpa, const std::string& s) { std::memcpy(ram.data() + gpa, s.data(), s.size()); }
};

rvm_ret_t ret(const CallResult& r) { return static_cast<rvm_ret_t>(r.rax); }

::testing::AssertionResult refused(const CallResult& r, rvm_status status, std::uint32_t arg) {
    if (r.next != CallResult::Next::Resume) return ::testing::AssertionFailure() << "the task does not resume";
    if (r.log || r.spawn) return ::testing::AssertionFailure() << "a refused call has an effect";
    if (status_of(ret(r)) != status || arg_of(ret(r)) != arg) {
        return ::testing::AssertionFailure() << "got status " << status_of(ret(r)) << " arg " << arg_of(ret(r))
                                             << ", want status " << status << " arg " << arg;
    }
    return ::testing::AssertionSuccess();
}

TEST(AgentCalls, LogReturnsTheLengthAndTheSanitizedLine) {
    Calls c;
    c.put(kData, "hello\x01world\n");
    const CallResult r = c.call(RVM_HC_LOG, kData, 12);
    EXPECT_EQ(r.next, CallResult::Next::Resume);
    EXPECT_EQ(r.rax, 12u);
    ASSERT_TRUE(r.log.has_value());
    EXPECT_EQ(*r.log, "hello?world");
    EXPECT_FALSE(r.spawn.has_value());
    // Read-only memory can be logged from (rodata, text).
    c.put(kRodata, "const");
    const CallResult ro = c.call(RVM_HC_LOG, kRodata, 5);
    EXPECT_EQ(ro.rax, 5u);
    EXPECT_EQ(ro.log.value_or(""), "const");
    // Exactly RVM_LOG_MAX is allowed.
    const CallResult max = c.call(RVM_HC_LOG, kData, RVM_LOG_MAX);
    EXPECT_EQ(max.rax, RVM_LOG_MAX);
    EXPECT_EQ(max.log.value_or("").size(), RVM_LOG_MAX);
}

TEST(AgentCalls, LogRefusesLongLengthsAndBadPointers) {
    Calls c;
    EXPECT_TRUE(refused(c.call(RVM_HC_LOG, kData, RVM_LOG_MAX + 1u), RVM_E_INVALID, 2));
    EXPECT_TRUE(refused(c.call(RVM_HC_LOG, kData, ~0ull), RVM_E_INVALID, 2));
    EXPECT_TRUE(refused(c.call(RVM_HC_LOG, 0x8, 8), RVM_E_FAULT, 1));
    EXPECT_TRUE(refused(c.call(RVM_HC_LOG, kData + 0x1ff8, 16), RVM_E_FAULT, 1)) << "runs off the data range";
    EXPECT_TRUE(refused(c.call(RVM_HC_LOG, 0x30000, 8), RVM_E_FAULT, 1)) << "past RAM";
    EXPECT_TRUE(refused(c.call(RVM_HC_LOG, ~0ull - 4, 16), RVM_E_FAULT, 1)) << "wraps";
    // An invalid length is reported even with a bad pointer (argument 2 is checked first).
    EXPECT_TRUE(refused(c.call(RVM_HC_LOG, 0x8, RVM_LOG_MAX + 1u), RVM_E_INVALID, 2));
    // Refusals do not spend the rate limit.
    EXPECT_EQ(c.limiter.dropped(), 0u);
    for (int i = 0; i < 5; ++i) EXPECT_EQ(c.call(RVM_HC_LOG, kData, 1).rax, 1u);
}

TEST(AgentCalls, LogIsRateLimitedAfterTheBurst) {
    Calls c;  // 5 lines per second, bursts of 5
    const std::uint64_t t = kStart + 1000;
    for (int i = 0; i < 5; ++i) EXPECT_EQ(c.call(RVM_HC_LOG, kData, 4, 0, t).rax, 4u) << i;
    EXPECT_TRUE(refused(c.call(RVM_HC_LOG, kData, 4, 0, t), RVM_E_POLICY, 0));
    EXPECT_TRUE(refused(c.call(RVM_HC_LOG, kData, 4, 0, t + 100'000'000), RVM_E_POLICY, 0)) << "0.5 tokens";
    EXPECT_EQ(c.limiter.dropped(), 2u);
    // 150 ms later 1.25 tokens have accrued (5/s): one more line, not two.
    EXPECT_EQ(c.call(RVM_HC_LOG, kData, 4, 0, t + 250'000'000).rax, 4u);
    EXPECT_TRUE(refused(c.call(RVM_HC_LOG, kData, 4, 0, t + 250'000'000), RVM_E_POLICY, 0));
    // After a long pause the bucket is full again, but not fuller than the burst.
    const std::uint64_t later = t + 60'000'000'000;
    for (int i = 0; i < 5; ++i) EXPECT_EQ(c.call(RVM_HC_LOG, kData, 4, 0, later).rax, 4u) << i;
    EXPECT_TRUE(refused(c.call(RVM_HC_LOG, kData, 4, 0, later), RVM_E_POLICY, 0));
    EXPECT_EQ(c.limiter.dropped(), 4u);
}

TEST(AgentCalls, SanitizeLogReplacesControlBytes) {
    const auto s = [](std::vector<std::uint8_t> b) { return sanitize_log(b); };
    EXPECT_EQ(s({}), "");
    EXPECT_EQ(s({'a', 'b', '\n'}), "ab");
    EXPECT_EQ(s({'\n'}), "");
    EXPECT_EQ(s({'a', '\n', '\n'}), "a?") << "only one trailing newline is dropped";
    EXPECT_EQ(s({'a', '\n', 'b'}), "a?b") << "no line breaks inside a line";
    EXPECT_EQ(s({'\t', 'x'}), "\tx");
    EXPECT_EQ(s({'\r', 0x1b, '[', '2', 'J'}), "??[2J") << "no terminal escapes";
    EXPECT_EQ(s({0x00, 0x07, 0x08, 0x7f, 0x80, 0xff}), "??????");
    EXPECT_EQ(s({' ', '~'}), " ~");
}

TEST(AgentCalls, InfoCopiesAtMost128Bytes) {
    Calls c;
    // Whole struct.
    CallResult r = c.call(RVM_HC_INFO, kData, sizeof(rvm_info));
    EXPECT_EQ(r.rax, sizeof(rvm_info));
    EXPECT_EQ(std::memcmp(c.ram.data() + kData, &c.info, sizeof(rvm_info)), 0);
    // A longer buffer still gets 128 bytes; the byte after is untouched.
    std::memset(c.ram.data() + kData, 0xee, 512);
    r = c.call(RVM_HC_INFO, kData, 512);
    EXPECT_EQ(r.rax, 128u);
    EXPECT_EQ(std::memcmp(c.ram.data() + kData, &c.info, 128), 0);
    EXPECT_EQ(c.ram[kData + 128], 0xee);
    // A shorter buffer gets exactly its length.
    std::memset(c.ram.data() + kData, 0xee, 512);
    r = c.call(RVM_HC_INFO, kData + 8, 20);
    EXPECT_EQ(r.rax, 20u);
    EXPECT_EQ(std::memcmp(c.ram.data() + kData + 8, &c.info, 20), 0);
    EXPECT_EQ(c.ram[kData + 7], 0xee);
    EXPECT_EQ(c.ram[kData + 28], 0xee);
    // A long buffer at the end of writable memory: only the 128 bytes must fit.
    EXPECT_EQ(c.call(RVM_HC_INFO, kData + 0x2000 - 128, 4096).rax, 128u);
}

// A zero-length copy touches no memory and must not reach memcpy with the
// null pointer of an empty view (undefined behaviour: UBSan stops the host).
TEST(AgentCalls, InfoOfZeroBytesCopiesNothing) {
    Calls c;
    const std::vector<std::uint8_t> before = c.ram;
    EXPECT_EQ(c.call(RVM_HC_INFO, kData, 0).rax, 0u);
    EXPECT_EQ(c.call(RVM_HC_INFO, 0x8, 0).rax, 0u);
    EXPECT_TRUE(c.ram == before);
}

TEST(AgentCalls, InfoRefusesMemoryTheTaskCannotWrite) {
    Calls c;
    const std::vector<std::uint8_t> before = c.ram;
    EXPECT_TRUE(refused(c.call(RVM_HC_INFO, kInfo, 128), RVM_E_FAULT, 1)) << "info page";
    EXPECT_TRUE(refused(c.call(RVM_HC_INFO, kText, 128), RVM_E_FAULT, 1)) << "text";
    EXPECT_TRUE(refused(c.call(RVM_HC_INFO, kRodata, 128), RVM_E_FAULT, 1)) << "rodata";
    EXPECT_TRUE(refused(c.call(RVM_HC_INFO, 0x8, 128), RVM_E_FAULT, 1)) << "null guard";
    EXPECT_TRUE(refused(c.call(RVM_HC_INFO, kData + 0x2000 - 64, 128), RVM_E_FAULT, 1)) << "runs off data";
    EXPECT_TRUE(refused(c.call(RVM_HC_INFO, ~0ull - 8, 128), RVM_E_FAULT, 1)) << "wraps";
    EXPECT_TRUE(c.ram == before) << "a refused RVM_HC_INFO wrote memory";
}

TEST(AgentCalls, ClockIsNanosecondsSinceTheStart) {
    Calls c;
    const CallResult r = c.call(RVM_HC_CLOCK, 0, 0, 0, kStart + 123'456);
    EXPECT_EQ(r.next, CallResult::Next::Resume);
    EXPECT_EQ(r.rax, 123'456u);
    EXPECT_EQ(c.call(RVM_HC_CLOCK, 0, 0, 0, kStart).rax, 0u);
}

TEST(AgentCalls, ExitEndsTheTaskWithItsCode) {
    Calls c;
    CallResult r = c.call(RVM_HC_EXIT, 7);
    EXPECT_EQ(r.next, CallResult::Next::ExitTask);
    EXPECT_EQ(r.exit_code, 7u);
    r = c.call(RVM_HC_EXIT, ~0ull);  // exit(-1), sign-extended
    EXPECT_EQ(r.next, CallResult::Next::ExitTask);
    EXPECT_EQ(r.exit_code, ~0ull);
}

TEST(AgentCalls, YieldReturnsZero) {
    Calls c;
    const CallResult r = c.call(RVM_HC_YIELD, 1, 2, 3);
    EXPECT_EQ(r.next, CallResult::Next::Yield);
    EXPECT_EQ(r.rax, 0u);
    EXPECT_FALSE(r.log || r.spawn);
}

TEST(AgentCalls, UnknownNumbersAreUnknownCalls) {
    Calls c;
    const auto records = c.w.records();
    for (const std::uint64_t nr : std::initializer_list<std::uint64_t>{
             0x100000201ull, 0x100000200ull, 0x100000000ull, 0x1ffull, 0x205ull, 0x1000ull,
             std::uint64_t{RVM_HC_NUCLEUS_COUNT_}, 0x01000000ull, 0x8000000000000000ull, ~0ull}) {
        EXPECT_TRUE(refused(c.call(nr, kData, 16), RVM_E_UNKNOWN_CALL, 0)) << std::hex << nr;
    }
    EXPECT_EQ(c.w.records(), records) << "an unknown call was witnessed";
}

TEST(AgentCalls, TaskSpawnReturnsARequestWithEntryAndArg) {
    Calls c;
    const std::size_t tasks = c.w.st().tasks.live();
    const CallResult r = c.call(RVM_HC_TASK_SPAWN, c.info.self_cap, kText + 0x40, 0x5eed);
    ASSERT_GE(ret(r), 0) << "status " << status_of(ret(r)) << " arg " << arg_of(ret(r));
    EXPECT_EQ(r.next, CallResult::Next::Resume);
    ASSERT_TRUE(r.spawn.has_value());
    EXPECT_EQ(r.spawn->entry, kText + 0x40);
    EXPECT_EQ(r.spawn->arg, 0x5eedu);
    // The returned capability names the task the request carries.
    EXPECT_EQ(c.w.cap_to(c.pid, ObjectRef{RVM_OBJ_TASK, r.spawn->task.raw()}).raw(), r.rax);
    EXPECT_EQ(c.w.st().tasks.live(), tasks + 1);
    EXPECT_TRUE(c.w.sync());
}

TEST(AgentCalls, TaskSpawnRefusesEntriesOutsideCode) {
    Calls c;
    const std::size_t tasks = c.w.st().tasks.live();
    for (const std::uint64_t entry :
         std::initializer_list<std::uint64_t>{0x0ull, kInfo, kRodata, kData, kText + 0x1000, 0x30000ull, ~0ull}) {
        EXPECT_TRUE(refused(c.call(RVM_HC_TASK_SPAWN, c.info.self_cap, entry, 0), RVM_E_INVALID, 2))
            << std::hex << entry;
    }
    EXPECT_EQ(c.w.st().tasks.live(), tasks);
}

TEST(AgentCalls, TaskSpawnRefusesBadCapabilities) {
    Calls c;
    const std::size_t tasks = c.w.st().tasks.live();
    const std::uint64_t self = c.info.self_cap;
    for (const std::uint64_t cap :
         std::initializer_list<std::uint64_t>{0ull, self + (1ull << 32), self | 0xffffffffull, ~0ull}) {
        EXPECT_TRUE(refused(c.call(RVM_HC_TASK_SPAWN, cap, kText, 0), RVM_E_BAD_HANDLE, 1)) << std::hex << cap;
    }
    EXPECT_EQ(c.w.st().tasks.live(), tasks);
}

TEST(AgentCalls, TaskSpawnBeyondTheQuotaIsRefused) {
    Calls c;  // max_tasks 4
    for (int i = 0; i < 4; ++i) ASSERT_GE(ret(c.call(RVM_HC_TASK_SPAWN, c.info.self_cap, kText, 0)), 0) << i;
    const CallResult r = c.call(RVM_HC_TASK_SPAWN, c.info.self_cap, kText, 0);
    EXPECT_LT(ret(r), 0);
    EXPECT_FALSE(r.spawn.has_value());
    EXPECT_TRUE(c.w.sync());
}

}  // namespace
}  // namespace rvm::host
