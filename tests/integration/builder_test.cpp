// The builder (host/runtime/builder.hpp) on KVM: a manifest becomes a runner
// whose partitions and edges are those declared, and each failing step is
// reported with the partition or edge it concerns, as `rvm run` prints it.
#include <string>

#include "integration/kvm_support.hpp"

namespace rvm::test {
namespace {

class Builder : public KvmTest {};

host::PartitionSpec from_file(const std::string& name, const char* path, std::uint64_t arg = 0) {
    host::PartitionSpec s;
    s.name = name;
    s.agent_path = path;  // elf left empty: the builder reads it
    s.arg = arg;
    s.wall_time_ns = 20'000'000'000;
    return s;
}

TEST_F(Builder, ManifestPartitionsAndEdgesRunToTheEnd) {
    host::Manifest m;
    m.partitions.push_back(from_file("hello", RVM_AGENT_HELLO_ELF));
    m.partitions.push_back(from_file("ping", RVM_AGENT_EDGE_NODE_ELF, 500 | (std::uint64_t{kPing} << 32)));
    m.partitions.push_back(from_file("pong", RVM_AGENT_EDGE_NODE_ELF, 500 | (std::uint64_t{kPong} << 32)));
    m.edges.push_back(host::EdgeSpec{1, 2, 4096, 0, 0});
    m.edges.push_back(host::EdgeSpec{2, 1, 4096, 0, 0});
    AgentWorld w(sys());
    const auto built = host::populate(w.runner, m);
    ASSERT_TRUE(built.ok()) << built.error().message();
    w.runner.start();
    w.runner.wait();
    const auto reps = w.runner.reports();
    ASSERT_EQ(reps.size(), 3u);
    expect_all_exited(reps);
    EXPECT_TRUE(w.logged("hello", "hello from task 0"));
    EXPECT_EQ(w.runner.edge_reports().size(), 2u);
}

TEST_F(Builder, EachFailingStepNamesItsPartitionOrEdge) {
    {
        host::Manifest m;
        m.partitions.push_back(from_file("gone", "/nonexistent/agent.elf"));
        AgentWorld w(sys());
        const auto r = host::build(m, w.kernel, w.clock, sys(), {});
        ASSERT_FALSE(r.ok());
        EXPECT_EQ(r.error().code, host::BuildErrc::kAgentFile);
        EXPECT_EQ(r.error().message().rfind("partition 'gone': /nonexistent/agent.elf: ", 0), 0u)
            << r.error().message();
    }
    {
        host::Manifest m;
        m.partitions.push_back(from_file("a", RVM_AGENT_HELLO_ELF));
        m.partitions.back().stack_size = 5000;  // refused by validate() in the runtime
        AgentWorld w(sys());
        const auto r = host::populate(w.runner, m);
        ASSERT_FALSE(r.ok());
        EXPECT_EQ(r.error().code, host::BuildErrc::kPartition);
        EXPECT_NE(r.error().message().find("partition 'a' (" RVM_AGENT_HELLO_ELF "): stack"), std::string::npos)
            << r.error().message();
    }
    {
        host::Manifest m;
        m.partitions.push_back(from_file("a", RVM_AGENT_HELLO_ELF));
        m.partitions.push_back(from_file("b", RVM_AGENT_HELLO_ELF));
        m.edges.push_back(host::EdgeSpec{0, 1, 1000, 0, 7});  // not a power of two
        AgentWorld w(sys());
        const auto r = host::populate(w.runner, m);
        ASSERT_FALSE(r.ok());
        EXPECT_EQ(r.error().code, host::BuildErrc::kEdge);
        EXPECT_EQ(r.error().index, 0u);
        EXPECT_EQ(r.error().message().rfind("edge 'a' -> 'b' (line 7): ", 0), 0u) << r.error().message();
    }
}

TEST_F(Builder, SchedulerCpusDefaultToTheOnlineOnes) {
    EXPECT_GE(host::default_sched_cpus(), 1u);
    EXPECT_LE(host::default_sched_cpus(), 64u);
    host::Manifest m;
    m.partitions.push_back(from_file("hello", RVM_AGENT_HELLO_ELF));
    m.run.rvm_scheduler = true;
    AgentWorld w(sys());
    const auto r = host::build(m, w.kernel, w.clock, sys(), {});
    ASSERT_TRUE(r.ok()) << r.error().message();
    r.value()->start();
    r.value()->wait();
    expect_all_exited(r.value()->reports());
}

}  // namespace
}  // namespace rvm::test
