#include "wasm/wasm_translator.hpp"

#include <fmt/core.h>
#include <sodium.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <system_error>

#include "wasm/wasm_glue.hpp"
#include "wasm/wasm_imports.hpp"
#include "wasm/wasm_tool.hpp"

#ifndef RVM_WASM_RT_ARCHIVE
#define RVM_WASM_RT_ARCHIVE ""
#endif
#ifndef RVM_WASM_SDK_DIR
#define RVM_WASM_SDK_DIR ""
#endif
#ifndef RVM_WASM_ABI_DIR
#define RVM_WASM_ABI_DIR ""
#endif

namespace rvm::wasm {
namespace fs = std::filesystem;
namespace {

using Fail = Err<WasmError>;

// Beyond wabt's defaults (MVP, sign-extension, saturating conversions,
// multi-value, bulk memory, reference types, SIMD): the multi-memory
// encoding of memory arguments, which wasm2c 1.0.32 translates.
constexpr const char* kFeatures = "--enable-multi-memory";

// Flags of the generated C: the agent flags of guest/RvmAgent.cmake, plus
// explicit bounds checks (no signal handler in a partition) and a call-depth
// limit from the stack size. The code is not ours: no warnings.
const std::vector<std::string>& module_cflags() {
    static const std::vector<std::string> flags = {"-O2",
                                                   "-ffreestanding",
                                                   "-fno-pie",
                                                   "-fno-pic",
                                                   "-fno-stack-protector",
                                                   "-fno-stack-clash-protection",
                                                   "-fno-asynchronous-unwind-tables",
                                                   "-fno-unwind-tables",
                                                   "-fcf-protection=none",
                                                   "-fno-math-errno",
                                                   "-fno-exceptions",
                                                   "-fsignaling-nans",
                                                   "-march=x86-64",
                                                   "-mcmodel=small",
                                                   "-ffunction-sections",
                                                   "-fdata-sections",
                                                   "-std=gnu11",
                                                   "-w",
                                                   "-DWASM_RT_MEMCHECK_SIGNAL_HANDLER=0",
                                                   "-include",
                                                   "rvm/wasm_limits.h"};
    return flags;
}

const std::vector<std::string>& link_flags() {
    static const std::vector<std::string> flags = {"-nostdlib",
                                                   "-static",
                                                   "-no-pie",
                                                   "-Wl,--build-id=none",
                                                   "-Wl,-z,noexecstack",
                                                   "-Wl,-z,norelro",
                                                   "-Wl,-z,max-page-size=4096",
                                                   "-Wl,--gc-sections",
                                                   "-Wl,--no-undefined",
                                                   "-Wl,-u,_start"};
    return flags;
}

double ms_since(std::chrono::steady_clock::time_point t0) {
    return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}

Result<std::vector<std::uint8_t>, WasmError> read_all(const std::string& path) {
    std::FILE* f = std::fopen(path.c_str(), "rb");
    if (f == nullptr) return Fail{WasmError{WasmErrc::kCache, fmt::format("cannot read {}", path)}};
    std::vector<std::uint8_t> out;
    std::array<std::uint8_t, 65536> buf{};
    std::size_t n = 0;
    while ((n = std::fread(buf.data(), 1, buf.size(), f)) > 0) out.insert(out.end(), buf.begin(), buf.begin() + n);
    std::fclose(f);
    return out;
}

Result<void, WasmError> write_all(const std::string& path, std::span<const std::uint8_t> bytes) {
    std::FILE* f = std::fopen(path.c_str(), "wb");
    if (f == nullptr) return Fail{WasmError{WasmErrc::kCache, fmt::format("cannot write {}", path)}};
    const bool ok = std::fwrite(bytes.data(), 1, bytes.size(), f) == bytes.size();
    if (std::fclose(f) != 0 || !ok) return Fail{WasmError{WasmErrc::kCache, fmt::format("cannot write {}", path)}};
    return {};
}

std::span<const std::uint8_t> as_bytes(const std::string& s) {
    return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};  // SAFETY: chars viewed as bytes
}

Fail tool_failed(const char* what, const ToolRun& r) {
    if (!r.started) {
        return Fail{WasmError{WasmErrc::kToolchain,
                              fmt::format("{} could not be run (is it installed? scripts/deps.sh)", what)}};
    }
    if (r.timed_out) return Fail{WasmError{WasmErrc::kToolchain, fmt::format("{} timed out", what)}};
    if (r.signal != 0) {
        // wasm2c recurses on nesting: a hostile module can crash it (refused, nothing else happens).
        return Fail{WasmError{WasmErrc::kToolchain,
                              fmt::format("{} crashed on this module (signal {}): refused", what, r.signal)}};
    }
    return Fail{WasmError{WasmErrc::kToolchain,
                          fmt::format("{} failed (exit {}):\n{}", what, r.exit_code, first_lines(r.output, 12))}};
}

// A private scratch directory, removed on every path out.
class ScratchDir {
public:
    static Result<ScratchDir, WasmError> create(const std::string& parent) {
        std::error_code ec;
        fs::create_directories(parent, ec);
        std::string templ = parent + "/tmp-XXXXXX";
        if (mkdtemp(templ.data()) == nullptr)
            return Fail{WasmError{WasmErrc::kCache, fmt::format("cannot create a scratch directory in {}", parent)}};
        return ScratchDir(std::move(templ));
    }
    ScratchDir(ScratchDir&& o) noexcept : path_(std::move(o.path_)) { o.path_.clear(); }
    ScratchDir(const ScratchDir&) = delete;
    ScratchDir& operator=(const ScratchDir&) = delete;
    ScratchDir& operator=(ScratchDir&&) = delete;
    ~ScratchDir() {
        std::error_code ec;
        if (!path_.empty()) fs::remove_all(path_, ec);
    }
    [[nodiscard]] const std::string& path() const { return path_; }

private:
    explicit ScratchDir(std::string p) : path_(std::move(p)) {}
    std::string path_;
};

// What makes two translations of the same module differ: the runtime
// archive, the linker script and the flags.
Result<std::string, WasmError> fingerprint(const WasmToolchain& t, const WasmPrepareOptions& o) {
    crypto_generichash_state st;
    crypto_generichash_init(&st, nullptr, 0, 16);
    for (const std::string* path : {&t.runtime_archive, &t.linker_script}) {
        auto bytes = read_all(*path);
        if (!bytes) {
            return Fail{WasmError{WasmErrc::kToolchain,
                                  fmt::format("the wasm runtime is missing: {} (build target rvm_wasm_rt, or set "
                                              "RVM_WASM_RUNTIME / RVM_WASM_SDK)",
                                              *path)}};
        }
        crypto_generichash_update(&st, bytes.value().data(), bytes.value().size());
    }
    std::string flags = t.cc;
    for (const auto& f : module_cflags()) flags += " " + f;
    for (const auto& f : link_flags()) flags += " " + f;
    for (const auto& d : o.driver_sources) {
        auto bytes = read_all(d);
        if (!bytes) return Fail{bytes.error()};
        crypto_generichash_update(&st, bytes.value().data(), bytes.value().size());
    }
    crypto_generichash_update(&st, as_bytes(flags).data(), flags.size());
    std::array<std::uint8_t, 16> out{};
    crypto_generichash_final(&st, out.data(), out.size());
    return hex(out);
}

Result<void, WasmError> validate(const std::string& path, const WasmPrepareOptions& o) {
    const ToolRun r = run_tool({o.tools.validator, kFeatures, path}, o.tool_timeout);
    if (r.ok()) return {};
    if (!r.started || r.timed_out) return tool_failed("wasm-validate", r);
    return Fail{WasmError{WasmErrc::kInvalid, first_lines(r.output, 4)}};
}

std::vector<std::string> include_flags(const WasmToolchain& t) {
    std::vector<std::string> out;
    for (const auto& d : t.include_dirs) out.push_back("-I" + d);
    return out;
}

Result<void, WasmError> compile(const WasmPrepareOptions& o, const std::string& src, const std::string& obj) {
    std::vector<std::string> argv = {o.tools.cc};
    for (const auto& f : module_cflags()) argv.push_back(f);
    for (const auto& f : include_flags(o.tools)) argv.push_back(f);
    argv.insert(argv.end(), {"-c", src, "-o", obj});
    const ToolRun r = run_tool(argv, o.tool_timeout);
    if (!r.ok()) return tool_failed("the C compiler", r);
    return {};
}

}  // namespace

