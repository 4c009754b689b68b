// make_glue: the C `main` of a prepared agent, written from the header wasm2c
// generated for module "m": it instantiates the module with RVM's import
// modules, binds the exported memory for them and calls the entry (`_start`,
// else `main`).
#pragma once

#include <string>
#include <string_view>

#include "nucleus/result.hpp"
#include "wasm/wasm_error.hpp"

namespace rvm::wasm {

[[nodiscard]] Result<std::string, WasmError> make_glue(std::string_view header, std::string_view header_name);

}  // namespace rvm::wasm
