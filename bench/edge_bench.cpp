// CommEdge ping-pong on KVM (issue 5, benchmarks (a) and (b)), each against
// host baselines in the same run. Every benchmark makes N round trips per
// iteration (N = the benchmark's argument) of the messages of
// guest/examples/edge_node.c: message i is a 16-byte header {u64 seq = i,
// u64 len} and len - 16 pattern bytes, len = 16 + (i * 7) % 241 (16..256).
//   (a) polling   BM_Edge_PingPong_Polling (two partitions, two CommEdges of
//                 4 KiB, both sides spinning on the rings: no exit per
//                 message) vs BM_Baseline_UnixSocketPingPong (two processes,
//                 fork, over a SOCK_SEQPACKET socketpair); goal: 5x faster.
//   (b) blocking  BM_Edge_PingPong_Blocking (the same with the blocking bit:
//                 a side with nothing to read sleeps in notify_wait and is
//                 woken by its peer's notify_signal) vs
//                 BM_Baseline_EventfdPingPong (two threads; the message goes
//                 through a shared buffer, the wake-up through two eventfds,
//                 the closest host analogue of a ring plus notify) and
//                 BM_Baseline_PipePingPong (two threads, the bytes written
//                 through two pipes).
// Time: the Time column is one iteration, i.e. N round trips (manual time,
// ms). The per-round-trip figures are the counters ns_per_rt (total time /
// total round trips) and best_ns_per_rt (the fastest iteration's);
// items_per_second is round trips per second. For the
// edges the time is the ping's own measurement (rvm_clock_ns around its
// loop, parsed from its log line "edge: ping N round trips in X ns"), which
// leaves out partition setup and teardown; wall_ns_per_rt is the ping
// partition's host-side run time (start() to its exit) per round trip, for
// reference. For the baselines it is the steady clock around the ping
// side's loop (the peer is started and torn down outside it). The edges also
// report exits_per_rt and hypercalls_per_rt (both partitions).
// Each side checks what it receives: the guest ping compares every echo in
// full; the host pings compare the length and the first 8 bytes (seq).
// The polling pair needs both CPUs of a two-CPU machine: other load on it
// (a CI job) makes its sides yield (exits_per_rt rises) and its time grows
// tenfold or more. The baselines' wake-ups suffer too (a wake-up across
// vCPUs can cost tens of microseconds in a VM), so compare best_ns_per_rt
// when the machine is busy. Without /dev/kvm the edge benchmarks skip with
// an error that says "KVM".
#include <benchmark/benchmark.h>

#include <fcntl.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "backend/unique_fd.hpp"
#include "host/runtime/agent_runner.hpp"
#include "kvm_bench_env.hpp"

namespace {

using namespace rvm;
using bench::number_after;
using bench::skip_without;
using Clock = std::chrono::steady_clock;

constexpr std::uint64_t kRolePing = 3;  // edge_node.c's roles
constexpr std::uint64_t kRolePong = 4;
constexpr std::uint64_t kBlocking = 1ull << 40;
constexpr std::uint64_t kEdgeCapacity = 4096;
constexpr std::size_t kMaxMsg = 256;

// ---------------------------------------------------------------- messages

std::uint64_t msg_len(std::uint64_t i) { return 16u + (i * 7u) % 241u; }

// Builds message i into `m` (as edge_node.c's make_msg); returns its length.
std::size_t make_msg(std::uint8_t* m, std::uint64_t i) {
    const std::uint64_t len = msg_len(i);
    std::memcpy(m, &i, 8);
    std::memcpy(m + 8, &len, 8);
    for (std::uint64_t j = 16; j < len; ++j) m[j] = static_cast<std::uint8_t>((i * 31u + j) & 0xffu);
    return len;
}

bool echo_ok(const std::uint8_t* m, std::size_t len, std::uint64_t i) {
    std::uint64_t seq = 0;
    std::memcpy(&seq, m, 8);
    return len == msg_len(i) && seq == i;
}

// Totals over a benchmark's iterations, and its best iteration: on a shared
// two-CPU machine one busy moment can stall a whole polling batch, so the
// best batch is the closest to the uncontended cost.
struct Tally {
    double seconds = 0;
    std::uint64_t round_trips = 0;
    double best_ns_per_rt = 0;

