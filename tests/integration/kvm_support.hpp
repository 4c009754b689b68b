// KVM integration-test support: the availability policy (STYLE.md 14: loud
// skips) and an AgentWorld -- a real Kernel whose witness log is captured in
// memory, an AgentRunner on /dev/kvm, and the agents' log lines.
//
// Policy: when /dev/kvm cannot be opened, every test skips with a line that
// says so (containing "kvm", so hooks recognize the skip), and prints it to
// stderr as well -- unless RVM_REQUIRE_KVM=1, in which case it fails: CI sets
// it whenever /dev/kvm exists, so integration tests can never silently not run.
#pragma once

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <charconv>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <thread>
#include <vector>

#include "backend/kvm/kvm_system.hpp"
#include "host/posix/monotonic_clock.hpp"
#include "host/runtime/agent_runner.hpp"
#include "host/runtime/builder.hpp"
#include "host/witness/sodium_hash.hpp"
#include "nucleus/kernel.hpp"
#include "support/log_number.hpp"

namespace rvm::test {

inline constexpr const char* kKvmSkipMessage = "KVM NOT AVAILABLE: /dev/kvm missing — integration tests did NOT run";

[[nodiscard]] inline bool kvm_required() {
    const char* v = std::getenv("RVM_REQUIRE_KVM");
    return v != nullptr && std::string_view(v) == "1";
}

[[nodiscard]] inline bool kvm_device_opens() {
    const int fd = ::open("/dev/kvm", O_RDWR | O_CLOEXEC);
    if (fd < 0) return false;
    ::close(fd);
    return true;
}

// Base fixture: SetUp() applies the policy above, then opens KvmSystem (a
// /dev/kvm that opens but that KvmSystem refuses is a failure, not a skip).
class KvmTest : public ::testing::Test {
protected:
    void SetUp() override {
        if (!kvm_device_opens()) {
            if (kvm_required()) {
                FAIL() << "KVM NOT AVAILABLE: /dev/kvm cannot be opened, but RVM_REQUIRE_KVM=1 demands that the "
                          "kvm integration tests run";
            }
            std::fprintf(stderr, "\n*** %s ***\n\n", kKvmSkipMessage);
            GTEST_SKIP() << kKvmSkipMessage;
        }
        auto sys = kvm::KvmSystem::open();
        ASSERT_TRUE(sys.ok()) << "/dev/kvm opens but KvmSystem refuses it (kvm): " << kvm::describe(sys.error());
        sys_ = std::make_unique<kvm::KvmSystem>(std::move(sys.value()));
    }
    [[nodiscard]] const kvm::KvmSystem& sys() const { return *sys_; }

private:
    std::unique_ptr<kvm::KvmSystem> sys_;
};

// Copies each witness record (called under the log's lock; read it only after
// the runner has stopped, or under `mu`).
class RecordSink final : public WitnessSink {
public:
    void accept(const WitnessRecord& r) override {
        std::lock_guard<std::mutex> g(mu);
        records.push_back(r);
    }
    void segment_closed(std::uint64_t, const MacKey&) override {}

