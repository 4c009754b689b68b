// Agent partitions on KVM (label kvm): the example agents' outcomes, fault
// isolation, refusals at AgentRunner::add, many partitions in one runner, and
// the witness log of a run (chained, and replayable to the live state).
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "backend/kvm/elf_image.hpp"
#include "integration/kvm_support.hpp"

namespace rvm::test {
namespace {

using host::Outcome;

class Agents : public KvmTest {};

// Runs `specs` to the end in one runner; returns the world for inspection.
std::unique_ptr<AgentWorld> run_all(const kvm::KvmSystem& sys, const std::vector<host::PartitionSpec>& specs) {
    auto w = std::make_unique<AgentWorld>(sys);
    for (const auto& s : specs) (void)w->add(s);
    w->runner.start();
    w->runner.wait();
    return w;
}

std::string describe(const host::PartitionReport& r) {
    return r.name + ": " + host::outcome_name(r.outcome) + " exit " + std::to_string(r.exit_code) + " fault '" +
           r.fault + "'";
}

TEST_F(Agents, HelloExitsZeroAndLogsItsTask) {
    auto w = run_all(sys(), {agent_spec("hello", RVM_AGENT_HELLO_ELF)});
    const auto reps = w->runner.reports();
    ASSERT_EQ(reps.size(), 1u);
    EXPECT_EQ(reps[0].outcome, Outcome::Exited) << describe(reps[0]);
    EXPECT_EQ(reps[0].exit_code, 0u);
    EXPECT_TRUE(reps[0].fault.empty());
    EXPECT_GE(reps[0].hypercalls, 3u);  // info, log, exit
    EXPECT_TRUE(w->logged("hello", "hello from task 0")) << "no hello line";
}

TEST_F(Agents, ExitcodeExitsSeven) {
    auto w = run_all(sys(), {agent_spec("exitcode", RVM_AGENT_EXITCODE_ELF)});
    const auto reps = w->runner.reports();
    ASSERT_EQ(reps.size(), 1u);
    EXPECT_EQ(reps[0].outcome, Outcome::Exited) << describe(reps[0]);
    EXPECT_EQ(reps[0].exit_code, 7u);
    EXPECT_TRUE(w->logged("exitcode", "exiting with 7"));
}

TEST_F(Agents, SpawnRunsBothTasks) {
    auto w = run_all(sys(), {agent_spec("spawn", RVM_AGENT_SPAWN_ELF)});
    const auto reps = w->runner.reports();
    ASSERT_EQ(reps.size(), 1u);
    EXPECT_EQ(reps[0].outcome, Outcome::Exited) << describe(reps[0]);
    EXPECT_EQ(reps[0].exit_code, 0u);
    EXPECT_TRUE(w->logged("spawn", "spawn: task 0 spawned task cap 0x"));
    EXPECT_TRUE(w->logged("spawn", "spawn: task 1 got arg 0x5eed, writing 0xc0a103"));
    EXPECT_TRUE(w->logged("spawn", "spawn: task 0 saw 0xc0a103"));
    // Both tasks ran on their own vCPU and ended.
    auto& p = w->runner.partition(0);
    ASSERT_EQ(p.tasks.size(), 2u);
    for (const auto& t : p.tasks) EXPECT_TRUE(t->done.load());
    EXPECT_EQ(w->kernel.partition(p.id)->tasks, 0u) << "the nucleus still counts live tasks";
}

TEST_F(Agents, HostileIsRefusedEverything) {
    auto w = run_all(sys(), {agent_spec("hostile", RVM_AGENT_HOSTILE_ELF)});
    const auto reps = w->runner.reports();
    ASSERT_EQ(reps.size(), 1u);
    for (const auto& l : w->lines_of("hostile")) EXPECT_EQ(l.find("FAIL"), std::string::npos) << l;
    EXPECT_EQ(reps[0].outcome, Outcome::Exited) << describe(reps[0]);
    EXPECT_EQ(reps[0].exit_code, 0u);
    EXPECT_TRUE(w->logged("hostile", "hostile: all refused"));
    EXPECT_TRUE(w->logged("hostile", "hostile: a legitimate log still works"));
    EXPECT_FALSE(w->logged("hostile", "this text must never reach the log"));
}

TEST_F(Agents, ComputeCompletesAndReportsIterations) {
    auto w = run_all(sys(), {agent_spec("compute", RVM_AGENT_COMPUTE_ELF)});
    const auto reps = w->runner.reports();
    ASSERT_EQ(reps.size(), 1u);
    EXPECT_EQ(reps[0].outcome, Outcome::Exited) << describe(reps[0]);
    EXPECT_EQ(reps[0].exit_code, 0u);
    EXPECT_TRUE(w->logged("compute", "compute: loop=decjnz iterations=1000000000 ns="));
    EXPECT_TRUE(w->logged("compute", "compute: loop=lcg iterations=1000000000 ns="));
    EXPECT_TRUE(w->logged("compute", "compute: lcg result 0x"));
}

// The rip printed in a fault string "... at rip 0x...".
std::uint64_t fault_rip(const std::string& fault) {
    const auto at = fault.find("rip 0x");
    if (at == std::string::npos) return 0;
    return std::strtoull(fault.c_str() + at + 6, nullptr, 16);
}

TEST_F(Agents, FaultFailsOnlyItsOwnPartitionWitnessed) {
    AgentWorld w(sys());
    const std::size_t fault = w.add(agent_spec("fault", RVM_AGENT_FAULT_ELF));
    const std::size_t hello = w.add(agent_spec("hello", RVM_AGENT_HELLO_ELF));
    w.runner.start();
    w.runner.wait();
    const auto reps = w.runner.reports();
    ASSERT_EQ(reps.size(), 2u);

    // The fault agent (mode 0: read 0x8) fails with the faulting rip in its image.
    EXPECT_EQ(reps[fault].outcome, Outcome::Failed) << describe(reps[fault]);
    EXPECT_NE(reps[fault].fault.find("rip 0x4"), std::string::npos) << reps[fault].fault;
    EXPECT_TRUE(w.logged("fault", "fault: mode 0: read 0x8"));
    EXPECT_FALSE(w.logged("fault", "SURVIVED"));
    const std::uint64_t rip = fault_rip(reps[fault].fault);
    EXPECT_GE(rip, RVM_IMAGE_MIN_VA);

    // The nucleus agrees, and witnessed it.
    const PartitionId pid = w.runner.partition(fault).id;
    const Partition* np = w.kernel.partition(pid);
    ASSERT_NE(np, nullptr);
    EXPECT_EQ(np->state, PartitionState::Failed);
    EXPECT_NE(np->fail_reason, FailReason::None);
    EXPECT_EQ(np->fail_detail, rip);
    int witnessed = 0;
    for (const auto& r : w.records()) {
        if (r.kind() != RVM_WK_PARTITION_STATE || r.subject() != pid.raw()) continue;
        if (((r.flags() >> 16) & 0xffu) != static_cast<std::uint32_t>(PartitionState::Failed)) continue;
        ++witnessed;
        EXPECT_EQ(r.aux(), rip);
        EXPECT_EQ((r.flags() >> 24) & 0xffu, static_cast<std::uint32_t>(np->fail_reason));
    }
    EXPECT_EQ(witnessed, 1) << "exactly one PARTITION_STATE -> Failed record";

    // The neighbour is untouched.
    EXPECT_EQ(reps[hello].outcome, Outcome::Exited) << describe(reps[hello]);
    EXPECT_EQ(reps[hello].exit_code, 0u);
    EXPECT_TRUE(w.logged("hello", "hello from task 0"));
    EXPECT_EQ(w.kernel.partition(w.runner.partition(hello).id)->state, PartitionState::Active);
}

TEST_F(Agents, EveryFaultModeFailsOnlyItsOwnPartition) {
    // fault.c takes its mode from the start argument: null reads and writes,
    // writes to its own text and to the info page, executing its stack,
    // memory above memory_size, non-canonical and kernel-half addresses,
    // ud2, hlt and port I/O to another port.
    constexpr std::uint64_t kModes = 11;
    AgentWorld w(sys());
    for (std::uint64_t mode = 0; mode < kModes; ++mode) {
        host::PartitionSpec s = agent_spec("fault" + std::to_string(mode), RVM_AGENT_FAULT_ELF);
        s.arg = mode;
        (void)w.add(s);
    }
    const std::size_t hello = w.add(agent_spec("hello", RVM_AGENT_HELLO_ELF));
    w.runner.start();
    w.runner.wait();
    const auto reps = w.runner.reports();
    ASSERT_EQ(reps.size(), kModes + 1);
    for (std::uint64_t mode = 0; mode < kModes; ++mode) {
        SCOPED_TRACE("mode " + std::to_string(mode));
        EXPECT_EQ(reps[mode].outcome, Outcome::Failed) << describe(reps[mode]);
        EXPECT_TRUE(w.logged(reps[mode].name, "fault: mode " + std::to_string(mode) + ":"));
        EXPECT_FALSE(w.logged(reps[mode].name, "SURVIVED"));
        EXPECT_EQ(w.kernel.partition(w.runner.partition(mode).id)->state, PartitionState::Failed);
    }
    EXPECT_EQ(reps[hello].outcome, Outcome::Exited) << describe(reps[hello]);
    EXPECT_EQ(reps[hello].exit_code, 0u);
}

// Mutations of agent_hello that the loader must refuse.
void put_u64(std::vector<std::uint8_t>& b, std::size_t at, std::uint64_t v) {
    for (std::size_t i = 0; i < 8; ++i) b[at + i] = static_cast<std::uint8_t>(v >> (8 * i));
}

struct Refusal {
    const char* what;
    std::vector<std::uint8_t> elf;
    const char* expect;  // substring of the error
};

TEST_F(Agents, MalformedImagesAreRefusedWithoutLeftovers) {
    const std::vector<std::uint8_t> hello = read_agent(RVM_AGENT_HELLO_ELF);
    ASSERT_GT(hello.size(), 0x3000u);
    std::vector<Refusal> cases;
    cases.push_back({"empty", {}, "smaller than an ELF64 header"});
    cases.push_back({"truncated header", {hello.begin(), hello.begin() + 40}, "smaller than an ELF64 header"});
    cases.push_back({"truncated program headers", {hello.begin(), hello.begin() + 100}, "program header table"});
    cases.push_back({"truncated segments", {hello.begin(), hello.begin() + 0x1800}, "past the end of the file"});
    std::vector<std::uint8_t> garbage(4096);
    for (std::size_t i = 0; i < garbage.size(); ++i) garbage[i] = static_cast<std::uint8_t>(i * 37u + 11u);
    cases.push_back({"garbage", garbage, "bad magic"});
    const auto img = kvm::parse_elf(hello, kvm::ElfLimits{RVM_IMAGE_MIN_VA, 16ull << 20});
    ASSERT_TRUE(img.ok());
    std::uint64_t data_va = 0;
    for (std::size_t i = 0; i < img.value().count; ++i) {
        if (!img.value().segments[i].exec) data_va = img.value().segments[i].vaddr;
    }
    ASSERT_NE(data_va, 0u) << "agent_hello has no non-executable segment";
    auto entry_data = hello;
    put_u64(entry_data, 24, data_va);
    cases.push_back({"entry in data", entry_data, "entry point is not inside an executable segment"});
    auto entry_null = hello;
    put_u64(entry_null, 24, 0x8);
    cases.push_back({"entry in the null guard", entry_null, "entry point is not inside an executable segment"});
    auto pie = hello;
    pie[16] = 3;  // ET_DYN
    cases.push_back({"ET_DYN", pie, "e_type is not ET_EXEC"});

    AgentWorld w(sys());
    const std::size_t live = w.kernel.state().partitions.live();
    const auto records = w.records().size();
    for (const auto& c : cases) {
        host::PartitionSpec s = agent_spec(c.what, RVM_AGENT_HELLO_ELF);
        s.elf = c.elf;
        const auto r = w.runner.add(s);
        ASSERT_FALSE(r.ok()) << c.what << " was accepted";
        EXPECT_NE(r.error().find("agent image refused"), std::string::npos) << c.what << ": " << r.error();
        EXPECT_NE(r.error().find(c.expect), std::string::npos) << c.what << ": " << r.error();
        EXPECT_EQ(w.kernel.state().partitions.live(), live) << c.what << " left a nucleus partition";
    }
    EXPECT_EQ(w.records().size(), records) << "a refused image was witnessed";
    // The runner still works afterwards.
    const std::size_t ok = w.add(agent_spec("hello", RVM_AGENT_HELLO_ELF));
    w.runner.start();
    w.runner.wait();
    EXPECT_EQ(w.runner.reports()[ok].outcome, Outcome::Exited);
}

TEST_F(Agents, ImpossibleSizesAreRefusedWithoutLeftovers) {
    struct Size {
        const char* what;
        std::uint64_t memory, stack;
        std::uint32_t tasks, max_tasks;
        const char* expect;
    };
    const std::vector<Size> cases = {
        {"stacks fill memory", 1ull << 20, 64ull << 10, 1, 16, "leave no room for the image"},
        {"stacks leave too little", (4ull << 20) + (512ull << 10), 64ull << 10, 1, 8, "leave no room for the image"},
        {"image above the stacks", (4ull << 20) + (512ull << 10) + 4096, 64ull << 10, 1, 8,
         "above the partition's image limit"},
        {"memory not page-sized", (16ull << 20) + 100, 64ull << 10, 1, 8, "not a multiple of 4 KiB"},
        {"memory below 1 MiB", 512ull << 10, 4096, 1, 1, "between 1 MiB and 1 GiB"},
        {"memory above 1 GiB", 2ull << 30, 64ull << 10, 1, 8, "between 1 MiB and 1 GiB"},
        {"stack zero", 16ull << 20, 0, 1, 8, "stack is not a multiple of 4 KiB"},
        {"stack not page-sized", 16ull << 20, 5000, 1, 8, "stack is not a multiple of 4 KiB"},
        {"no task", 16ull << 20, 64ull << 10, 0, 8, "out of range"},
        {"tasks above max", 16ull << 20, 64ull << 10, 9, 8, "out of range"},
        {"max_tasks above 255", 512ull << 20, 4096, 1, 256, "out of range"},
    };
    AgentWorld w(sys());
    const std::size_t live = w.kernel.state().partitions.live();
    for (const auto& c : cases) {
        host::PartitionSpec s = agent_spec(c.what, RVM_AGENT_HELLO_ELF);
        s.memory = c.memory;
        s.stack_size = c.stack;
        s.tasks = c.tasks;
        s.max_tasks = c.max_tasks;
        const auto r = w.runner.add(s);
        ASSERT_FALSE(r.ok()) << c.what << " was accepted";
        EXPECT_NE(r.error().find(c.expect), std::string::npos) << c.what << ": " << r.error();
        EXPECT_EQ(w.kernel.state().partitions.live(), live) << c.what << " left a nucleus partition";
    }
}

TEST_F(Agents, SixteenHelloPartitionsAllExitZero) {
    std::vector<host::PartitionSpec> specs;
    for (int i = 0; i < 16; ++i) specs.push_back(agent_spec("hello" + std::to_string(i), RVM_AGENT_HELLO_ELF));
    auto w = run_all(sys(), specs);
    const auto reps = w->runner.reports();
    ASSERT_EQ(reps.size(), 16u);
    for (std::size_t i = 0; i < reps.size(); ++i) {
        EXPECT_EQ(reps[i].outcome, Outcome::Exited) << describe(reps[i]);
        EXPECT_EQ(reps[i].exit_code, 0u) << describe(reps[i]);
        EXPECT_TRUE(w->logged(reps[i].name, "hello from task 0")) << reps[i].name;
    }
    // Sixteen distinct nucleus partitions.
    EXPECT_EQ(w->kernel.state().partitions.live(), 16u);
    w->runner.destroy_all();
    EXPECT_EQ(w->kernel.state().partitions.live(), 0u);
}

TEST_F(Agents, WitnessLogChainsAndReplaysToTheLiveState) {
    AgentWorld w(sys());
    (void)w.add(agent_spec("hello", RVM_AGENT_HELLO_ELF));
    (void)w.add(agent_spec("spawn", RVM_AGENT_SPAWN_ELF));
    (void)w.add(agent_spec("exitcode", RVM_AGENT_EXITCODE_ELF));
    (void)w.add(agent_spec("fault", RVM_AGENT_FAULT_ELF));
    w.runner.start();
    w.runner.wait();
    const NucleusState after_run = w.kernel.state();
    const std::size_t run_records = w.records().size();
    w.runner.destroy_all();
    EXPECT_EQ(w.kernel.state().partitions.live(), 0u);

    const auto recs = w.records();
    ASSERT_GT(recs.size(), run_records) << "destroy_all was not witnessed";
    std::uint64_t prev = 0;
    bool kinds[256] = {};
    for (std::size_t i = 0; i < recs.size(); ++i) {
        const WitnessRecord& r = recs[i];
        EXPECT_EQ(r.sequence(), i);
        EXPECT_EQ(r.chain_hash_before(), prev) << "record " << i;
        const MacKey key = segment_key(w.hash, w.master, r.sequence() / kWitnessSegmentRecords);
        EXPECT_EQ(r.record_hash(), compute_record_hash(w.hash, key, r)) << "record " << i;
        prev = r.record_hash();
        kinds[r.kind()] = true;
    }
    EXPECT_EQ(w.log.head().last_hash, prev);
    EXPECT_EQ(w.log.head().next_sequence, recs.size());
    for (const std::uint8_t k : {RVM_WK_PARTITION_CREATE, RVM_WK_TASK_SPAWN, RVM_WK_TASK_TERMINATE,
                                 RVM_WK_PARTITION_STATE, RVM_WK_PARTITION_DESTROY}) {
        EXPECT_TRUE(kinds[k]) << "no record of kind " << witness_kind_name(k);
    }

    Kernel replica(KernelEnv{w.hash, w.clock, w.proof_key, ProofPolicy{}, nullptr});
    for (std::size_t i = 0; i < recs.size(); ++i) {
        const auto r = replica.apply(recs[i]);
        ASSERT_TRUE(r.ok()) << "replay of record " << i << " (" << witness_kind_name(recs[i].kind())
                            << ") failed: " << status_name(r.error().code);
        if (i + 1 == run_records) {
            EXPECT_TRUE(replica.state() == after_run) << "replica diverged before destroy";
        }
    }
    EXPECT_TRUE(replica.state() == w.kernel.state()) << "replica diverged after destroy_all";
    EXPECT_TRUE(replica.invariants_hold());
}

}  // namespace
}  // namespace rvm::test
