// The imports a prepared module may have: RVM's WASI preview-1 subset and
// the "rvm" module, with their types. They are implemented by the guest
// runtime (guest/wasm/wasi.c, rvm_imports.c); this table is what the loader
// checks against, so a module never links against a function that is not
// there or has another signature.
#pragma once

#include <span>
#include <string_view>

#include "nucleus/result.hpp"
#include "wasm/wasm_module.hpp"

namespace rvm::wasm {

struct HostFunction {
    std::string_view module, name;
    std::string_view params, results;  // WasmFuncType letters
};

[[nodiscard]] std::span<const HostFunction> host_functions();

// Every import must be a function in host_functions() with exactly its type;
// the first one that is not is named.
[[nodiscard]] Result<void, WasmError> check_imports(const WasmModuleInfo& m);

}  // namespace rvm::wasm
