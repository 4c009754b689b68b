#include "cli/run_cmd.hpp"

#include <fmt/core.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <memory>
#include <mutex>

#include "backend/kvm/kvm_system.hpp"
#include "cli/wasm_cmd.hpp"  // wasm (issue 15)
#include "cli/witness_cmd.hpp"
#include "host/agent_runner.hpp"
#include "host/manifest.hpp"
#include "host/monotonic_clock.hpp"
#include "host/posix_io.hpp"
#include "host/sodium_hash.hpp"
#include "host/stats_report.hpp"
#include "host/witness_file.hpp"

namespace rvm::cli {

namespace {

constexpr std::size_t kMaxAgentBytes = 64u << 20;

host::AgentSpec to_spec(const host::PartitionSpec& p, std::vector<std::uint8_t> elf) {
    host::AgentSpec s;
    s.name = p.name;
    s.elf = std::move(elf);
    s.memory = p.memory_bytes;
    s.stack_size = p.stack_bytes;
    s.tasks = p.tasks;
    s.max_tasks = p.max_tasks;
    s.wall_time_ns = static_cast<std::uint64_t>(p.wall_time.count()) * 1'000'000u;
    s.log_rate = p.log_rate;
    s.arg = p.arg;
    s.profile = p.kernel_profile ? host::Profile::Kernel : host::Profile::Agent;
    s.period_ns = static_cast<std::uint64_t>(p.period.count()) * 1'000'000u;
    s.deadline_ns = static_cast<std::uint64_t>(p.deadline.count()) * 1'000'000u;
    s.budget_ns = static_cast<std::uint64_t>(p.budget.count()) * 1'000'000u;
    s.critical = p.critical;
    return s;
}

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

}  // namespace

RunCommand::RunCommand(CLI::App& app) {
    CLI::App* run = app.add_subcommand("run", "Start the agent partitions a TOML manifest describes on KVM");
    run->add_option("manifest", manifest_, "Manifest file (docs/manifest.md)")->required();
    run->add_option("--witness", witness_, "Witness log to create (overrides the manifest's [run] witness)");
    run->add_option("--stats", stats_,
                    "Write the Ψ and exit statistics of every partition and vCPU as JSON to this new file "
                    "(read it with `rvm stats`)");
    run->callback([this] { exit_code_ = this->run(); });
}

int RunCommand::run() const {
    const auto manifest = host::load_manifest(manifest_);
    if (!manifest) {
        fmt::print(stderr, "rvm: {}\n", manifest.error().message());
        return kExitUsage;
    }
    const host::Manifest& m = manifest.value();
    const auto kvm = kvm::KvmSystem::open();
    if (!kvm) {
        fmt::print(stderr, "rvm: cannot use KVM: {}\n", kvm::describe(kvm.error()));
        return kExitUsage;
    }
    if (!host::sodium_ready()) {
        fmt::print(stderr, "rvm: libsodium could not be initialized\n");
        return kExitUsage;
    }
    std::unique_ptr<host::WitnessFileWriter> writer;
    const std::string witness_path = witness_.empty() ? m.run.witness_path : witness_;
    if (!witness_path.empty()) {
        auto keys = host::SigningKeyPair::generate();
        if (!keys) return kExitUsage;
        auto w = host::WitnessFileWriter::create(witness_path, keys.value());
        if (!w) {
            fmt::print(stderr, "rvm: cannot create witness log {}: {}\n", witness_path, host::describe(w.error()));
            return kExitUsage;
        }
        writer = std::move(w.value());
    }
    host::SodiumHash hash;
    host::MonotonicClock clock;
    WitnessLog log(hash, clock, host::random_mac_key(), writer.get());
    auto kernel = std::make_unique<Kernel>(KernelEnv{hash, clock, host::random_mac_key(), ProofPolicy{}, &log});

    std::mutex out_mu;
    host::AgentRunner runner(*kernel, clock, kvm.value(), [&](const std::string& name, const std::string& line) {
        std::lock_guard<std::mutex> g(out_mu);
        fmt::print("[{}] {}\n", name, line);
        std::fflush(stdout);
    });
    for (const host::PartitionSpec& p : m.partitions) {
        // wasm (issue 15): a .wasm agent is validated, translated (cached by
        // digest) and its digest witnessed once the partition exists.
        if (is_wasm_agent(p.agent_path)) {
            wasm::WasmDigest digest{};
            auto image = load_wasm_agent(p, digest);
            if (!image) return kExitUsage;
            const auto added = runner.add(to_spec(p, std::move(*image)));
            if (!added) {
                fmt::print(stderr, "rvm: partition '{}' ({}): {}\n", p.name, p.agent_path, added.error());
                return kExitUsage;
            }
            witness_wasm_module(log, runner.partition(added.value()).id.raw(), digest);
            continue;
        }
        // --- end wasm ---
        auto elf = host::read_file(p.agent_path, kMaxAgentBytes);
        if (!elf) {
            fmt::print(stderr, "rvm: partition '{}': {}: {}\n", p.name, p.agent_path, host::describe(elf.error()));
            return kExitUsage;
        }
        const auto added = runner.add(to_spec(p, std::move(elf.value())));
        if (!added) {
            fmt::print(stderr, "rvm: partition '{}' ({}): {}\n", p.name, p.agent_path, added.error());
            return kExitUsage;
        }
    }
    for (const host::EdgeSpec& e : m.edges) {
        const auto c = runner.connect(e.from, e.to, e.capacity, e.share);
        if (!c) {
            fmt::print(stderr, "rvm: edge '{}' -> '{}' (line {}): {}\n", m.partitions[e.from].name,
                       m.partitions[e.to].name, e.line, c.error());
            return kExitUsage;
        }
    }
    runner.set_psi_policy(m.run.psi_policy);
    if (m.run.coherence) runner.enable_coherence(m.run.reshape);
    if (m.run.rvm_scheduler) {
        SchedConfig cfg;
        const long online = sysconf(_SC_NPROCESSORS_ONLN);
        cfg.cpus = m.run.sched_cpus != 0 ? m.run.sched_cpus : static_cast<std::uint32_t>(std::clamp(online, 1L, 64L));
        const auto on = runner.enable_scheduler(cfg);
        if (!on) {
            fmt::print(stderr, "rvm: {}\n", on.error());
            return kExitUsage;
        }
    }
    fmt::print("rvm: running {} partition(s){} from {}{}{}\n", m.partitions.size(),
               m.edges.empty() ? std::string() : fmt::format(" and {} edge(s)", m.edges.size()), manifest_,
               m.run.psi_policy ? " (Ψ policy enforced)" : "", m.run.rvm_scheduler ? " (RVM scheduler)" : "");
    std::fflush(stdout);
    runner.start();
    runner.wait([&] {
        if (writer && writer->wants_flush()) (void)writer->flush();
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

    const WitnessHead head = log.head();
    if (writer) {
        const auto flushed = writer->flush();
        if (!flushed) fmt::print(stderr, "rvm: writing the witness log failed: {}\n", host::describe(flushed.error()));
    }
    fmt::print("witness: {} records, head {:016x}{}\n", head.next_sequence, head.last_hash,
               witness_path.empty() ? " (not persisted: no witness path)" : " in " + witness_path);
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
