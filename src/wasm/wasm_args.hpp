// patch_wasm_args: writes a module's WASI args and environment (from the
// manifest) into a prepared agent image, in the blob the guest runtime
// reads (guest/wasm/include/rvm/wasm_runtime.h, RVM_WASM_ARGS_MAGIC). The
// cached ELF stays generic; each start patches its own copy in memory.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "nucleus/result.hpp"
#include "wasm/wasm_error.hpp"

namespace rvm::wasm {

inline constexpr std::size_t kWasmArgsBlobBytes = 4096;  // RVM_WASM_ARGS_SIZE
inline constexpr std::size_t kWasmArgsMax = 512;

[[nodiscard]] Result<void, WasmError> patch_wasm_args(std::vector<std::uint8_t>& elf,
                                                      const std::vector<std::string>& args,
                                                      const std::vector<std::string>& env);

}  // namespace rvm::wasm
