#include "cli/run_cmd.hpp"

#include <fmt/core.h>

#include <pthread.h>
#include <sys/stat.h>

#include <atomic>
#include <csignal>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <ctime>
#include <memory>
#include <mutex>

#include "backend/kvm/kvm_system.hpp"
#include "cli/witness_cmd.hpp"
#include "host/config/manifest.hpp"
#include "host/posix/monotonic_clock.hpp"
#include "host/posix/posix_io.hpp"
#include "host/runtime/agent_runner.hpp"
#include "host/runtime/builder.hpp"
#include "host/runtime/stats_report.hpp"
#include "host/witness/forward_secure.hpp"
#include "host/witness/sodium_hash.hpp"
#include "host/witness/witness_file.hpp"

namespace rvm::cli {

namespace {

void print_summary(const std::vector<host::PartitionReport>& reports) {
    // Ψ: the partition's transition-intensity state and the share of recent
    // epochs it spent transitioning (not Linux pressure stall information).
    fmt::print("\n{:<16} {:<10} {:>5} {:>10} {:>11} {:>10} {:>4} {:>6}  {}\n", "partition", "state", "exit", "exits",
               "hypercalls", "time (ms)", "psi", "psi %", "detail");
    for (const auto& r : reports) {
        std::string detail = r.fault;
        if (r.throttled_ns > 0) {
            detail += fmt::format("{}held {:.1f} ms by the Ψ policy", detail.empty() ? "" : "; ",
                                  static_cast<double>(r.throttled_ns) / 1e6);
        }
        if (r.log_dropped > 0) {
            detail += fmt::format("{}{} log lines dropped", detail.empty() ? "" : "; ", r.log_dropped);
        }
        fmt::print("{:<16} {:<10} {:>5} {:>10} {:>11} {:>10.1f} {:>4} {:>6.1f}  {}\n", r.name,
                   host::outcome_name(r.outcome),
                   r.outcome == host::Outcome::Exited ? fmt::format("{}", r.exit_code) : std::string("-"), r.exits,
                   r.hypercalls, static_cast<double>(r.run_ns) / 1e6, psi_state_name(r.psi.state), r.psi.ratio_percent,
                   detail);
    }
}

// --- witness log creation (docs/witness-format.md) -------------------------
// Every run writes a witness log (INV-3): to --witness, the manifest's [run]
// witness, or by default $XDG_STATE_HOME/rvm/rvm-<UTC time>-<pid>.witness, or
// ./rvm-<UTC time>-<pid>.witness without XDG_STATE_HOME. Signed with the key of `signing_key` (`rvm keygen`)
// or a fresh one; forward-secure sealed when `fss_state` is given.
std::string default_witness_path() {
    const std::time_t now = std::time(nullptr);
    std::tm utc{};
    (void)gmtime_r(&now, &utc);
    char stamp[32] = {};
    (void)std::strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%SZ", &utc);
    std::string name = fmt::format("rvm-{}-{}.witness", stamp, ::getpid());
    const char* state = std::getenv("XDG_STATE_HOME");
    if (state == nullptr || *state == '\0') return name;
    // XDG: create the state directory (and $XDG_STATE_HOME itself) 0700 if missing.
    const std::string dir = std::string(state) + "/rvm";
    for (const std::string& d : {std::string(state), dir}) {
        if (::mkdir(d.c_str(), 0700) != 0 && errno != EEXIST) return name;
    }
    return dir + "/" + name;
}

std::unique_ptr<host::WitnessFileWriter> create_witness_writer(const std::string& path, const std::string& signing_key,
                                                               const std::string& fss_state) {
    auto keys = signing_key.empty() ? host::SigningKeyPair::generate() : host::SigningKeyPair::load(signing_key);
    if (!keys) {
        fmt::print(stderr, "rvm: cannot use signing key {}: {}\n", signing_key, host::describe(keys.error()));
        return nullptr;
    }
    host::WitnessWriterOptions options;
    if (!fss_state.empty()) {
        auto state = host::FssSealingState::load(fss_state);
        if (!state) {
            fmt::print(stderr, "rvm: cannot use sealing state {}: {}\n", fss_state, host::describe(state.error()));
            return nullptr;
        }
        options.forward_secure = std::make_unique<host::FssSealingState>(std::move(state.value()));
    }
    auto w = host::WitnessFileWriter::create(path, keys.value(), std::move(options));
    if (!w) {
        fmt::print(stderr, "rvm: cannot create witness log {}: {}\n", path, host::describe(w.error()));
        return nullptr;
    }
    fmt::print("rvm: witness log {} ({}{})\n", path,
               signing_key.empty() ? "ephemeral signing key; its public key is only in " + path + ".pub"
                                   : "signed with " + signing_key,
               fss_state.empty() ? "" : ", forward-secure sealed");
    return std::move(w.value());
}
// --- end of witness log creation ---------------------------------------------

std::atomic<int> g_stop_signal{0};

// The first signal asks for an orderly stop; a second one ends the process.
extern "C" void on_stop_signal(int sig) {
    g_stop_signal.store(sig);
    struct sigaction dfl {};
    dfl.sa_handler = SIG_DFL;
    (void)sigaction(sig, &dfl, nullptr);
}

// Installs the stop handlers and blocks the signals in the calling thread, so
// that the threads it starts (task threads, the scheduler) inherit the mask;
// unblock() then lets the supervisor alone take them.
class StopSignals {
public:
    StopSignals() {
        sigemptyset(&set_);
        for (const int s : {SIGINT, SIGTERM, SIGHUP}) {
            sigaddset(&set_, s);
            struct sigaction sa {};
            sa.sa_handler = on_stop_signal;
            sigemptyset(&sa.sa_mask);
            (void)sigaction(s, &sa, nullptr);
        }
        (void)pthread_sigmask(SIG_BLOCK, &set_, nullptr);
    }
    void unblock() const { (void)pthread_sigmask(SIG_UNBLOCK, &set_, nullptr); }

private:
    sigset_t set_{};
};

}  // namespace

RunCommand::RunCommand(CLI::App& app) {
    CLI::App* run = app.add_subcommand("run", "Start the agent partitions a TOML manifest describes on KVM");
    run->add_option("manifest", manifest_, "Manifest file (docs/manifest.md)")->required();
    run->add_option("--witness", witness_,
                    "Witness log to create (overrides the manifest's [run] witness); default "
                    "$XDG_STATE_HOME/rvm/rvm-<UTC time>-<pid>.witness, or ./rvm-<UTC time>-<pid>.witness");
    run->add_option("--signing-key", signing_key_,
                    "Ed25519 secret key file from `rvm keygen` to seal the witness log with (default: a fresh key "
                    "whose public half is written only to LOG.pub)");
    run->add_option("--fss-state", fss_state_,
                    "forward-secure sealing state (KEY.fss from `rvm keygen --forward-secure`); evolved and "
                    "rewritten as epochs pass");
    run->add_option("--stats", stats_,
                    "Write the Ψ and exit statistics of every partition and vCPU as JSON to this new file "
                    "(read it with `rvm stats`)");
    run->add_flag("--no-sandbox", no_sandbox_,
                  "Do not sandbox the hypervisor process (by default, once the partitions are built, it runs "
                  "under seccomp allowlists with no_new_privs and every capability but CAP_SYS_NICE dropped; "
                  "docs/security.md)");
    run->callback([this] { exit_code_ = this->run(); });
}

int RunCommand::run() const {
    const auto manifest = host::load_manifest(manifest_);
    if (!manifest) {
        fmt::print(stderr, "rvm: {}\n", manifest.error().message());
        return kExitUsage;
    }
    const host::Manifest& m = manifest.value();
    // Checked before anything runs: the statistics file must be new.
    if (struct stat st{}; !stats_.empty() && ::lstat(stats_.c_str(), &st) == 0) {
        fmt::print(stderr, "rvm: --stats {}: the file exists (rvm writes a new file only)\n", stats_);
        return kExitUsage;
    }
    const auto kvm = kvm::KvmSystem::open();
    if (!kvm) {
        fmt::print(stderr, "rvm: cannot use KVM: {}\n", kvm::describe(kvm.error()));
        return kExitUsage;
    }
    if (!host::sodium_ready()) {
        fmt::print(stderr, "rvm: libsodium could not be initialized\n");
        return kExitUsage;
    }
    const std::string witness_path = !witness_.empty()             ? witness_
                                     : !m.run.witness_path.empty() ? m.run.witness_path
                                                                   : default_witness_path();
    std::unique_ptr<host::WitnessFileWriter> writer = create_witness_writer(witness_path, signing_key_, fss_state_);
    if (!writer) return kExitUsage;
    host::SodiumHash hash;
    host::MonotonicClock clock;
    WitnessLog log(hash, clock, host::random_mac_key(), writer.get());
    auto kernel = std::make_unique<Kernel>(KernelEnv{hash, clock, host::random_mac_key(), ProofPolicy{}, &log});

    std::mutex out_mu;
    auto built = host::build(m, *kernel, clock, kvm.value(), [&](const std::string& name, const std::string& line) {
        std::lock_guard<std::mutex> g(out_mu);
        fmt::print("[{}] {}\n", name, line);
        std::fflush(stdout);
    });
    if (!built) {
        fmt::print(stderr, "rvm: {}\n", built.error().message());
        return kExitUsage;
    }
    host::AgentRunner& runner = *built.value();
    fmt::print("rvm: running {} partition(s){} from {}{}{}\n", m.partitions.size(),
               m.edges.empty() ? std::string() : fmt::format(" and {} edge(s)", m.edges.size()), manifest_,
               m.run.psi_policy ? " (Ψ policy enforced)" : "", m.run.rvm_scheduler ? " (RVM scheduler)" : "");
    if (!no_sandbox_) {
        const auto sb = runner.enter_sandbox(host::SandboxOptions{!fss_state_.empty()});
        if (!sb) {
            fmt::print(stderr, "rvm: cannot sandbox the process: {} (--no-sandbox runs without)\n", sb.error());
            return kExitUsage;
        }
        fmt::print("rvm: sandboxed: seccomp allowlists ({} system calls, {} on task threads), no_new_privs, {}\n",
                   sb.value().process_rules, sb.value().vcpu_rules,
                   sb.value().caps_dropped ? "capabilities dropped but CAP_SYS_NICE" : "capabilities NOT dropped");
    }
    std::fflush(stdout);
    // SIGINT, SIGTERM and SIGHUP stop the run in order (partitions stopped,
    // the log sealed, the summary printed); the task threads never take them.
    const StopSignals signals;
    runner.start();
    signals.unblock();
    bool witness_stopped = false;
    bool stopping = false;
    runner.wait([&] {
        if (writer->wants_flush()) (void)writer->flush();
        // Fail closed: a witness write error (ENOSPC, EIO) ends the run.
        if (writer->failed() && !witness_stopped) {
            witness_stopped = true;
            fmt::print(stderr, "rvm: the witness log cannot be written: {}; stopping every partition\n",
                       host::describe(*writer->error()));
        }
        if ((witness_stopped || g_stop_signal.load() != 0) && !stopping) {
            stopping = true;
            runner.stop_all();
        }
    });
    const auto reports = runner.reports();
    const auto edge_reports = runner.edge_reports();
    const auto reshapes = runner.reshapes();
    std::vector<unsigned> cells;
    for (std::size_t i = 0; i < reports.size(); ++i) cells.push_back(runner.cell_of(i));
    const std::string stats_doc = host::stats_json(reports, runner.psi().host_view());
    runner.destroy_all();
    print_summary(reports);
    if (!edge_reports.empty()) {
        fmt::print("\n{:<16} {:<16} {:>10} {:>12} {:>14} {:>14}\n", "edge from", "to", "capacity", "messages", "bytes",
                   "weight");
        for (const auto& e : edge_reports) {
            fmt::print("{:<16} {:<16} {:>10} {:>12} {:>14} {:>14.0f}\n", e.from, e.to, e.capacity, e.messages, e.bytes,
                       e.weight);
        }
    }
    if (m.run.reshape) {
        fmt::print("\ncells (VMs) at the end, after {} live reshape(s):", reshapes.size());
        for (std::size_t i = 0; i < reports.size(); ++i) fmt::print(" {}={}", reports[i].name, cells[i]);
        fmt::print("\n");
    }
    if (!stats_.empty()) {
        const auto* b = reinterpret_cast<const std::uint8_t*>(stats_doc.data());  // SAFETY: viewing chars as bytes
        const auto w = host::write_new_file(stats_, std::span<const std::uint8_t>(b, stats_doc.size()), 0644);
        if (!w) fmt::print(stderr, "rvm: cannot write statistics to {}: {}\n", stats_, host::describe(w.error()));
    }

    // The sealed end marker: the log verifies as complete.
    const auto closed = writer->close();
    const WitnessHead head = log.head();
    if (!closed) {
        fmt::print(stderr, "rvm: writing the witness log {} failed: {}; what is on disk verifies up to its last seal\n",
                   witness_path, host::describe(closed.error()));
    }
    fmt::print("witness: {} records, head {:016x} in {}{}\n", head.next_sequence, head.last_hash, witness_path,
               closed ? "" : " (INCOMPLETE)");
    if (const int sig = g_stop_signal.load(); sig != 0) {
        fmt::print(stderr, "rvm: stopped by signal {}\n", sig);
        return 128 + sig;
    }
    if (!closed || witness_stopped) return 1;
    bool bad = false;
    for (const auto& r : reports)
        bad = bad || r.outcome == host::Outcome::Failed || r.outcome == host::Outcome::TimedOut;
    return bad ? 1 : 0;
}

StatsCommand::StatsCommand(CLI::App& app) {
    CLI::App* stats = app.add_subcommand(
        "stats", "Show the per-partition and per-vCPU Ψ (transition intensity) state and exit counts of a run");
    stats->add_option("file", file_, "Statistics written by `rvm run --stats FILE`")->required();
    stats->add_flag("--json", json_, "Print the report as JSON instead of a table");
    stats->callback([this] { exit_code_ = show(); });
}

int StatsCommand::show() const {
    const auto bytes = host::read_file(file_, host::kStatsMaxBytes);
    if (!bytes) {
        fmt::print(stderr, "rvm: {}: {}\n", file_, host::describe(bytes.error()));
        return kExitUsage;
    }
    const std::string text(bytes.value().begin(), bytes.value().end());
    const auto out = host::render_stats(text, json_);
    if (!out) {
        fmt::print(stderr, "rvm: {}: {}\n", file_, out.error());
        return kExitUsage;
    }
    fmt::print("{}", out.value());
    return 0;
}

}  // namespace rvm::cli