    void add(double s, std::uint64_t n) {
        seconds += s;
        round_trips += n;
        const double per = s * 1e9 / static_cast<double>(n);
        if (best_ns_per_rt == 0 || per < best_ns_per_rt) best_ns_per_rt = per;
    }
    void report(benchmark::State& state) const {
        state.counters["ns_per_rt"] = round_trips != 0 ? seconds * 1e9 / static_cast<double>(round_trips) : 0;
        state.counters["best_ns_per_rt"] = best_ns_per_rt;
        state.SetItemsProcessed(static_cast<std::int64_t>(round_trips));
    }
};

// ---------------------------------------------------------------- edges

struct EdgeEnv : bench::KvmBenchEnv {
    std::vector<std::uint8_t> elf;

    EdgeEnv() {
        if (!error.empty()) return;
#if defined(RVM_AGENT_EDGE_NODE_ELF)
        elf = agent(RVM_AGENT_EDGE_NODE_ELF);
#else
        error = "agent_edge_node was not built (KVM benchmarks)";
#endif
    }

    static EdgeEnv& get() {
        static EdgeEnv env;
        return env;
    }
};

struct EdgeRun {
    std::uint64_t guest_ns = 0;  // the ping's own measurement of its loop
    std::uint64_t run_ns = 0;    // the ping partition's run time on the host
    std::uint64_t exits = 0;     // both partitions
    std::uint64_t hypercalls = 0;
};

host::PartitionSpec node(const EdgeEnv& env, const char* name, std::uint64_t role, std::uint64_t n, bool blocking) {
    host::PartitionSpec s;
    s.name = name;
    s.elf = env.elf;
    s.arg = n | (role << 32) | (blocking ? kBlocking : 0);
    s.wall_time_ns = 20'000'000'000;
    return s;
}

// One ping-pong pair as edges_test.cpp builds it: ping -> pong on edge 0 of
// each, pong -> ping on edge 1; both run to their exit.
Result<EdgeRun, std::string> edge_ping_pong(EdgeEnv& env, std::uint64_t n, bool blocking) {
    std::mutex mu;
    std::string ping_line;
    host::AgentRunner runner(*env.kernel, env.clock, *env.sys, [&](const std::string& part, const std::string& line) {
        std::lock_guard<std::mutex> g(mu);
        if (part == "ping" && line.find("round trips in") != std::string::npos) ping_line = line;
    });
    const auto ping = runner.add(node(env, "ping", kRolePing, n, blocking));
    if (!ping) return err("ping: " + ping.error());
    const auto pong = runner.add(node(env, "pong", kRolePong, n, blocking));
    if (!pong) return err("pong: " + pong.error());
    if (auto e = runner.connect(ping.value(), pong.value(), kEdgeCapacity); !e) return err(e.error());
    if (auto e = runner.connect(pong.value(), ping.value(), kEdgeCapacity); !e) return err(e.error());
    runner.start();
    runner.wait();
    const auto reps = runner.reports();
    runner.destroy_all();
    EdgeRun out;
    for (const auto& r : reps) {
        if (r.outcome != host::Outcome::Exited || r.exit_code != 0) {
            return err(r.name + " did not exit cleanly (exit code " + std::to_string(r.exit_code) + ") " + r.fault);
        }
        out.exits += r.exits;
        out.hypercalls += r.hypercalls;
    }
    out.run_ns = reps[ping.value()].run_ns;
    std::lock_guard<std::mutex> g(mu);
    const auto trips = number_after(ping_line, "ping ");
    const auto ns = number_after(ping_line, "round trips in ");
    if (trips != n || !ns) return err("the ping did not log its round trips: \"" + ping_line + "\"");
    out.guest_ns = *ns;
    return out;
}

void edge_bench(benchmark::State& state, bool blocking) {
    EdgeEnv& env = EdgeEnv::get();
    if (skip_without(state, env.error)) return;
    const auto n = static_cast<std::uint64_t>(state.range(0));
    Tally tally;
    double wall = 0;
    std::uint64_t exits = 0, hypercalls = 0;
    for (auto _ : state) {
        const auto r = edge_ping_pong(env, n, blocking);
        if (!r) {
            state.SkipWithError(r.error().c_str());
            return;
        }
        const double s = static_cast<double>(r.value().guest_ns) / 1e9;
        state.SetIterationTime(s);
        tally.add(s, n);
        wall += static_cast<double>(r.value().run_ns) / 1e9;
        exits += r.value().exits;
        hypercalls += r.value().hypercalls;
    }
    tally.report(state);
    const double t = tally.round_trips != 0 ? static_cast<double>(tally.round_trips) : 1.0;
    state.counters["wall_ns_per_rt"] = wall * 1e9 / t;
    state.counters["exits_per_rt"] = static_cast<double>(exits) / t;
    state.counters["hypercalls_per_rt"] = static_cast<double>(hypercalls) / t;
}

void BM_Edge_PingPong_Polling(benchmark::State& state) { edge_bench(state, false); }
void BM_Edge_PingPong_Blocking(benchmark::State& state) { edge_bench(state, true); }

// (c) Zero-copy streaming (seed 002 6.1): edge_node's zsource fills each
// 512 KiB half of a 1 MiB region it shares read-only with zsink and sends a
// descriptor; zsink checks every word in place and acknowledges on a second
// edge. Bytes per second as the sink measures them (guest clock), polling.
// Baseline: host memcpy of the same 512 KiB chunks (what a copying channel
// pays at the very least, before either side touches the data).
constexpr std::uint64_t kChunk = 512 * 1024;

void BM_Edge_ZeroCopy_Stream(benchmark::State& state) {
    EdgeEnv& env = EdgeEnv::get();
    if (skip_without(state, env.error)) return;
    const auto n = static_cast<std::uint64_t>(state.range(0));
    std::uint64_t bytes = 0;
    for (auto _ : state) {
        std::mutex mu;
        std::string line;
        host::AgentRunner runner(*env.kernel, env.clock, *env.sys, [&](const std::string&, const std::string& l) {
            std::lock_guard<std::mutex> g(mu);
            if (l.find("zsink: ") != std::string::npos) line = l;
        });
        const auto src = runner.add(node(env, "zsource", 7, n, false));
        const auto sink = runner.add(node(env, "zsink", 8, n, false));
        if (!src || !sink || !runner.connect(src.value(), sink.value(), 4096, 2 * kChunk) ||
            !runner.connect(sink.value(), src.value(), 4096)) {
            state.SkipWithError("zero-copy pair: setup refused");
            return;
        }
        runner.start();
        runner.wait();
        runner.destroy_all();
        std::lock_guard<std::mutex> g(mu);
        const auto ns = number_after(line, " bytes in ");
        if (!ns || *ns == 0) {
            state.SkipWithError(("zsink did not report: \"" + line + "\"").c_str());
            return;
        }
        state.SetIterationTime(static_cast<double>(*ns) / 1e9);
        bytes += n * kChunk;
    }
    state.SetBytesProcessed(static_cast<std::int64_t>(bytes));
}

void BM_Baseline_Memcpy512K(benchmark::State& state) {
    std::vector<std::uint64_t> a(kChunk / 8, 1), b(kChunk / 8, 0);
    for (auto _ : state) {
        std::memcpy(b.data(), a.data(), kChunk);
        benchmark::DoNotOptimize(b.data());
        benchmark::ClobberMemory();
        ++a[0];
    }
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * static_cast<std::int64_t>(kChunk));
}

