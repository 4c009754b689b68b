// WasmModule: a structural reading of a WebAssembly binary module -- its
// imports, exports, memory and table limits -- done before anything else
// touches it (hostile input: every length and count is checked against the
// bytes left and against WasmLimits). Full validation is wasm-validate's job
// (wasm_translator.cpp); this parse decides what RVM refuses up front.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "nucleus/result.hpp"
#include "wasm/wasm_error.hpp"

namespace rvm::wasm {

struct WasmLimits {
    std::uint64_t max_module_bytes = std::uint64_t{64} << 20;
    std::uint64_t memory_bytes = std::uint64_t{1} << 30;  // what the partition can give linear memory + tables
    std::uint32_t max_functions = 200'000;
    std::uint32_t max_imports = 4'096;
    std::uint32_t max_exports = 100'000;
    std::uint32_t max_types = 4'096;  // guest/wasm/rt.c RVM_WASM_MAX_TYPES
    std::uint64_t max_table_elements = std::uint64_t{1} << 20;
};

enum class WasmKind : std::uint8_t { kFunc = 0, kTable = 1, kMemory = 2, kGlobal = 3, kTag = 4 };

struct WasmFuncType {
    std::string params, results;  // one letter per value type: i I f F (i32 i64 f32 f64), v (v128), r (ref)
};

struct WasmImport {
    std::string module, name;
    WasmKind kind = WasmKind::kFunc;
    std::uint32_t type = 0;  // kFunc: type index
};

struct WasmExport {
    std::string name;
    WasmKind kind = WasmKind::kFunc;
    std::uint32_t index = 0;
};

struct WasmModuleInfo {
    std::vector<WasmFuncType> types;
    std::vector<WasmImport> imports;
    std::vector<std::uint32_t> functions;  // type index of each defined function
    std::vector<WasmExport> exports;
    std::uint32_t memories = 0;
    std::uint64_t memory_min_pages = 0;
    std::optional<std::uint64_t> memory_max_pages;
    std::uint64_t table_min_elements = 0;  // summed over tables
    std::optional<std::uint32_t> start;    // the start function

    // The type of function `index` (imports first), nullptr if out of range.
    [[nodiscard]] const WasmFuncType* func_type(std::uint32_t index) const;
    [[nodiscard]] const WasmExport* find_export(std::string_view name, WasmKind kind) const;
};

[[nodiscard]] Result<WasmModuleInfo, WasmError> parse_wasm_module(std::span<const std::uint8_t> bytes,
                                                                  const WasmLimits& limits);

}  // namespace rvm::wasm
