// Live reshaping on KVM (label kvm): partitions of a running pipeline move
// between cells (VMs) -- migrate, merge, split -- while their agents keep
// sending, forwarding and checking messages. The sink checks every message's
// sequence number and contents, so an agent that lost a register, a byte of
// memory or its place in a ring would fail it; the edge counters must come
// out exact. A reshape that fails midway must leave everything as it was.
#include <cstdint>
#include <cstdio>
#include <string>
#include <thread>

#include "integration/kvm_support.hpp"

namespace rvm::test {
namespace {

using namespace std::chrono_literals;

class Reshape : public KvmTest {};

std::uint64_t payload_of(std::uint64_t n) {
    std::uint64_t payload = 0;
    for (std::uint64_t i = 0; i < n; ++i) payload += 16 + (i * 7) % 241;
    return payload;
}

void expect_exact_edges(AgentWorld& w, std::uint64_t n) {
    const std::uint64_t payload = payload_of(n);
    for (const auto& e : w.runner.edge_reports()) {
        EXPECT_EQ(e.bytes, payload) << e.from << " -> " << e.to;
        EXPECT_EQ(e.messages, n) << e.from << " -> " << e.to;
    }
}

// A running source -> relay -> sink pipeline of `n` messages.
struct Pipeline {
    explicit Pipeline(const kvm::KvmSystem& sys, std::uint64_t n, bool blocking) : w(sys) {
        src = w.add(edge_node("source", kSource, n, blocking));
        relay = w.add(edge_node("relay", kRelay, n, blocking));
        sink = w.add(edge_node("sink", kSink, n, blocking));
        EXPECT_TRUE(w.runner.connect(src, relay, 8192).ok());
        EXPECT_TRUE(w.runner.connect(relay, sink, 8192).ok());
        w.runner.start();
        std::this_thread::sleep_for(20ms);  // under way
    }
    AgentWorld w;
    std::size_t src = 0, relay = 0, sink = 0;
};

void print(const char* what, const host::AgentRunner::Reshape& r) {
    std::printf("[reshape] %s: %u partition(s), %u vCPU(s) in %.3f ms (held %.3f ms), now cell %u\n", what,
                r.partitions, r.vcpus, static_cast<double>(r.ns) / 1e6, static_cast<double>(r.held_ns) / 1e6,
                unsigned{r.cell});
}

void migrate_merge_split(const kvm::KvmSystem& sys, bool blocking, std::uint64_t n) {
    Pipeline p(sys, n, blocking);
    auto& r = p.w.runner;
    const std::uint8_t relay_cell = r.cell_of(p.relay);
    ASSERT_NE(r.cell_of(p.sink), relay_cell);

    // The sink moves next to the relay.
    const auto m = r.migrate(p.sink, p.relay);
    ASSERT_TRUE(m.ok()) << m.error();
    print("migrate", m.value());
    EXPECT_EQ(r.cell_of(p.sink), relay_cell);
    EXPECT_EQ(m.value().cell, relay_cell);
    EXPECT_EQ(m.value().vcpus, 1u);
    EXPECT_EQ(r.partition(p.sink).cell, r.partition(p.relay).cell) << "one VM";

    // The source's cell merges into the relay's: all three in one VM.
    const auto g = r.merge(p.relay, p.src);
    ASSERT_TRUE(g.ok()) << g.error();
    print("merge", g.value());
    EXPECT_EQ(r.cell_of(p.src), relay_cell);
    EXPECT_EQ(r.partition(p.src).cell->members(), 3u);

    // Source and sink split off into a new cell of their own.
    const auto s = r.split({p.src, p.sink});
    ASSERT_TRUE(s.ok()) << s.error();
    print("split", s.value());
    EXPECT_NE(r.cell_of(p.src), relay_cell);
    EXPECT_EQ(r.cell_of(p.src), r.cell_of(p.sink));
    EXPECT_EQ(r.partition(p.relay).cell->members(), 1u);

    r.wait();
    expect_all_exited(r.reports());
    EXPECT_TRUE(p.w.logged("sink", "sink received " + std::to_string(n) + " in order"));
    expect_exact_edges(p.w, n);

    // Witnessed: per moved partition one state change into the reshape, one
    // cell change, one back to Active; a Deep proof verified for each.
    const auto recs = p.w.records();
    EXPECT_EQ(count_kind(recs, RVM_WK_PARTITION_MIGRATE), 1u);
    EXPECT_EQ(count_kind(recs, RVM_WK_PARTITION_MERGE), 1u);
    EXPECT_EQ(count_kind(recs, RVM_WK_PARTITION_SPLIT), 2u);
    EXPECT_EQ(count_kind(recs, RVM_WK_STRUCTURAL_CHANGE), 4u);
    EXPECT_GE(count_kind(recs, RVM_WK_PROOF_VERIFIED), 4u);
}

TEST_F(Reshape, MigrateMergeAndSplitARunningPollingPipeline) { migrate_merge_split(sys(), false, 400'000); }

TEST_F(Reshape, MigrateMergeAndSplitARunningBlockingPipeline) { migrate_merge_split(sys(), true, 20'000); }

TEST_F(Reshape, AFailedReshapeRollsBackAndEverythingContinues) {
    constexpr std::uint64_t kN = 300'000;
    Pipeline p(sys(), kN, false);
    auto& r = p.w.runner;
    const std::uint8_t src_cell = r.cell_of(p.src), sink_cell = r.cell_of(p.sink);
    const auto* src_vm = r.partition(p.src).cell.get();
    const auto* sink_vm = r.partition(p.sink).cell.get();
    // Merge the sink's and the source's cells into the relay's, failing
    // after one of the two vCPUs moved: both must come back.
    ASSERT_TRUE(r.migrate(p.src, p.sink).ok());  // source and sink share a cell: two partitions move
    const std::uint8_t both = r.cell_of(p.sink);
    EXPECT_EQ(r.cell_of(p.src), both);
    (void)src_cell;
    (void)src_vm;
    r.fail_next_reshape_after(1);
    const auto g = r.merge(p.relay, p.sink);
    ASSERT_FALSE(g.ok());
    EXPECT_NE(g.error().find("injected"), std::string::npos) << g.error();
    EXPECT_EQ(r.cell_of(p.src), both);
    EXPECT_EQ(r.cell_of(p.sink), both);
    EXPECT_EQ(r.partition(p.sink).cell.get(), sink_vm);
    EXPECT_EQ(r.partition(p.relay).cell->members(), 1u) << "the relay's VM maps nothing of theirs";
    EXPECT_EQ(sink_cell, both);
    // And a reshape afterwards works.
    const auto again = r.merge(p.relay, p.sink);
    ASSERT_TRUE(again.ok()) << again.error();
    r.wait();
    expect_all_exited(r.reports());
    EXPECT_TRUE(p.w.logged("sink", "sink received " + std::to_string(kN) + " in order"));
    expect_exact_edges(p.w, kN);
    // The rollback is witnessed: Merging -> Active with aux 1, and no cell
    // change for the failed attempt (one for the migrate, two for the merge).
    std::size_t rolled_back = 0;
    for (const auto& rec : p.w.records()) {
        const auto to = static_cast<std::uint8_t>((rec.flags() >> 16) & 0xff);
        if (rec.kind() == RVM_WK_PARTITION_STATE && to == static_cast<std::uint8_t>(PartitionState::Active) &&
            rec.aux() == 1) {
            ++rolled_back;
        }
    }
    EXPECT_EQ(rolled_back, 2u);
    EXPECT_EQ(count_kind(p.w.records(), RVM_WK_STRUCTURAL_CHANGE), 3u);
}

TEST_F(Reshape, RefusedWithoutChangingAnything) {
    Pipeline p(sys(), 200'000, false);
    auto& r = p.w.runner;
    EXPECT_FALSE(r.migrate(p.src, p.src).ok()) << "already in that cell";
    EXPECT_FALSE(r.split({p.src}).ok()) << "a split must leave a partition behind";
    EXPECT_FALSE(r.migrate(p.src, 99).ok());
    r.wait();
    expect_all_exited(r.reports());
    EXPECT_EQ(count_kind(p.w.records(), RVM_WK_STRUCTURAL_CHANGE), 0u);
}

// The coherence engine drives the reshaping: a pipeline is a chain of heavy
// edges, so it gathers the three partitions into one cell while they run.
TEST_F(Reshape, TheCoherenceEngineGathersARunningPipeline) {
    AgentWorld w(sys());
    constexpr std::uint64_t kN = 600'000;
    const std::size_t src = w.add(edge_node("source", kSource, kN));
    const std::size_t relay = w.add(edge_node("relay", kRelay, kN));
    const std::size_t sink = w.add(edge_node("sink", kSink, kN));
    ASSERT_TRUE(w.runner.connect(src, relay, 8192).ok());
    ASSERT_TRUE(w.runner.connect(relay, sink, 8192).ok());
    w.runner.enable_coherence(true);
    w.runner.start();
    w.runner.wait();
    expect_all_exited(w.runner.reports());
    expect_exact_edges(w, kN);
    for (const std::string& line : w.runner.coherence_proposals()) std::printf("[reshape] %s\n", line.c_str());
    EXPECT_FALSE(w.runner.reshapes().empty()) << "the engine applied nothing";
    EXPECT_EQ(w.runner.cell_of(src), w.runner.cell_of(relay));
    EXPECT_EQ(w.runner.cell_of(sink), w.runner.cell_of(relay));
}

}  // namespace
}  // namespace rvm::test