// ---------------------------------------------------------------- host baselines

bool write_all(int fd, const std::uint8_t* p, std::size_t len) {
    while (len > 0) {
        const ssize_t w = ::write(fd, p, len);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return false;
        p += w;
        len -= static_cast<std::size_t>(w);
    }
    return true;
}

// Reads exactly `len` bytes (a byte stream: a pipe).
bool read_all(int fd, std::uint8_t* p, std::size_t len) {
    while (len > 0) {
        const ssize_t r = ::read(fd, p, len);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) return false;
        p += r;
        len -= static_cast<std::size_t>(r);
    }
    return true;
}

// Reads one message (a SOCK_SEQPACKET socket); its length, or -1.
ssize_t read_packet(int fd, std::uint8_t* p) {
    for (;;) {
        const ssize_t r = ::read(fd, p, kMaxMsg);
        if (r < 0 && errno == EINTR) continue;
        return r;
    }
}

// The ping side shared by the baselines: for each i, `send(i, msg, len)`
// then `recv(i, buf) -> length or -1`; checks each echo. Returns the loop's
// seconds, or an error.
template <class Send, class Recv>
Result<double, std::string> host_ping(std::uint64_t n, Send&& send, Recv&& recv) {
    std::array<std::uint8_t, kMaxMsg> msg{};
    std::array<std::uint8_t, kMaxMsg> buf{};
    const auto t0 = Clock::now();
    for (std::uint64_t i = 0; i < n; ++i) {
        const std::size_t len = make_msg(msg.data(), i);
        if (!send(i, msg.data(), len)) return err(std::string("send failed: ") + std::strerror(errno));
        const ssize_t got = recv(i, buf.data());
        if (got < 0 || !echo_ok(buf.data(), static_cast<std::size_t>(got), i)) {
            return err("echo " + std::to_string(i) + " is wrong or missing");
        }
    }
    return std::chrono::duration<double>(Clock::now() - t0).count();
}

