#include "wasm/wasm_imports.hpp"

#include <fmt/core.h>

namespace rvm::wasm {
namespace {

constexpr std::string_view kWasi = "wasi_snapshot_preview1";

// Keep in step with guest/wasm/wasi.c and rvm_imports.c (docs/wasm.md).
constexpr HostFunction kHostFunctions[] = {
    {kWasi, "fd_write", "iiii", "i"},
    {kWasi, "fd_read", "iiii", "i"},
    {kWasi, "fd_close", "i", "i"},
    {kWasi, "fd_seek", "iIii", "i"},
    {kWasi, "fd_fdstat_get", "ii", "i"},
    {kWasi, "fd_prestat_get", "ii", "i"},
    {kWasi, "fd_prestat_dir_name", "iii", "i"},
    {kWasi, "args_sizes_get", "ii", "i"},
    {kWasi, "args_get", "ii", "i"},
    {kWasi, "environ_sizes_get", "ii", "i"},
    {kWasi, "environ_get", "ii", "i"},
    {kWasi, "clock_time_get", "iIi", "i"},
    {kWasi, "clock_res_get", "ii", "i"},
    {kWasi, "random_get", "ii", "i"},
    {kWasi, "poll_oneoff", "iiii", "i"},
    {kWasi, "proc_exit", "i", ""},
    {kWasi, "sched_yield", "", "i"},
    {"rvm", "log", "ii", "i"},
    {"rvm", "exit", "i", ""},
    {"rvm", "yield", "", "i"},
    {"rvm", "clock_ns", "", "I"},
    {"rvm", "edge_count", "", "i"},
    {"rvm", "edge_send", "iiiI", "I"},
    {"rvm", "edge_recv", "iiiI", "I"},
    {"rvm", "psi_register", "", "i"},
    {"rvm", "psi_update", "III", "i"},
    {"rvm", "psi_query", "i", "I"},
};

std::string signature(std::string_view params, std::string_view results) {
    auto list = [](std::string_view letters) {
        std::string out;
        for (char c : letters) {
            if (!out.empty()) out += ", ";
            out += c == 'i'   ? "i32"
                   : c == 'I' ? "i64"
                   : c == 'f' ? "f32"
                   : c == 'F' ? "f64"
                   : c == 'v' ? "v128"
                              : "ref";
        }
        return out;
    };
    return fmt::format("({}) -> ({})", list(params), list(results));
}

}  // namespace

std::span<const HostFunction> host_functions() { return kHostFunctions; }

Result<void, WasmError> check_imports(const WasmModuleInfo& m) {
    for (const WasmImport& imp : m.imports) {
        if (imp.kind != WasmKind::kFunc) {
            return Err<WasmError>{WasmError{
                WasmErrc::kImport, fmt::format("import '{}' '{}' is not a function; RVM provides functions only "
                                               "(the module must define its own memory and tables)",
                                               imp.module, imp.name)}};
        }
        const HostFunction* found = nullptr;
        for (const HostFunction& h : kHostFunctions)
            if (h.module == imp.module && h.name == imp.name) found = &h;
        if (found == nullptr) {
            return Err<WasmError>{WasmError{
                WasmErrc::kImport,
                fmt::format("import '{}' '{}' does not exist in RVM (modules: wasi_snapshot_preview1 subset, rvm; "
                            "docs/wasm.md lists them)",
                            imp.module, imp.name)}};
        }
        if (imp.type >= m.types.size()) {
            return Err<WasmError>{WasmError{
                WasmErrc::kMalformed,
                fmt::format("import '{}' '{}' names type {} of {}", imp.module, imp.name, imp.type, m.types.size())}};
        }
        const WasmFuncType& t = m.types[imp.type];
        if (t.params != found->params || t.results != found->results) {
            return Err<WasmError>{
                WasmError{WasmErrc::kImport,
                          fmt::format("import '{}' '{}' has type {}, RVM provides {}", imp.module, imp.name,
                                      signature(t.params, t.results), signature(found->params, found->results))}};
        }
    }
    return {};
}

}  // namespace rvm::wasm
