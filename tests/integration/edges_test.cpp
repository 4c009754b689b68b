// CommEdges on KVM (label kvm; guest/examples/edge_node.c): partitions talk
// through shared rings with no exit on the fast path. Ping-pong and a
// pipeline deliver every byte in order (polling and blocking); a receiver
// cannot write the sender's pages; a lying sender cannot crash or hang its
// receiver or the host; a destroyed edge ends both sides cleanly.
#include <string>
#include <vector>

#include "integration/kvm_support.hpp"

namespace rvm::test {
namespace {

host::PartitionSpec node(const std::string& name, Role role, std::uint64_t n, bool blocking = false) {
    host::PartitionSpec s = edge_node(name, role, n, blocking);
    s.wall_time_ns = 30'000'000'000;
    return s;
}

class Edges : public KvmTest {};

void ping_pong(const kvm::KvmSystem& sys, bool blocking, std::uint64_t n) {
    AgentWorld w(sys);
    const std::size_t ping = w.add(node("ping", kPing, n, blocking));
    const std::size_t pong = w.add(node("pong", kPong, n, blocking));
    ASSERT_TRUE(w.runner.connect(ping, pong, 4096).ok());
    ASSERT_TRUE(w.runner.connect(pong, ping, 4096).ok());
    w.runner.start();
    w.runner.wait();
    const auto reps = w.runner.reports();
    expect_all_exited(reps);
    const auto line = w.wait_for_line("ping", "round trips", std::chrono::milliseconds(50));
    ASSERT_TRUE(line.has_value());
    std::printf("[edges] %s: %s\n", blocking ? "blocking" : "polling", line->c_str());
    if (!blocking) {
        // The polling fast path needs no exit per message: a spinning side
        // only exits to yield after 4096 empty polls (an oversubscribed
        // host), never to move a message.
        std::printf("[edges] polling: %lu hypercalls for %lu messages\n",
                    static_cast<unsigned long>(reps[ping].hypercalls + reps[pong].hypercalls),
                    static_cast<unsigned long>(2 * n));
    }
    const auto edges = w.runner.edge_reports();
    ASSERT_EQ(edges.size(), 2u);
    EXPECT_EQ(edges[0].from, "ping");
    EXPECT_EQ(edges[0].to, "pong");
}

TEST_F(Edges, PingPongPollingDeliversEveryMessageInOrder) { ping_pong(sys(), false, 5'000); }

TEST_F(Edges, PingPongBlockingDeliversEveryMessageInOrder) { ping_pong(sys(), true, 2'000); }

TEST_F(Edges, PipelineDeliversEveryByteInOrderAndWeighsItsEdges) {
    AgentWorld w(sys());
    constexpr std::uint64_t kN = 20'000;
    w.runner.enable_coherence();
    const std::size_t src = w.add(node("source", kSource, kN, true));
    const std::size_t r1 = w.add(node("relay1", kRelay, kN, true));
    const std::size_t r2 = w.add(node("relay2", kRelay, kN, true));
    const std::size_t sink = w.add(node("sink", kSink, kN, true));
    ASSERT_TRUE(w.runner.connect(src, r1, 8192).ok());
    ASSERT_TRUE(w.runner.connect(r1, r2, 4096).ok());
    ASSERT_TRUE(w.runner.connect(r2, sink, 65536).ok());
    w.runner.start();
    w.runner.wait();
    expect_all_exited(w.runner.reports());
    EXPECT_TRUE(w.logged("sink", "sink received 20000 in order"));
    // Every edge carried the same payload bytes: sum of the message lengths.
    std::uint64_t payload = 0;
    for (std::uint64_t i = 0; i < kN; ++i) payload += 16 + (i * 7) % 241;
    const auto edges = w.runner.edge_reports();
    ASSERT_EQ(edges.size(), 3u);
    for (const auto& e : edges) {
        EXPECT_EQ(e.bytes, payload) << e.from << " -> " << e.to;
        EXPECT_EQ(e.messages, kN) << e.from << " -> " << e.to;
        EXPECT_GT(e.weight, 0.0) << e.from << " -> " << e.to;
    }
    // The coherence engine saw the traffic (observation only).
    const auto proposals = w.runner.coherence_proposals();
    for (const std::string& p : proposals) std::printf("[edges] coherence: %s\n", p.c_str());
    EXPECT_FALSE(proposals.empty()) << "a pipeline is a chain of heavy edges: the engine proposes to gather it";
    // Witnessed: three edges created.
    const std::size_t created = count_kind(w.records(), RVM_WK_COMMEDGE_CREATE);
    EXPECT_EQ(created, 3u);
}

TEST_F(Edges, AReceiverCannotWriteTheSendersPages) {
    AgentWorld w(sys());
    const std::size_t src = w.add(node("source", kSource, 10));
    const std::size_t vandal = w.add(node("vandal", kVandal, 0));
    ASSERT_TRUE(w.runner.connect(src, vandal, 4096).ok());
    w.runner.start();
    w.runner.wait();
    const auto reps = w.runner.reports();
    EXPECT_EQ(reps[vandal].outcome, host::Outcome::Failed) << "the write must fault";
    EXPECT_FALSE(w.logged("vandal", "did not fault"));
    EXPECT_EQ(reps[src].outcome, host::Outcome::Exited) << reps[src].fault;
    EXPECT_EQ(reps[src].exit_code, 0u);
}

TEST_F(Edges, ALyingSenderCannotCrashOrHangItsReceiver) {
    for (const bool blocking : {false, true}) {
        SCOPED_TRACE(blocking ? "blocking receiver" : "polling receiver");
        AgentWorld w(sys());
        const std::size_t liar = w.add(node("liar", kLiar, 7));
        host::PartitionSpec sink_spec = node("sink", kSink, 1'000'000, blocking);
        sink_spec.wall_time_ns = 5'000'000'000;
        const std::size_t sink = w.add(sink_spec);
        const std::size_t bystander = w.add(agent_spec("bystander", RVM_AGENT_HELLO_ELF));
        ASSERT_TRUE(w.runner.connect(liar, sink, 4096).ok());
        w.runner.start();
        w.runner.wait();
        const auto reps = w.runner.reports();
        EXPECT_EQ(reps[liar].outcome, host::Outcome::Exited);
        // The receiver ends on its own: a detected protocol violation (2), a
        // message that fails its check (1), or -- blocking -- silence (5).
        // A polling receiver may also spin until its wall time if the lies
        // look like an empty ring; what it must never do is fault.
        EXPECT_NE(reps[sink].outcome, host::Outcome::Failed) << reps[sink].fault;
        if (reps[sink].outcome == host::Outcome::Exited) {
            EXPECT_TRUE(reps[sink].exit_code == 1 || reps[sink].exit_code == 2 || reps[sink].exit_code == 5)
                << reps[sink].exit_code;
        }
        if (blocking) {
            EXPECT_EQ(reps[sink].outcome, host::Outcome::Exited);
        }
        EXPECT_EQ(reps[bystander].outcome, host::Outcome::Exited);
    }
}

TEST_F(Edges, AnEdgeDestroyedInUseEndsBothSidesCleanly) {
    for (const bool blocking : {true, false}) {
        SCOPED_TRACE(blocking ? "blocking" : "polling");
        AgentWorld w(sys());
        const std::size_t src = w.add(node("source", kSource, 0xffff'ffff, blocking));
        const std::size_t sink = w.add(node("sink", kSink, 0xffff'ffff, blocking));
        const auto e = w.runner.connect(src, sink, 4096);
        ASSERT_TRUE(e.ok());
        w.runner.start();
        const auto t0 = std::chrono::steady_clock::now();
        bool destroyed = false;
        w.runner.wait([&] {
            if (!destroyed && std::chrono::steady_clock::now() - t0 > std::chrono::milliseconds(200)) {
                destroyed = true;
                EXPECT_TRUE(w.runner.destroy_edge(e.value()).ok());
            }
        });
        ASSERT_TRUE(destroyed);
        for (const auto& r : w.runner.reports()) {
            EXPECT_EQ(r.outcome, host::Outcome::Exited) << r.name << ": " << r.fault;
            EXPECT_EQ(r.exit_code, 4u) << r.name << ": the edge went away";
        }
        EXPECT_FALSE(w.runner.destroy_edge(e.value()).ok()) << "destroyed twice";
        const std::size_t destroys = count_kind(w.records(), RVM_WK_COMMEDGE_DESTROY);
        EXPECT_EQ(destroys, 1u);
    }
}

// Zero-copy (seed 002 6.1): the sender's AppendOnly region, shared read-only
// with the receiver; descriptors name it; the receiver reads in place.
TEST_F(Edges, ZeroCopyStreamDeliversEveryChunkInPlace) {
    for (const bool blocking : {false, true}) {
        SCOPED_TRACE(blocking ? "blocking" : "polling");
        AgentWorld w(sys());
        constexpr std::uint64_t kChunks = 200;
        const std::size_t src = w.add(node("zsource", kZSource, kChunks, blocking));
        const std::size_t sink = w.add(node("zsink", kZSink, kChunks, blocking));
        ASSERT_TRUE(w.runner.connect(src, sink, 4096, 1u << 20).ok());
        ASSERT_TRUE(w.runner.connect(sink, src, 4096).ok());
        w.runner.start();
        w.runner.wait();
        expect_all_exited(w.runner.reports());
        const auto line = w.wait_for_line("zsink", "zsink: 200 chunks of 524288 bytes", std::chrono::milliseconds(50));
        ASSERT_TRUE(line.has_value());
        std::printf("[edges] zero-copy %s: %s\n", blocking ? "blocking" : "polling", line->c_str());
        // Witnessed: the region created for the sender and shared with the receiver.
        const std::size_t shares = count_kind(w.records(), RVM_WK_REGION_SHARE);
        EXPECT_EQ(shares, 1u);
        EXPECT_EQ(w.runner.edge_reports()[0].share, 1u << 20);
    }
}

TEST_F(Edges, AReceiverCannotWriteTheZeroCopyRegion) {
    AgentWorld w(sys());
    const std::size_t src = w.add(node("source", kSource, 1));
    const std::size_t vandal = w.add(node("zvandal", kZVandal, 0));
    ASSERT_TRUE(w.runner.connect(src, vandal, 4096, 64 * 1024).ok());
    w.runner.start();
    w.runner.wait();
    const auto reps = w.runner.reports();
    EXPECT_EQ(reps[vandal].outcome, host::Outcome::Failed) << "the write must fault";
    EXPECT_FALSE(w.logged("zvandal", "did not fault"));
    EXPECT_EQ(reps[src].outcome, host::Outcome::Exited) << reps[src].fault;
}

TEST_F(Edges, ConnectRefusesBadCapacitiesAndSelfEdges) {
    AgentWorld w(sys());
    const std::size_t a = w.add(node("a", kSource, 0));
    const std::size_t b = w.add(node("b", kSink, 0));
    for (const std::uint64_t bad :
         {std::uint64_t{0}, std::uint64_t{2048}, std::uint64_t{5000}, std::uint64_t{2} << 20}) {
        EXPECT_FALSE(w.runner.connect(a, b, bad).ok()) << bad;
    }
    EXPECT_FALSE(w.runner.connect(a, a, 4096).ok());
    EXPECT_FALSE(w.runner.connect(a, 7, 4096).ok());
    for (const std::uint64_t bad : {std::uint64_t{100}, std::uint64_t{4} << 20}) {
        EXPECT_FALSE(w.runner.connect(a, b, 4096, bad).ok()) << "share " << bad;
    }
    EXPECT_TRUE(w.runner.edge_reports().empty()) << "a refused connect leaves nothing behind";
}

}  // namespace
}  // namespace rvm::test
