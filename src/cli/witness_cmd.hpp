// `rvm witness verify` and `rvm witness show`.
#pragma once

#include <cstdint>
#include <limits>
#include <string>

namespace CLI {
class App;
}

namespace rvm::cli {

// Exit codes of the witness commands: scripts rely on them.
inline constexpr int kExitIntact = 0;
inline constexpr int kExitTampered = 1;  // the file is corrupt or was altered
inline constexpr int kExitUsage = 2;     // bad arguments, unreadable file or key

class WitnessCommand {
public:
    // Registers the subcommands on `app`; they run during app.parse().
    explicit WitnessCommand(CLI::App& app);
    WitnessCommand(const WitnessCommand&) = delete;
    WitnessCommand& operator=(const WitnessCommand&) = delete;

    [[nodiscard]] int exit_code() const { return exit_code_; }

private:
    [[nodiscard]] int verify() const;
    [[nodiscard]] int show() const;

    std::string file_;
    std::string key_file_;
    std::uint64_t from_ = 0;
    std::uint64_t count_ = std::numeric_limits<std::uint64_t>::max();
    bool json_ = false;
    int exit_code_ = kExitIntact;
};

}  // namespace rvm::cli
