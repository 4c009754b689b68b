#include "cli/wasm_cmd.hpp"

#include <fmt/core.h>
#include <CLI/CLI.hpp>

#include <cstring>

#include "abi/witness.h"
#include "cli/witness_cmd.hpp"
#include "host/posix_io.hpp"
#include "nucleus/witness_log.hpp"
#include "wasm/wasm_args.hpp"

namespace rvm::cli {
namespace {

constexpr std::size_t kMaxModuleRead = std::size_t{64} << 20;

std::optional<std::vector<std::uint8_t>> read_module(const std::string& path) {
    auto bytes = host::read_file(path, kMaxModuleRead + 1);
    if (!bytes) {
        fmt::print(stderr, "rvm: {}: {}\n", path, host::describe(bytes.error()));
        return std::nullopt;
    }
    return std::move(bytes.value());
}

void print_error(const std::string& what, const wasm::WasmError& e) {
    fmt::print(stderr, "rvm: {}: {}: {}\n", what, wasm::errc_name(e.code), e.message);
}

}  // namespace

WasmCommand::WasmCommand(CLI::App& app) {
    CLI::App* w = app.add_subcommand("wasm", "Prepare WebAssembly agents (docs/wasm.md)");
    w->require_subcommand(1);
    CLI::App* c =
        w->add_subcommand("compile",
                          "Validate, translate and compile a module into an agent ELF, stored in the translation cache "
                          "(so that `rvm run` starts it without compiling)");
    c->add_option("module", modules_, "The .wasm module (several only with --driver)")->required();
    c->add_option("-o,--output", output_, "Also write the agent ELF here");
    c->add_option("--module-name", names_, "With --driver: the C name of each module in order (default m0, m1, ...)")
        ->allow_extra_args(false);
    c->add_option("--cache", cache_, "Translation cache directory (default: $RVM_WASM_CACHE or ~/.cache/rvm/wasm)");
    c->add_option("--driver", drivers_, "C source replacing the generated main (conformance harness)")
        ->allow_extra_args(false);
    c->add_option("--memory", memory_, "Bytes the partition can give the module (limits check)");
    c->add_flag("--no-cache", no_cache_, "Compile even if the cache holds the module");
    c->callback([this] { exit_code_ = compile(); });
    CLI::App* k = w->add_subcommand("check", "Parse, limit-check and validate a module without compiling it");
    k->add_option("module", modules_, "The .wasm module")->required();
    k->add_option("--memory", memory_, "Bytes the partition can give the module (limits check)");
    k->add_option("--cache", cache_, "Scratch directory parent (default: the translation cache)");
    k->add_flag("--no-imports", no_imports_, "Do not check the imports against RVM's import modules");
    k->callback([this] { exit_code_ = check(); });
}

int WasmCommand::compile() const {
    std::vector<std::vector<std::uint8_t>> mods;
    for (const std::string& m : modules_) {
        auto b = read_module(m);
        if (!b) return kExitUsage;
        mods.push_back(std::move(*b));
    }
    wasm::WasmPrepareOptions o;
    o.cache_dir = cache_;
    o.use_cache = !no_cache_;
    o.limits.memory_bytes = memory_;
    o.driver_sources = drivers_;
    o.module_names = names_;
    o.output_path = output_;
    const auto p = wasm::prepare_wasm(mods, o);
    if (!p) {
        print_error(modules_[0], p.error());
        return 1;
    }
    const auto& r = p.value();
    fmt::print("{}: blake2b-256 {}\n  agent {}\n", modules_[0], r.digest_hex, r.elf_path);
    if (r.from_cache) {
        fmt::print("  from the cache (nothing compiled)\n");
    } else {
        fmt::print("  validate {:.1f} ms, translate {:.1f} ms, compile and link {:.1f} ms\n", r.validate_ms,
                   r.translate_ms, r.compile_ms);
    }
    return 0;
}

int WasmCommand::check() const {
    auto b = read_module(modules_[0]);
    if (!b) return kExitUsage;
    wasm::WasmPrepareOptions o;
    o.cache_dir = cache_;
    o.limits.memory_bytes = memory_;
    const auto info = wasm::check_wasm(*b, o, !no_imports_);
    if (!info) {
        print_error(modules_[0], info.error());
        return 1;
    }
    fmt::print("{}: valid ({} imports, {} functions, {} exports, {} initial memory pages)\n", modules_[0],
               info.value().imports.size(), info.value().functions.size(), info.value().exports.size(),
               info.value().memory_min_pages);
    return 0;
}

bool is_wasm_agent(const std::string& path) { return path.size() > 5 && path.ends_with(".wasm"); }

std::optional<std::vector<std::uint8_t>> load_wasm_agent(const host::PartitionSpec& p, wasm::WasmDigest& digest) {
    auto module = read_module(p.agent_path);
    if (!module) return std::nullopt;
    wasm::WasmPrepareOptions o;
    // Linear memory and tables come from the heap: what is left of the
    // partition after the image base and the stacks.
    const std::uint64_t stacks = p.stack_bytes * p.max_tasks;
    o.limits.memory_bytes = p.memory_bytes > stacks + host::kManifestMemoryOverhead
                                ? p.memory_bytes - stacks - host::kManifestMemoryOverhead + (std::uint64_t{1} << 20)
                                : 0;
    const std::vector<std::vector<std::uint8_t>> mods{std::move(*module)};
    const auto prepared = wasm::prepare_wasm(mods, o);
    if (!prepared) {
        print_error(fmt::format("partition '{}' ({})", p.name, p.agent_path), prepared.error());
        return std::nullopt;
    }
    digest = prepared.value().digest;
    if (!prepared.value().from_cache) {
        fmt::print("rvm: partition '{}': translated {} (blake2b {}) in {:.0f} ms\n", p.name, p.agent_path,
                   prepared.value().digest_hex.substr(0, 16),
                   prepared.value().validate_ms + prepared.value().translate_ms + prepared.value().compile_ms);
    }
    auto elf = host::read_file(prepared.value().elf_path, kMaxModuleRead * 4);
    if (!elf) {
        fmt::print(stderr, "rvm: partition '{}': {}: {}\n", p.name, prepared.value().elf_path,
                   host::describe(elf.error()));
        return std::nullopt;
    }
    if (auto a = wasm::patch_wasm_args(elf.value(), p.wasm_args, p.wasm_env); !a) {
        print_error(fmt::format("partition '{}'", p.name), a.error());
        return std::nullopt;
    }
    return std::move(elf.value());
}

void witness_wasm_module(WitnessLog& log, std::uint64_t partition, const wasm::WasmDigest& digest) {
    for (std::uint32_t half = 0; half < 2; ++half) {
        WitnessEvent e;
        e.kind = RVM_WK_BOOT_ATTESTATION;
        e.subject = partition;
        const std::size_t at = std::size_t{16} * half;
        std::memcpy(&e.object, digest.data() + at, 8);
        std::memcpy(&e.aux, digest.data() + at + 8, 8);
        e.flags = (1u << 8) | (half << 16);
        (void)log.append(e);
    }
}

}  // namespace rvm::cli