WasmToolchain WasmToolchain::built_in() {
    WasmToolchain t;
    std::string sdk = RVM_WASM_SDK_DIR;
    std::string abi = RVM_WASM_ABI_DIR;
    t.runtime_archive = RVM_WASM_RT_ARCHIVE;
    if (const char* e = std::getenv("RVM_WASM_CC"); e != nullptr && *e != 0) t.cc = e;
    if (const char* e = std::getenv("RVM_WASM_RUNTIME"); e != nullptr && *e != 0) t.runtime_archive = e;
    if (const char* e = std::getenv("RVM_WASM_SDK"); e != nullptr && *e != 0) {
        sdk = e;
        abi = sdk + "/../src";
    }
    t.linker_script = sdk + "/agent.ld";
    t.include_dirs = {sdk + "/wasm/shim", sdk + "/wasm/include", sdk + "/include", abi};
    return t;
}

std::string default_cache_dir() {
    if (const char* e = std::getenv("RVM_WASM_CACHE"); e != nullptr && *e != 0) return e;
    if (const char* e = std::getenv("XDG_CACHE_HOME"); e != nullptr && *e != 0) return std::string(e) + "/rvm/wasm";
    if (const char* e = std::getenv("HOME"); e != nullptr && *e != 0) return std::string(e) + "/.cache/rvm/wasm";
    return fmt::format("/tmp/rvm-wasm-cache-{}", getuid());
}

