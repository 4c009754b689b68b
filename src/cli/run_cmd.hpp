// `rvm run MANIFEST`: start the partitions a manifest describes on KVM,
// stream their logs, print a summary and the witness head.
#pragma once

#include <string>

namespace CLI {
class App;
}

namespace rvm::cli {

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
    int exit_code_ = 0;
};

}  // namespace rvm::cli
