// `rvm run MANIFEST`: start the partitions a manifest describes on KVM,
// stream their logs, print a summary and the witness head.
#pragma once

#include <string>

namespace CLI {
class App;
}

namespace rvm::cli {

// `rvm stats FILE [--json]`: show a stats report `rvm run --stats` wrote.
class StatsCommand {
public:
    explicit StatsCommand(CLI::App& app);
    StatsCommand(const StatsCommand&) = delete;
    StatsCommand& operator=(const StatsCommand&) = delete;
    [[nodiscard]] int exit_code() const { return exit_code_; }

private:
    [[nodiscard]] int show() const;
    std::string file_;
    bool json_ = false;
    int exit_code_ = 0;
};

class RunCommand {
public:
    explicit RunCommand(CLI::App& app);
    RunCommand(const RunCommand&) = delete;
    RunCommand& operator=(const RunCommand&) = delete;
    [[nodiscard]] int exit_code() const { return exit_code_; }

private:
    [[nodiscard]] int run() const;

    std::string manifest_;
    std::string witness_;
    std::string signing_key_;  // witness: --signing-key
    std::string fss_state_;    // witness: --fss-state
    std::string stats_;
    bool no_sandbox_ = false;
    int exit_code_ = 0;
};

}  // namespace rvm::cli
