// rvm_coherence_sim: coherence-driven placement against round-robin on a
// simulated host (no KVM). Prints the seed, the configuration and the
// cross-domain traffic of both placements.
#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <exception>

#include "coherence/placement_sim.hpp"

namespace {

int run(int argc, char** argv) {
    rvm::coherence::SimConfig c;
    CLI::App app{"rvm_coherence_sim: coherence placement vs round-robin on cross-domain traffic"};
    app.add_option("--seed", c.seed, "RNG seed")->capture_default_str();
    app.add_option("--agents", c.agents, "agents")->capture_default_str();
    app.add_option("--cores", c.cores, "cores (a multiple of --domains)")->capture_default_str();
    app.add_option("--domains", c.domains, "cache domains")->capture_default_str();
    app.add_option("--epochs", c.epochs, "epochs")->capture_default_str();
    app.add_option("--warmup", c.warmup_epochs, "epochs excluded from the steady-state figures")->capture_default_str();
    app.add_option("--cluster-size", c.cluster_size, "mean cluster size")->capture_default_str();
    app.add_option("--drift", c.drift_per_epoch, "fraction of agents changing cluster per epoch")
        ->capture_default_str();
    app.add_option("--intra", c.intra_fraction, "fraction of messages inside the cluster")->capture_default_str();
    // CLI11 reports parse errors by exception; they end here and nowhere else.
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        return app.exit(e);
    }
    if (c.domains == 0 || c.cores % c.domains != 0 || c.agents < 2) {
        std::fprintf(stderr, "rvm_coherence_sim: need --agents >= 2 and --cores a multiple of --domains\n");
        return 2;
    }

    const auto t0 = std::chrono::steady_clock::now();
    const rvm::coherence::SimResult r = rvm::coherence::run_placement_sim(c);
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();

    std::printf("seed %llu  agents %u  cores %u  domains %u  epochs %u (warmup %u)  cluster ~%u  drift %.4f/epoch\n",
                static_cast<unsigned long long>(c.seed), c.agents, c.cores, c.domains, c.epochs, c.warmup_epochs,
                c.cluster_size, c.drift_per_epoch);
    const auto line = [](const char* name, const rvm::coherence::SimTotals& t) {
        std::printf(
            "%-7s traffic %.0f  cross-domain: round-robin %.0f (%.1f%%)  coherence %.0f (%.1f%%)  reduction %.1f%%\n",
            name, t.traffic, t.round_robin, 100.0 * t.round_robin / t.traffic, t.coherence,
            100.0 * t.coherence / t.traffic, 100.0 * t.reduction());
    };
    line("all", r.all);
    line("steady", r.steady);
    std::printf("proposals: %llu splits, %llu merges, %llu migrations; %llu agent moves; %u partitions at the end\n",
                static_cast<unsigned long long>(r.splits), static_cast<unsigned long long>(r.merges),
                static_cast<unsigned long long>(r.migrations), static_cast<unsigned long long>(r.agent_moves),
                r.final_partitions);
    std::printf("domain capacity %u, max load %u (%s); %.2f s\n", r.domain_capacity, r.max_domain_load,
                r.capacity_respected ? "respected" : "EXCEEDED", secs);
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    // Anything else the standard library throws (allocation failure, ...)
    // ends the process with a message, never an uncaught exception.
    try {
        return run(argc, argv);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "rvm_coherence_sim: %s\n", e.what());
        return 2;
    }
}