    std::mutex mu;
    std::vector<WitnessRecord> records;
};

[[nodiscard]] inline std::vector<std::uint8_t> read_agent(const char* path) {
    auto elf = host::read_agent_image(path);  // the builder's bounded read
    EXPECT_TRUE(elf.ok()) << "cannot read agent " << path;
    return elf.ok() ? std::move(elf.value()) : std::vector<std::uint8_t>{};
}

[[nodiscard]] inline host::PartitionSpec agent_spec(std::string name, const char* path) {
    host::PartitionSpec s;
    s.name = std::move(name);
    s.agent_path = path;
    s.elf = read_agent(path);
    s.wall_time_ns = 20'000'000'000;  // a hung agent fails the test, not CTest's timeout
    return s;
}

// edge_node.c's roles (the high half of its argument's low 40 bits) and its
// blocking bit.
enum Role : std::uint64_t {
    kSource = 0,
    kRelay = 1,
    kSink = 2,
    kPing = 3,
    kPong = 4,
    kLiar = 5,
    kVandal = 6,
    kZSource = 7,
    kZSink = 8,
    kZVandal = 9
};
inline constexpr std::uint64_t kBlocking = 1ull << 40;

// An agent_edge_node partition in `role` with count `n` (agent_spec's wall time).
[[nodiscard]] inline host::PartitionSpec edge_node(const std::string& name, Role role, std::uint64_t n,
                                                   bool blocking = false) {
    host::PartitionSpec s = agent_spec(name, RVM_AGENT_EDGE_NODE_ELF);
    s.arg = n | (std::uint64_t{role} << 32) | (blocking ? kBlocking : 0);
    return s;
}

// Every partition exited with `code`.
inline void expect_all_exited(const std::vector<host::PartitionReport>& reps, std::uint64_t code = 0) {
    for (const auto& r : reps) {
        EXPECT_EQ(r.outcome, host::Outcome::Exited) << r.name << ": " << r.fault;
        EXPECT_EQ(r.exit_code, code) << r.name;
    }
}

// Witness records of `kind`.
[[nodiscard]] inline std::size_t count_kind(const std::vector<WitnessRecord>& recs, std::uint8_t kind) {
    std::size_t n = 0;
    for (const auto& r : recs) n += r.kind() == kind ? 1u : 0u;
    return n;
}

// Witnessed transitions of `pid` into `to`.
[[nodiscard]] inline std::size_t transitions_to(const std::vector<WitnessRecord>& recs, PartitionId pid,
                                                PartitionState to) {
    std::size_t n = 0;
    for (const auto& r : recs) {
        if (r.kind() == RVM_WK_PARTITION_STATE && r.subject() == pid.raw() &&
            ((r.flags() >> 16) & 0xffu) == static_cast<std::uint8_t>(to)) {
            ++n;
        }
    }
    return n;
}

// libsodium is initialized before the first key is drawn.
[[nodiscard]] inline MacKey fresh_key() {
    EXPECT_TRUE(host::sodium_ready());
    return host::random_mac_key();
}

struct LogLine {
    std::string partition;
    std::string text;
};

// A nucleus with a captured witness log and a runner on it.
struct AgentWorld {
    explicit AgentWorld(const kvm::KvmSystem& sys)
        : master(fresh_key()),
          proof_key(fresh_key()),
          log(hash, clock, master, &sink),
          kernel(KernelEnv{hash, clock, proof_key, ProofPolicy{}, &log}),
          runner(kernel, clock, sys, [this](const std::string& p, const std::string& line) {
              std::lock_guard<std::mutex> g(lines_mu);
              lines.push_back({p, line});
          }) {}

    // Adds a partition and expects success; returns its index.
    std::size_t add(const host::PartitionSpec& spec) {
        const auto r = runner.add(spec);
        EXPECT_TRUE(r.ok()) << spec.name << ": " << (r.ok() ? std::string() : r.error());
        return r.ok() ? r.value() : 0;
    }

    // Every log line of `partition`.
    std::vector<std::string> lines_of(const std::string& partition) {
        std::lock_guard<std::mutex> g(lines_mu);
        std::vector<std::string> out;
        for (const auto& l : lines) {
            if (l.partition == partition) out.push_back(l.text);
        }
        return out;
    }
    bool logged(const std::string& partition, std::string_view needle) {
        for (const auto& l : lines_of(partition)) {
            if (l.find(needle) != std::string::npos) return true;
        }
        return false;
    }
    // Polls until `partition` logs a line containing `needle`; returns it.
    std::optional<std::string> wait_for_line(const std::string& partition, std::string_view needle,
                                             std::chrono::milliseconds timeout) {
        const auto deadline = std::chrono::steady_clock::now() + timeout;
        while (std::chrono::steady_clock::now() < deadline) {
            for (const auto& l : lines_of(partition)) {
                if (l.find(needle) != std::string::npos) return l;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(2));
        }
        return std::nullopt;
    }

    std::vector<WitnessRecord> records() {
        std::lock_guard<std::mutex> g(sink.mu);
        return sink.records;
    }

    host::SodiumHash hash;
    host::MonotonicClock clock;
    RecordSink sink;
    MacKey master;
    MacKey proof_key;
    WitnessLog log;
    Kernel kernel;
    std::mutex lines_mu;
    std::vector<LogLine> lines;
    host::AgentRunner runner;  // last: destroyed (threads joined) first
};

}  // namespace rvm::test
