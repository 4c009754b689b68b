#include "wasm/wasm_args.hpp"

#include <fmt/core.h>

#include <algorithm>
#include <cstring>
#include <string_view>

namespace rvm::wasm {
namespace {

constexpr std::string_view kMagic = "RVM-WASM-ARGS-v1";  // 16 bytes, no NUL

void put32(std::vector<std::uint8_t>& out, std::size_t at, std::uint32_t v) {
    for (unsigned i = 0; i < 4; ++i) out[at + i] = static_cast<std::uint8_t>(v >> (8 * i));
}

}  // namespace

Result<void, WasmError> patch_wasm_args(std::vector<std::uint8_t>& elf, const std::vector<std::string>& args,
                                        const std::vector<std::string>& env) {
    const auto at = std::search(elf.begin(), elf.end(), kMagic.begin(), kMagic.end());
    if (at == elf.end()) {
        // A module that imports no WASI args/environ calls has no block
        // (the linker dropped it): fine when there is nothing to give it.
        if (args.empty() && env.empty()) return {};
        return Err<WasmError>{WasmError{WasmErrc::kMalformed,
                                        "the module reads no WASI args or environment, but the manifest gives some"}};
    }
    const std::size_t base = static_cast<std::size_t>(at - elf.begin());
    if (elf.size() - base < kWasmArgsBlobBytes) {
        return Err<WasmError>{WasmError{WasmErrc::kMalformed, "the agent image's WASI argument block is cut short"}};
    }
    if (args.size() + env.size() > kWasmArgsMax) {
        return Err<WasmError>{WasmError{WasmErrc::kTooLarge, fmt::format("more than {} args and environment "
                                                                         "strings",
                                                                         kWasmArgsMax)}};
    }
    std::size_t pos = base + kMagic.size() + 12;
    const std::size_t end = base + kWasmArgsBlobBytes;
    std::uint32_t bytes = 0;
    for (const auto* list : {&args, &env}) {
        for (const std::string& s : *list) {
            if (s.find('\0') != std::string::npos) {
                return Err<WasmError>{WasmError{WasmErrc::kMalformed, "an argument contains NUL"}};
            }
            if (s.size() + 1 > end - pos) {
                return Err<WasmError>{WasmError{WasmErrc::kTooLarge,
                                                fmt::format("args and environment exceed {} bytes", end - base - 28)}};
            }
            std::memcpy(elf.data() + pos, s.data(), s.size());
            elf[pos + s.size()] = 0;
            pos += s.size() + 1;
            bytes += static_cast<std::uint32_t>(s.size() + 1);
        }
    }
    put32(elf, base + kMagic.size(), static_cast<std::uint32_t>(args.size()));
    put32(elf, base + kMagic.size() + 4, static_cast<std::uint32_t>(env.size()));
    put32(elf, base + kMagic.size() + 8, bytes);
    return {};
}

}  // namespace rvm::wasm