WasmDigest wasm_digest(std::span<const std::uint8_t> bytes) {
    WasmDigest d{};
    crypto_generichash(d.data(), d.size(), bytes.data(), bytes.size(), nullptr, 0);
    return d;
}

std::string hex(std::span<const std::uint8_t> bytes) {
    std::string s;
    s.reserve(bytes.size() * 2);
    for (std::uint8_t b : bytes) s += fmt::format("{:02x}", b);
    return s;
}

Result<WasmModuleInfo, WasmError> check_wasm(std::span<const std::uint8_t> module, const WasmPrepareOptions& o,
                                             bool imports) {
    auto info = parse_wasm_module(module, o.limits);
    if (!info) return Fail{info.error()};
    if (imports) {
        if (auto c = check_imports(info.value()); !c) return Fail{c.error()};
    }
    auto dir = ScratchDir::create(o.cache_dir.empty() ? default_cache_dir() : o.cache_dir);
    if (!dir) return Fail{dir.error()};
    const std::string path = dir.value().path() + "/module.wasm";
    if (auto w = write_all(path, module); !w) return Fail{w.error()};
    if (auto v = validate(path, o); !v) return Fail{v.error()};
    return info;
}

namespace {

std::string path_in(const std::string& dir, std::string_view name) {
    std::string p = dir;
    p += '/';
    p += name;
    return p;
}

// Validates, translates and compiles module `name` into DIR/name.o.
Result<std::string, WasmError> translate_one(std::span<const std::uint8_t> module, const std::string& name,
                                             const std::string& dir, const WasmPrepareOptions& o, WasmPrepared& out) {
    const std::string wasm = path_in(dir, name + ".wasm");
    if (auto w = write_all(wasm, module); !w) return Fail{w.error()};
    auto t0 = std::chrono::steady_clock::now();
    if (auto v = validate(wasm, o); !v) return Fail{v.error()};
    out.validate_ms += ms_since(t0);
    t0 = std::chrono::steady_clock::now();
    const std::string c = path_in(dir, name + ".c");
    const ToolRun r = run_tool({o.tools.wasm2c, kFeatures, "-n", name, wasm, "-o", c}, o.tool_timeout);
    if (!r.ok()) return tool_failed("wasm2c", r);
    out.translate_ms += ms_since(t0);
    t0 = std::chrono::steady_clock::now();
    const std::string obj = path_in(dir, name + ".o");
    if (auto k = compile(o, c, obj); !k) return Fail{k.error()};
    out.compile_ms += ms_since(t0);
    return obj;
}

// The C sources of main: the driver's, or glue generated from m.h.
Result<std::vector<std::string>, WasmError> main_sources(const std::string& dir, const WasmPrepareOptions& o) {
    if (!o.driver_sources.empty()) return o.driver_sources;
    auto header = read_all(path_in(dir, "m.h"));
    if (!header) return Fail{header.error()};
    const std::string h(header.value().begin(), header.value().end());
    auto g = make_glue(h, "m.h");
    if (!g) return Fail{g.error()};
    const std::string glue = path_in(dir, "glue.c");
    if (auto w = write_all(glue, as_bytes(g.value())); !w) return Fail{w.error()};
    return std::vector<std::string>{glue};
}

Result<void, WasmError> link(const std::string& dir, std::vector<std::string> objects, const WasmPrepareOptions& o) {
    auto sources = main_sources(dir, o);
    if (!sources) return Fail{sources.error()};
    for (std::size_t i = 0; i < sources.value().size(); ++i) {
        std::vector<std::string> argv = {o.tools.cc};
        for (const auto& f : module_cflags()) argv.push_back(f);
        argv.push_back("-I" + dir);
        for (const auto& f : include_flags(o.tools)) argv.push_back(f);
        const std::string obj = path_in(dir, fmt::format("glue{}.o", i));
        argv.insert(argv.end(), {"-c", sources.value()[i], "-o", obj});
        const ToolRun r = run_tool(argv, o.tool_timeout);
        if (!r.ok()) return tool_failed("the C compiler (main)", r);
        objects.push_back(obj);
    }
    std::vector<std::string> argv = {o.tools.cc};
    for (const auto& f : link_flags()) argv.push_back(f);
    argv.push_back("-Wl,-T," + o.tools.linker_script);
    argv.insert(argv.end(), objects.begin(), objects.end());
    // libgcc: helpers the compiler calls on baseline x86-64 (__popcountdi2, ...).
    argv.insert(argv.end(), {o.tools.runtime_archive, "-lgcc", "-o", path_in(dir, "agent.elf")});
    const ToolRun r = run_tool(argv, o.tool_timeout);
    if (!r.ok()) return tool_failed("the linker", r);
    return {};
}

// The cache key: the module's digest, or for several (a driver build) the
// digest of their digests.
WasmDigest key_of(std::span<const std::vector<std::uint8_t>> modules) {
    if (modules.size() == 1) return wasm_digest(modules[0]);
    crypto_generichash_state st;
    WasmDigest out{};
    crypto_generichash_init(&st, nullptr, 0, out.size());
    for (const auto& m : modules) {
        const WasmDigest d = wasm_digest(m);
        crypto_generichash_update(&st, d.data(), d.size());
    }
    crypto_generichash_final(&st, out.data(), out.size());
    return out;
}

Result<void, WasmError> build_into_cache(std::span<const std::vector<std::uint8_t>> modules, const std::string& cache,
                                         const WasmPrepareOptions& o, WasmPrepared& out) {
    auto dir = ScratchDir::create(cache);
    if (!dir) return Fail{dir.error()};
    const std::string& d = dir.value().path();
    std::vector<std::string> objects;
    for (std::size_t i = 0; i < modules.size(); ++i) {
        if (i > 0) {
            if (auto p = parse_wasm_module(modules[i], o.limits); !p) return Fail{p.error()};
        }
        const std::string name = o.driver_sources.empty()    ? "m"
                                 : i < o.module_names.size() ? o.module_names[i]
                                                             : fmt::format("m{}", i);
        auto obj = translate_one(modules[i], name, d, o, out);
        if (!obj) return Fail{obj.error()};
        objects.push_back(obj.value());
    }
    const auto t0 = std::chrono::steady_clock::now();
    if (auto l = link(d, std::move(objects), o); !l) return l;
    out.compile_ms += ms_since(t0);
    std::error_code ec;
    fs::rename(path_in(d, "agent.elf"), out.elf_path, ec);  // atomic: a concurrent start sees all or nothing
    if (ec) return Fail{WasmError{WasmErrc::kCache, fmt::format("cannot store {}: {}", out.elf_path, ec.message())}};
    return {};
}

}  // namespace

