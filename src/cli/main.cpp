// rvm: the command-line front end.
#include <fmt/core.h>
#include <CLI/CLI.hpp>

#include <exception>

#include "abi/version.h"
#include "cli/run_cmd.hpp"
#include "cli/wasm_cmd.hpp"  // wasm (issue 15)
#include "cli/witness_cmd.hpp"
#include "host/nucleus_demo.hpp"

namespace {

int run(int argc, char** argv) {
    CLI::App app{"rvm: a coherence-native micro-hypervisor on Linux KVM"};
    app.set_version_flag("--version", "rvm 0.1.0 (ABI " + std::to_string(RVM_ABI_VERSION_MAJOR) + "." +
                                          std::to_string(RVM_ABI_VERSION_MINOR) + ")");
    app.require_subcommand(1);
    app.footer(
        "Exit status: 0 success; 1 a partition failed or timed out (run), or a witness log is tampered "
        "(witness verify); 2 bad arguments, bad manifest, unreadable file, or KVM unusable.\n"
        "Docs: README.md, docs/abi.md (guest ABI), docs/manifest.md, docs/witness-format.md.");
    rvm::cli::WitnessCommand witness(app);
    rvm::cli::RunCommand run_cmd(app);
    rvm::cli::StatsCommand stats_cmd(app);
    rvm::cli::WasmCommand wasm_cmd(app);  // wasm (issue 15)

    rvm::host::DemoOptions demo_options;
    int demo_exit = 0;
    CLI::App* demo = app.add_subcommand(
        "demo",
        "Drive the nucleus through its rules on the fake backend (no KVM), witnessing every step to a new sealed "
        "log, then audit and replay that log");
    demo->add_option("--witness", demo_options.witness_path, "Witness log to create (must not exist; FILE.pub too)")
        ->required();
    demo->callback([&] { demo_exit = rvm::host::run_nucleus_demo(demo_options); });
    // CLI11 reports parse errors by exception; they end here and nowhere else.
    // Usage errors exit 2 (scripts tell them from a failed verification, 1).
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        return app.exit(e) == 0 ? 0 : rvm::cli::kExitUsage;
    }
    if (demo->parsed()) return demo_exit;
    if (app.got_subcommand("run")) return run_cmd.exit_code();
    if (app.got_subcommand("stats")) return stats_cmd.exit_code();
    if (app.got_subcommand("wasm")) return wasm_cmd.exit_code();  // wasm (issue 15)
    return witness.exit_code();
}

}  // namespace

int main(int argc, char** argv) {
    // Anything else the standard library throws (allocation failure, ...)
    // ends the process with a message, never an uncaught exception.
    try {
        return run(argc, argv);
    } catch (const std::exception& e) {
        fmt::print(stderr, "rvm: {}\n", e.what());
        return rvm::cli::kExitUsage;
    }
}
