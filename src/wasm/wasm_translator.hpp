// prepare_wasm: module bytes -> a runnable agent ELF, cached by digest.
// The pipeline (docs/wasm.md): structural parse and RVM's limits
// (wasm_module.cpp), import check (wasm_imports.cpp), wasm-validate, wasm2c,
// the system C compiler against the guest runtime (guest/wasm), the link with
// the SDK's agent.ld. The ELF lands in the cache under the module's
// BLAKE2b-256 digest and a fingerprint of the runtime and flags, so a second
// start of the same module compiles nothing.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "nucleus/result.hpp"
#include "wasm/wasm_error.hpp"
#include "wasm/wasm_module.hpp"

namespace rvm::wasm {

struct WasmToolchain {
    std::string validator = "wasm-validate";
    std::string wasm2c = "wasm2c";
    std::string cc = "cc";
    std::string runtime_archive;  // guest/wasm: librvm_wasm_rt.a
    std::string linker_script;    // guest/agent.ld
    std::vector<std::string> include_dirs;

    // Paths of this build (compile definitions), overridable with
    // RVM_WASM_CC, RVM_WASM_RUNTIME (the archive) and RVM_WASM_SDK (the
    // guest/ source directory).
    [[nodiscard]] static WasmToolchain built_in();
};

struct WasmPrepareOptions {
    std::string cache_dir;  // empty: default_cache_dir()
    bool use_cache = true;
    WasmLimits limits;
    WasmToolchain tools = WasmToolchain::built_in();
    std::chrono::milliseconds tool_timeout{300'000};
    // Conformance harness: C sources that replace the generated main and
    // provide the module's imports themselves (the import and entry checks
    // are skipped). Modules are then named m0, m1, ... (headers m0.h, ...).
    std::vector<std::string> driver_sources;
    // With a driver: the C module name of each module (wasm2c -n), so that
    // one module's imports from another ("a" "f") link by name; default m0, m1, ...
    std::vector<std::string> module_names;
    std::string output_path;  // write the ELF here too (rvm wasm compile -o)
};

using WasmDigest = std::array<std::uint8_t, 32>;

struct WasmPrepared {
    std::string elf_path;
    WasmDigest digest{};  // BLAKE2b-256 of the (first) module
    std::string digest_hex;
    bool from_cache = false;
    double validate_ms = 0, translate_ms = 0, compile_ms = 0;
    WasmModuleInfo info;  // of the (first) module
};

[[nodiscard]] std::string default_cache_dir();
[[nodiscard]] WasmDigest wasm_digest(std::span<const std::uint8_t> bytes);
[[nodiscard]] std::string hex(std::span<const std::uint8_t> bytes);

// Parse, limits, imports and the validator: no compilation. What
// `rvm wasm check` and assert_invalid / assert_malformed use.
[[nodiscard]] Result<WasmModuleInfo, WasmError> check_wasm(std::span<const std::uint8_t> module,
                                                           const WasmPrepareOptions& options, bool check_imports);

[[nodiscard]] Result<WasmPrepared, WasmError> prepare_wasm(std::span<const std::vector<std::uint8_t>> modules,
                                                           const WasmPrepareOptions& options);

}  // namespace rvm::wasm
