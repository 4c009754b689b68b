// `rvm wasm compile|check`: ahead-of-time preparation of WebAssembly agents
// (docs/wasm.md), and the hook `rvm run` uses for `agent = "x.wasm"`.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "host/manifest.hpp"
#include "wasm/wasm_translator.hpp"

namespace CLI {
class App;
}

namespace rvm {
class WitnessLog;
}

namespace rvm::cli {

class WasmCommand {
public:
    explicit WasmCommand(CLI::App& app);
    WasmCommand(const WasmCommand&) = delete;
    WasmCommand& operator=(const WasmCommand&) = delete;
    [[nodiscard]] int exit_code() const { return exit_code_; }

private:
    [[nodiscard]] int compile() const;
    [[nodiscard]] int check() const;
    std::vector<std::string> modules_;
    std::vector<std::string> drivers_;
    std::vector<std::string> names_;
    std::string output_, cache_;
    std::uint64_t memory_ = std::uint64_t{1} << 30;
    bool no_cache_ = false, no_imports_ = false;
    int exit_code_ = 0;
};

// True for an agent path `rvm run` prepares as a WebAssembly module.
[[nodiscard]] bool is_wasm_agent(const std::string& path);

// Prepares partition `p`'s .wasm agent (cached) and returns the ELF with the
// partition's args and environment written in; prints the reason and
// returns nothing on failure. `digest` receives the module's digest.
[[nodiscard]] std::optional<std::vector<std::uint8_t>> load_wasm_agent(const host::PartitionSpec& p,
                                                                       wasm::WasmDigest& digest);

// Witnesses a loaded module: two BOOT_ATTESTATION records (flags bit 8:
// wasm module; bits 16..23: which half) carry its 256-bit digest.
void witness_wasm_module(WitnessLog& log, std::uint64_t partition, const wasm::WasmDigest& digest);

}  // namespace rvm::cli