// One batch over a fresh socketpair: the child process echoes n messages.
Result<double, std::string> unix_socket_batch(std::uint64_t n) {
    int sv[2];
    if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0) {
        return err(std::string("socketpair: ") + std::strerror(errno));
    }
    UniqueFd mine(sv[0]), theirs(sv[1]);
    const pid_t child = ::fork();
    if (child < 0) return err(std::string("fork: ") + std::strerror(errno));
    if (child == 0) {
        // The pong process: only close, read, write and _exit (async-signal-safe).
        mine.reset();  // so that the parent's close ends a read here
        std::array<std::uint8_t, kMaxMsg> buf{};
        for (std::uint64_t i = 0; i < n; ++i) {
            const ssize_t got = read_packet(theirs.get(), buf.data());
            if (got <= 0 || !write_all(theirs.get(), buf.data(), static_cast<std::size_t>(got))) ::_exit(1);
        }
        ::_exit(0);
    }
    theirs.reset();
    auto r = host_ping(
        n, [&](std::uint64_t, const std::uint8_t* m, std::size_t len) { return write_all(mine.get(), m, len); },
        [&](std::uint64_t, std::uint8_t* b) { return read_packet(mine.get(), b); });
    mine.reset();  // a child still reading sees the end and exits
    int status = 0;
    while (::waitpid(child, &status, 0) < 0 && errno == EINTR) {
    }
    if (r && !(WIFEXITED(status) && WEXITSTATUS(status) == 0)) return err(std::string("the pong process failed"));
    return r;
}

// One batch over two fresh pipes: a thread echoes n messages.
Result<double, std::string> pipe_batch(std::uint64_t n) {
    int a[2], b[2];
    if (::pipe2(a, O_CLOEXEC) != 0) return err(std::string("pipe2: ") + std::strerror(errno));
    UniqueFd a_read(a[0]), a_write(a[1]);
    if (::pipe2(b, O_CLOEXEC) != 0) return err(std::string("pipe2: ") + std::strerror(errno));
    UniqueFd b_read(b[0]), b_write(b[1]);
    std::thread pong([&] {
        std::array<std::uint8_t, kMaxMsg> buf{};
        for (std::uint64_t i = 0; i < n; ++i) {
            const std::size_t len = msg_len(i);
            if (!read_all(a_read.get(), buf.data(), len) || !write_all(b_write.get(), buf.data(), len)) return;
        }
    });
    auto r = host_ping(
        n, [&](std::uint64_t, const std::uint8_t* m, std::size_t len) { return write_all(a_write.get(), m, len); },
        [&](std::uint64_t i, std::uint8_t* buf) {
            return read_all(b_read.get(), buf, msg_len(i)) ? static_cast<ssize_t>(msg_len(i)) : -1;
        });
    a_write.reset();  // a pong still reading sees the end and returns
    pong.join();
    return r;
}