Result<WasmPrepared, WasmError> prepare_wasm(std::span<const std::vector<std::uint8_t>> modules,
                                             const WasmPrepareOptions& o) {
    if (sodium_init() < 0) return Fail{WasmError{WasmErrc::kToolchain, "libsodium could not be initialized"}};
    if (modules.empty()) return Fail{WasmError{WasmErrc::kMalformed, "no module given"}};
    const bool driver = !o.driver_sources.empty();
    if (!driver && modules.size() != 1)
        return Fail{WasmError{WasmErrc::kMalformed, "an agent is exactly one module (several need a driver)"}};
    WasmPrepared out;
    auto info = parse_wasm_module(modules[0], o.limits);
    if (!info) return Fail{info.error()};
    if (!driver) {
        if (auto c = check_imports(info.value()); !c) return Fail{c.error()};
    }
    out.info = std::move(info.value());
    out.digest = key_of(modules);
    out.digest_hex = hex(out.digest);
    auto fp = fingerprint(o.tools, o);
    if (!fp) return Fail{fp.error()};
    const std::string cache = o.cache_dir.empty() ? default_cache_dir() : o.cache_dir;
    out.elf_path = fmt::format("{}/{}-{}.elf", cache, out.digest_hex, fp.value());
    std::error_code ec;
    if (o.use_cache && fs::is_regular_file(out.elf_path, ec)) {
        out.from_cache = true;
    } else if (auto b = build_into_cache(modules, cache, o, out); !b) {
        return Fail{b.error()};
    }
    if (!o.output_path.empty()) {
        fs::copy_file(out.elf_path, o.output_path, fs::copy_options::overwrite_existing, ec);
        if (ec)
            return Fail{WasmError{WasmErrc::kCache, fmt::format("cannot write {}: {}", o.output_path, ec.message())}};
    }
    return out;
}

}  // namespace rvm::wasm
