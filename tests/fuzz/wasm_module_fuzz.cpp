// libFuzzer target: hostile WebAssembly modules. The loader's structural
// parse and import check must answer for any bytes, within the limits, and
// what it accepts must be self-consistent (every import and export read
// whole, memory within the partition's budget).
#include <cstddef>
#include <cstdint>
#include <span>

#include "nucleus/assert.hpp"
#include "wasm/wasm_imports.hpp"
#include "wasm/wasm_module.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace rvm::wasm;
    WasmLimits limits;
    limits.memory_bytes = std::uint64_t{16} << 20;
    limits.max_module_bytes = std::uint64_t{1} << 20;
    // Mode 0: the input as is; mode 1: a valid header in front, so
    // mutations reach the sections quickly.
    std::vector<std::uint8_t> bytes;
    if (size > 0 && (data[0] & 1u) != 0) {
        bytes = {0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00};
        bytes.insert(bytes.end(), data + 1, data + size);
    } else {
        bytes.assign(data, data + size);
    }
    const auto m = parse_wasm_module(bytes, limits);
    if (!m) return 0;
    const WasmModuleInfo& info = m.value();
    RVM_ASSERT(info.memory_min_pages * 65536u <= limits.memory_bytes || info.memories > 1);
    RVM_ASSERT(info.table_min_elements <= limits.max_table_elements);
    RVM_ASSERT(info.types.size() <= limits.max_types);
    for (const WasmExport& e : info.exports) (void)info.func_type(e.index);
    (void)check_imports(info);
    return 0;
}
