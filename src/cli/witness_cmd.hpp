// `rvm witness verify`, `rvm witness show` and `rvm keygen`.
#pragma once

#include <cstdint>
#include <limits>
#include <string>

namespace CLI {
class App;
}

namespace rvm::cli {

// Exit codes of the witness commands: scripts rely on them.
inline constexpr int kExitIntact = 0;      // verify: complete, closed with the end marker
inline constexpr int kExitTampered = 1;    // the file is corrupt or was altered
inline constexpr int kExitUsage = 2;       // bad arguments, unreadable file or key, not a witness file
inline constexpr int kExitUnfinished = 3;  // verify: no end marker; sealed records verify, the tail is unauthenticated

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
    std::string fss_key_file_;
    bool require_complete_ = false;
    std::uint64_t from_ = 0;
    std::uint64_t count_ = std::numeric_limits<std::uint64_t>::max();
    bool json_ = false;
    int exit_code_ = kExitIntact;
};

// `rvm keygen FILE [--forward-secure [--interval SECONDS]]`: an Ed25519 key
// pair (FILE, mode 0600, and FILE.pub); with --forward-secure also the
// verifier's FILE.fss-verify and the host's sealing state FILE.fss.
class KeygenCommand {
public:
    explicit KeygenCommand(CLI::App& app);
    KeygenCommand(const KeygenCommand&) = delete;
    KeygenCommand& operator=(const KeygenCommand&) = delete;
    [[nodiscard]] int exit_code() const { return exit_code_; }

private:
    [[nodiscard]] int run() const;
    std::string file_;
    bool forward_secure_ = false;
    double interval_s_ = 900;
    int exit_code_ = 0;
};

}  // namespace rvm::cli
