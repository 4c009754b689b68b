// rvm: the command-line front end.
#include <CLI/CLI.hpp>

#include "abi/version.h"

int main(int argc, char** argv) {
    CLI::App app{"rvm: a coherence-native micro-hypervisor on Linux KVM"};
    app.set_version_flag("--version", "rvm 0.1.0 (ABI " + std::to_string(RVM_ABI_VERSION_MAJOR) + "." +
                                          std::to_string(RVM_ABI_VERSION_MINOR) + ")");
    app.require_subcommand(1);
    CLI11_PARSE(app, argc, argv);
    return 0;
}
