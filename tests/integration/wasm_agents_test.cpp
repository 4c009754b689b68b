// WebAssembly agents on KVM (label kvm, issue 15): a plain WASI program runs
// unchanged (args, environment, stdout/stderr, clock, sleep, random, exit
// code); every trap fails its own partition with the trap named; linear
// memory growth is bounded by the partition; hostile modules are refused at
// load with a clear message or fail only their partition; the second start
// of a module compiles nothing.
#include <cstdint>
#include <string>
#include <vector>

#include "integration/kvm_support.hpp"
#include "wasm/wasm_args.hpp"
#include "wasm/wasm_translator.hpp"

namespace rvm::test {
namespace {

using host::Outcome;

std::string module_path(const std::string& name) { return std::string(RVM_WASM_MODULE_DIR) + "/" + name + ".wasm"; }

wasm::WasmPrepareOptions options() {
    wasm::WasmPrepareOptions o;
    o.cache_dir = std::string(RVM_WASM_TEST_CACHE);
    o.limits.memory_bytes = std::uint64_t{40} << 20;
    return o;
}

Result<wasm::WasmPrepared, wasm::WasmError> prepare(const std::string& name) {
    const std::vector<std::vector<std::uint8_t>> mods{read_agent(module_path(name).c_str())};
    return wasm::prepare_wasm(mods, options());
}

// The agent spec of a prepared module: 48 MiB, 1 task, its args / env.
host::AgentSpec wasm_spec(const std::string& name, const std::vector<std::string>& args = {},
                          const std::vector<std::string>& env = {}) {
    auto p = prepare(name);
    EXPECT_TRUE(p.ok()) << name << ": " << (p.ok() ? "" : p.error().message);
    host::AgentSpec s;
    s.name = name;
    if (!p.ok()) return s;
    s.elf = read_agent(p.value().elf_path.c_str());
    EXPECT_TRUE(wasm::patch_wasm_args(s.elf, args, env).ok());
    s.memory = std::uint64_t{48} << 20;
    s.max_tasks = 1;
    s.stack_size = std::uint64_t{1} << 20;
    s.log_rate = 10000;
    s.wall_time_ns = 10'000'000'000;
    return s;
}

std::vector<host::PartitionReport> run(AgentWorld& w) {
    w.runner.start();
    w.runner.wait();
    return w.runner.reports();
}

class WasmAgents : public KvmTest {};

TEST_F(WasmAgents, WasiProgramRunsUnchanged) {
    AgentWorld w(sys());
    w.add(wasm_spec("wasi_hello", {"wasi_hello", "one", "two words"}, {"RVM_TEST_MODE=plain"}));
    const auto reps = run(w);
    ASSERT_EQ(reps.size(), 1u);
    EXPECT_EQ(reps[0].outcome, Outcome::Exited) << reps[0].fault;
    EXPECT_EQ(reps[0].exit_code, 0u);
    EXPECT_TRUE(w.logged("wasi_hello", "wasi: argc=3"));
    EXPECT_TRUE(w.logged("wasi_hello", "wasi: argv[2]=two words"));
    EXPECT_TRUE(w.logged("wasi_hello", "wasi: RVM_TEST_MODE=plain"));
    EXPECT_TRUE(w.logged("wasi_hello", "wasi: to stderr"));
    EXPECT_TRUE(w.logged("wasi_hello", "wasi: random_nonzero="));
    bool slept = false;
    for (const auto& l : w.lines_of("wasi_hello")) {
        if (l.starts_with("wasi: slept_ms=")) slept = std::stoi(l.substr(15)) >= 20;
    }
    EXPECT_TRUE(slept) << "nanosleep (poll_oneoff) returned early";
}

TEST_F(WasmAgents, ProcExitCodeIsTheTasksExitCode) {
    AgentWorld w(sys());
    w.add(wasm_spec("wasi_hello", {"wasi_hello"}, {"RVM_TEST_MODE=exit"}));
    const auto reps = run(w);
    ASSERT_EQ(reps.size(), 1u);
    EXPECT_EQ(reps[0].outcome, Outcome::Exited) << reps[0].fault;
    EXPECT_EQ(reps[0].exit_code, 5u);
}

TEST_F(WasmAgents, EachTrapFailsOnlyItsPartitionAndIsNamed) {
    const std::vector<std::pair<std::string, std::string>> traps = {
        {"trap_unreachable", "unreachable executed"}, {"trap_oob", "out of bounds memory or table access"},
        {"trap_div", "integer divide by zero"},       {"trap_overflow", "integer overflow"},
        {"trap_stack", "call stack exhausted"},       {"trap_indirect", "indirect call type mismatch"},
    };
    AgentWorld w(sys());
    for (const auto& t : traps) w.add(wasm_spec(t.first));
    w.add(wasm_spec("grow"));  // a neighbour that must be undisturbed
    const auto reps = run(w);
    ASSERT_EQ(reps.size(), traps.size() + 1);
    for (std::size_t i = 0; i < traps.size(); ++i) {
        EXPECT_EQ(reps[i].outcome, Outcome::Failed) << traps[i].first;
        EXPECT_TRUE(w.logged(traps[i].first, "wasm trap: " + traps[i].second)) << traps[i].first;
    }
    EXPECT_EQ(reps.back().outcome, Outcome::Exited) << reps.back().fault;
    EXPECT_EQ(reps.back().exit_code, 0u) << "memory.grow beyond the partition must return -1";
}

TEST_F(WasmAgents, StartFunctionThatLoopsEndsAtItsWallTime) {
    AgentWorld w(sys());
    auto s = wasm_spec("hostile_start_loops");
    s.wall_time_ns = 300'000'000;
    w.add(s);
    const auto reps = run(w);
    ASSERT_EQ(reps.size(), 1u);
    EXPECT_EQ(reps[0].outcome, Outcome::TimedOut);
}

TEST_F(WasmAgents, HostileModulesAreRefusedAtLoad) {
    const std::vector<std::pair<std::string, std::string>> bad = {
        {"hostile_huge_memory", "do not fit the partition"},
        {"hostile_unknown_import", "'env' 'launch_missiles' does not exist in RVM"},
        {"hostile_wrong_import_type", "has type (i32) -> (), RVM provides"},
        {"hostile_no_exports", "exports no entry point"},
        {"hostile_huge_table", "initial elements (RVM allows"},
    };
    for (const auto& b : bad) {
        auto p = prepare(b.first);
        ASSERT_FALSE(p.ok()) << b.first << " was accepted";
        EXPECT_NE(p.error().message.find(b.second), std::string::npos) << b.first << ": " << p.error().message;
    }
    // 100,000 nested blocks: valid, but wasm2c recurses on nesting; refused, not a host crash.
    std::vector<std::uint8_t> deep = {0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x04,
                                      0x01, 0x60, 0x00, 0x00, 0x03, 0x02, 0x01, 0x00, 0x07, 0x0a,
                                      0x01, 0x06, '_',  's',  't',  'a',  'r',  't',  0x00, 0x00};
    constexpr std::uint32_t kDepth = 100'000;
    const std::uint32_t body = 1 + 3 * kDepth + 1;  // no locals, n x (block, end), end
    auto leb = [&deep](std::uint32_t v) {
        do {
            const auto b = static_cast<std::uint8_t>(v & 0x7fu);
            v >>= 7;
            deep.push_back(v != 0 ? static_cast<std::uint8_t>(b | 0x80u) : b);
        } while (v != 0);
    };
    deep.push_back(10);
    leb(body + 4);  // count (1 byte) + body size (3 bytes for ~300 KB) + body
    deep.push_back(1);
    leb(body);
    deep.push_back(0);
    for (std::uint32_t i = 0; i < kDepth; ++i) {
        deep.push_back(0x02);
        deep.push_back(0x40);
    }
    for (std::uint32_t i = 0; i <= kDepth; ++i) deep.push_back(0x0b);
    const std::vector<std::vector<std::uint8_t>> deep_mods{deep};
    auto d = wasm::prepare_wasm(deep_mods, options());
    if (!d.ok()) {
        EXPECT_EQ(d.error().code, wasm::WasmErrc::kToolchain) << d.error().message;
    }
    const std::vector<std::vector<std::uint8_t>> garbage{{0x7f, 'E', 'L', 'F', 1, 2, 3}};
    auto g = wasm::prepare_wasm(garbage, options());
    ASSERT_FALSE(g.ok());
    EXPECT_EQ(g.error().code, wasm::WasmErrc::kMalformed);
}

TEST_F(WasmAgents, SecondPreparationComesFromTheCache) {
    auto first = prepare("trap_div");
    ASSERT_TRUE(first.ok()) << first.error().message;
    auto second = prepare("trap_div");
    ASSERT_TRUE(second.ok());
    EXPECT_TRUE(second.value().from_cache);
    EXPECT_EQ(second.value().compile_ms, 0.0);
    EXPECT_EQ(first.value().elf_path, second.value().elf_path);
    EXPECT_EQ(first.value().digest_hex, second.value().digest_hex);
}

}  // namespace
}  // namespace rvm::test
