// WasmError: why a WebAssembly module was refused or could not be prepared.
#pragma once

#include <cstdint>
#include <string>

namespace rvm::wasm {

enum class WasmErrc : std::uint8_t {
    kMalformed,  // not a well-formed binary module (our structural parse)
    kInvalid,    // refused by the validator (wasm-validate)
    kTooLarge,   // over a limit: module bytes, memory, table, functions, imports
    kImport,     // an import RVM does not provide, or with the wrong type
    kNoEntry,    // no `_start` (or `main`) export to run
    kToolchain,  // wasm2c / the C compiler / the linker failed or is missing
    kCache,      // the cache directory or a file in it is unusable
};

[[nodiscard]] const char* errc_name(WasmErrc c);

struct WasmError {
    WasmErrc code = WasmErrc::kMalformed;
    std::string message;  // one line (tool output follows on later lines for kToolchain)
};

}  // namespace rvm::wasm