// One batch through a shared buffer and two fresh eventfds: a thread copies
// each request into the reply. The lengths are atomics (release before the
// signal, acquire after the wait), which orders the buffer copies.
Result<double, std::string> eventfd_batch(std::uint64_t n) {
    UniqueFd to_pong(::eventfd(0, EFD_CLOEXEC));
    UniqueFd to_ping(::eventfd(0, EFD_CLOEXEC));
    if (!to_pong.valid() || !to_ping.valid()) return err(std::string("eventfd: ") + std::strerror(errno));
    std::array<std::uint8_t, kMaxMsg> request{}, reply{};
    std::atomic<std::size_t> request_len{0}, reply_len{0};
    std::atomic<bool> abort{false};
    const auto signal = [](int fd) {
        const std::uint64_t one = 1;
        return ::write(fd, &one, sizeof one) == static_cast<ssize_t>(sizeof one);
    };
    const auto wait = [](int fd) {
        std::uint64_t v = 0;
        for (;;) {
            const ssize_t r = ::read(fd, &v, sizeof v);
            if (r < 0 && errno == EINTR) continue;
            return r == static_cast<ssize_t>(sizeof v);
        }
    };
    std::thread pong([&] {
        for (std::uint64_t i = 0; i < n; ++i) {
            if (!wait(to_pong.get()) || abort.load(std::memory_order_relaxed)) return;
            const std::size_t len = request_len.load(std::memory_order_acquire);
            std::memcpy(reply.data(), request.data(), len);
            reply_len.store(len, std::memory_order_release);
            if (!signal(to_ping.get())) return;
        }
    });
    auto r = host_ping(
        n,
        [&](std::uint64_t, const std::uint8_t* m, std::size_t len) {
            std::memcpy(request.data(), m, len);
            request_len.store(len, std::memory_order_release);
            return signal(to_pong.get());
        },
        [&](std::uint64_t, std::uint8_t* buf) -> ssize_t {
            if (!wait(to_ping.get())) return -1;
            const std::size_t len = reply_len.load(std::memory_order_acquire);
            std::memcpy(buf, reply.data(), len);
            return static_cast<ssize_t>(len);
        });
    if (!r) {
        abort = true;
        (void)signal(to_pong.get());  // a pong still waiting wakes and returns
    }
    pong.join();
    return r;
}

template <class Batch>
void host_bench(benchmark::State& state, Batch&& batch) {
    const auto n = static_cast<std::uint64_t>(state.range(0));
    Tally tally;
    for (auto _ : state) {
        const auto r = batch(n);
        if (!r) {
            state.SkipWithError(r.error().c_str());
            return;
        }
        state.SetIterationTime(r.value());
        tally.add(r.value(), n);
    }
    tally.report(state);
}

void BM_Baseline_UnixSocketPingPong(benchmark::State& state) { host_bench(state, unix_socket_batch); }
void BM_Baseline_EventfdPingPong(benchmark::State& state) { host_bench(state, eventfd_batch); }
void BM_Baseline_PipePingPong(benchmark::State& state) { host_bench(state, pipe_batch); }

// N round trips per iteration, three iterations: a fixed amount of work, so
// that --benchmark_min_time=0.001 (the CI smoke run) takes as long as a full
// run, a few seconds for the whole file.
constexpr std::int64_t kPollingTrips = 20'000;
constexpr std::int64_t kBlockingTrips = 5'000;

BENCHMARK(BM_Edge_ZeroCopy_Stream)->Arg(400)->Unit(benchmark::kMillisecond)->UseManualTime()->Iterations(3);
BENCHMARK(BM_Baseline_Memcpy512K);
BENCHMARK(BM_Edge_PingPong_Polling)->Arg(kPollingTrips)->Unit(benchmark::kMillisecond)->UseManualTime()->Iterations(3);
BENCHMARK(BM_Baseline_UnixSocketPingPong)
    ->Arg(kPollingTrips)
    ->Unit(benchmark::kMillisecond)
    ->UseManualTime()
    ->Iterations(3);
BENCHMARK(BM_Edge_PingPong_Blocking)
    ->Arg(kBlockingTrips)
    ->Unit(benchmark::kMillisecond)
    ->UseManualTime()
    ->Iterations(3);
BENCHMARK(BM_Baseline_EventfdPingPong)
    ->Arg(kBlockingTrips)
    ->Unit(benchmark::kMillisecond)
    ->UseManualTime()
    ->Iterations(3);
BENCHMARK(BM_Baseline_PipePingPong)->Arg(kBlockingTrips)->Unit(benchmark::kMillisecond)->UseManualTime()->Iterations(3);

}  // namespace
