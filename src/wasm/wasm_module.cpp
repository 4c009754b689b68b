// The structural parse of a binary module (WebAssembly core spec, section 5:
// the binary format). Only the sections RVM decides on are decoded (type,
// import, function, table, memory, export, start); the others are skipped by
// their declared size, which must lie inside the module.
#include "wasm/wasm_module.hpp"

#include <fmt/core.h>

#include <cstddef>
#include <string_view>

namespace rvm::wasm {
namespace {

using Fail = Err<WasmError>;

Fail malformed(std::string message) { return Fail{WasmError{WasmErrc::kMalformed, std::move(message)}}; }
Fail too_large(std::string message) { return Fail{WasmError{WasmErrc::kTooLarge, std::move(message)}}; }

// A bounded cursor: every read checks what is left.
class Reader {
public:
    explicit Reader(std::span<const std::uint8_t> b) : b_(b) {}

    [[nodiscard]] std::size_t pos() const { return pos_; }
    [[nodiscard]] std::size_t left() const { return b_.size() - pos_; }
    [[nodiscard]] bool failed() const { return failed_; }

    std::uint8_t byte() {
        if (left() == 0) return fail<std::uint8_t>();
        return b_[pos_++];
    }

    // Unsigned LEB128 of at most `bits` bits: ceil(bits / 7) bytes, the
    // unused high bits of the last byte zero (core spec 5.2.2).
    std::uint64_t leb(unsigned bits = 32) {
        const unsigned max_bytes = (bits + 6) / 7;
        std::uint64_t v = 0;
        for (unsigned i = 0; i < max_bytes; ++i) {
            const std::uint8_t c = byte();
            if (failed_) return 0;
            const std::uint64_t payload = c & 0x7fu;
            if (i == max_bytes - 1 && (payload >> (bits - 7 * i)) != 0) return fail<std::uint64_t>();
            v |= payload << (7 * i);
            if ((c & 0x80u) == 0) return v;
        }
        return fail<std::uint64_t>();
    }

    std::uint32_t u32() { return static_cast<std::uint32_t>(leb(32)); }

    std::string name() {
        const std::uint32_t n = u32();
        if (failed_ || n > left()) return fail<std::string>();
        std::string s(reinterpret_cast<const char*>(b_.data() + pos_), n);  // SAFETY: bytes viewed as chars
        pos_ += n;
        return s;
    }

    void skip(std::size_t n) {
        if (n > left()) {
            fail<int>();
            return;
        }
        pos_ += n;
    }

private:
    template <typename T>
    T fail() {
        failed_ = true;
        pos_ = b_.size();
        return T{};
    }

    std::span<const std::uint8_t> b_;
    std::size_t pos_ = 0;
    bool failed_ = false;
};

char value_letter(std::uint8_t t) {
    switch (t) {
        case 0x7f: return 'i';
        case 0x7e: return 'I';
        case 0x7d: return 'f';
        case 0x7c: return 'F';
        case 0x7b: return 'v';
        case 0x70:
        case 0x6f: return 'r';
        default: return 0;
    }
}

struct Limits {
    std::uint64_t min = 0;
    std::optional<std::uint64_t> max;
};

Result<Limits, WasmError> read_limits(Reader& r, const char* what) {
    const std::uint8_t flags = r.byte();
    if (flags > 0x07) return malformed(fmt::format("{} limits: unknown flags 0x{:02x}", what, flags));
    const bool is64 = (flags & 0x04) != 0;
    Limits l;
    l.min = r.leb(is64 ? 64 : 32);
    if ((flags & 0x01) != 0) l.max = r.leb(is64 ? 64 : 32);
    if (r.failed()) return malformed(fmt::format("{} limits run past the end of the module", what));
    return l;
}

struct Parser {
    Reader& r;
    const WasmLimits& limits;
    WasmModuleInfo& m;

    Result<std::uint32_t, WasmError> count(const char* what, std::uint32_t max) {
        const std::uint32_t n = r.u32();
        if (r.failed()) return malformed(fmt::format("{} section: bad count", what));
        if (n > max) return too_large(fmt::format("{} section: {} entries (RVM allows {})", what, n, max));
        // Every entry takes at least one byte: a count beyond the bytes left is a lie.
        if (n > r.left()) return malformed(fmt::format("{} section: {} entries in {} bytes", what, n, r.left()));
        return n;
    }

    Result<void, WasmError> types() {
        auto n = count("type", limits.max_types);
        if (!n) return Fail{n.error()};
        for (std::uint32_t i = 0; i < n.value(); ++i) {
            if (r.byte() != 0x60) return malformed(fmt::format("type {}: not a function type", i));
            WasmFuncType t;
            for (std::string* list : {&t.params, &t.results}) {
                const std::uint32_t k = r.u32();
                if (r.failed() || k > r.left()) return malformed(fmt::format("type {}: bad value count", i));
                for (std::uint32_t j = 0; j < k; ++j) {
                    const char c = value_letter(r.byte());
                    if (c == 0) return malformed(fmt::format("type {}: unknown value type", i));
                    list->push_back(c);
                }
            }
            m.types.push_back(std::move(t));
        }
        return {};
    }

    Result<void, WasmError> memory_limits(const Limits& l) {
        ++m.memories;
        m.memory_min_pages += l.min;
        if (l.max) m.memory_max_pages = l.max;
        if (l.min > 65536) return too_large(fmt::format("memory: {} initial pages (wasm32 allows 65536)", l.min));
        if (l.min * 65536u > limits.memory_bytes) {
            return too_large(fmt::format("memory: {} initial pages ({} MiB) do not fit the partition's {} MiB", l.min,
                                         l.min / 16u, limits.memory_bytes >> 20));
        }
        return {};
    }

    Result<void, WasmError> table_limits(const Limits& l) {
        m.table_min_elements += l.min;
        if (m.table_min_elements > limits.max_table_elements) {
            return too_large(fmt::format("table: {} initial elements (RVM allows {})", m.table_min_elements,
                                         limits.max_table_elements));
        }
        return {};
    }

    Result<void, WasmError> imports() {
        auto n = count("import", limits.max_imports);
        if (!n) return Fail{n.error()};
        for (std::uint32_t i = 0; i < n.value(); ++i) {
            WasmImport imp;
            imp.module = r.name();
            imp.name = r.name();
            const std::uint8_t kind = r.byte();
            if (r.failed()) return malformed(fmt::format("import {} runs past the end of the module", i));
            switch (kind) {
                case 0: imp.type = r.u32(); break;
                case 1: {
                    r.byte();  // reference type
                    auto l = read_limits(r, "imported table");
                    if (!l) return Fail{l.error()};
                    if (auto t = table_limits(l.value()); !t) return t;
                    break;
                }
                case 2: {
                    auto l = read_limits(r, "imported memory");
                    if (!l) return Fail{l.error()};
                    if (auto t = memory_limits(l.value()); !t) return t;
                    break;
                }
                case 3:
                    r.byte();  // value type
                    r.byte();  // mutability
                    break;
                case 4:
                    r.byte();  // attribute
                    imp.type = r.u32();
                    break;
                default: return malformed(fmt::format("import {}: unknown kind 0x{:02x}", i, kind));
            }
            if (r.failed()) return malformed(fmt::format("import {} runs past the end of the module", i));
            imp.kind = static_cast<WasmKind>(kind);
            m.imports.push_back(std::move(imp));
        }
        return {};
    }

    Result<void, WasmError> functions() {
        auto n = count("function", limits.max_functions);
        if (!n) return Fail{n.error()};
        for (std::uint32_t i = 0; i < n.value(); ++i) m.functions.push_back(r.u32());
        if (r.failed()) return malformed("function section runs past its end");
        return {};
    }

    Result<void, WasmError> tables() {
        auto n = count("table", 100'000);
        if (!n) return Fail{n.error()};
        for (std::uint32_t i = 0; i < n.value(); ++i) {
            r.byte();  // reference type
            auto l = read_limits(r, "table");
            if (!l) return Fail{l.error()};
            if (auto t = table_limits(l.value()); !t) return t;
        }
        return {};
    }

    Result<void, WasmError> memories() {
        auto n = count("memory", 100);
        if (!n) return Fail{n.error()};
        for (std::uint32_t i = 0; i < n.value(); ++i) {
            auto l = read_limits(r, "memory");
            if (!l) return Fail{l.error()};
            if (auto t = memory_limits(l.value()); !t) return t;
        }
        return {};
    }

    Result<void, WasmError> exports() {
        auto n = count("export", limits.max_exports);
        if (!n) return Fail{n.error()};
        for (std::uint32_t i = 0; i < n.value(); ++i) {
            WasmExport e;
            e.name = r.name();
            const std::uint8_t kind = r.byte();
            e.index = r.u32();
            if (r.failed()) return malformed(fmt::format("export {} runs past the end of the module", i));
            if (kind > 4) return malformed(fmt::format("export '{}': unknown kind 0x{:02x}", e.name, kind));
            e.kind = static_cast<WasmKind>(kind);
            m.exports.push_back(std::move(e));
        }
        return {};
    }

    Result<void, WasmError> section(std::uint8_t id) {
        switch (id) {
            case 1: return types();
            case 2: return imports();
            case 3: return functions();
            case 4: return tables();
            case 5: return memories();
            case 7: return exports();
            case 8:
                m.start = r.u32();
                if (r.failed()) return malformed("start section: bad function index");
                return {};
            default: return {};
        }
    }
};

}  // namespace

const char* errc_name(WasmErrc c) {
    switch (c) {
        case WasmErrc::kMalformed: return "malformed module";
        case WasmErrc::kInvalid: return "invalid module";
        case WasmErrc::kTooLarge: return "module over RVM's limits";
        case WasmErrc::kImport: return "unsupported import";
        case WasmErrc::kNoEntry: return "no entry point";
        case WasmErrc::kToolchain: return "translation failed";
        case WasmErrc::kCache: return "translation cache unusable";
    }
    return "wasm error";
}

const WasmFuncType* WasmModuleInfo::func_type(std::uint32_t index) const {
    std::uint32_t type = 0;
    std::uint32_t imported = 0;
    for (const WasmImport& i : imports) {
        if (i.kind != WasmKind::kFunc) continue;
        if (imported++ == index) {
            type = i.type;
            return type < types.size() ? &types[type] : nullptr;
        }
    }
    const std::uint64_t local = std::uint64_t{index} - imported;
    if (local >= functions.size()) return nullptr;
    type = functions[local];
    return type < types.size() ? &types[type] : nullptr;
}

const WasmExport* WasmModuleInfo::find_export(std::string_view name, WasmKind kind) const {
    for (const WasmExport& e : exports)
        if (e.kind == kind && e.name == name) return &e;
    return nullptr;
}

Result<WasmModuleInfo, WasmError> parse_wasm_module(std::span<const std::uint8_t> bytes, const WasmLimits& limits) {
    if (bytes.size() > limits.max_module_bytes) {
        return too_large(fmt::format("{} bytes (RVM allows {} MiB)", bytes.size(), limits.max_module_bytes >> 20));
    }
    static constexpr std::uint8_t kHeader[8] = {0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00};
    if (bytes.size() < 8 || !std::equal(kHeader, kHeader + 4, bytes.begin()))
        return malformed("not a WebAssembly binary (no \\0asm magic)");
    if (!std::equal(kHeader + 4, kHeader + 8, bytes.begin() + 4)) return malformed("unknown binary version (not 1)");
    WasmModuleInfo m;
    Reader outer(bytes.subspan(8));
    while (outer.left() > 0) {
        const std::uint8_t id = outer.byte();
        const std::uint32_t size = outer.u32();
        if (outer.failed() || size > outer.left())
            return malformed(fmt::format("section {} at byte {} runs past the end of the module", id, outer.pos() + 8));
        if (id > 13) return malformed(fmt::format("unknown section id {}", id));
        // Order and repetition are the validator's to judge (wasm-validate).
        Reader inner(bytes.subspan(8 + outer.pos(), size));
        Parser p{inner, limits, m};
        if (auto s = p.section(id); !s) return Fail{s.error()};
        if (inner.failed()) return malformed(fmt::format("section {} is shorter than its contents", id));
        outer.skip(size);
    }
    return m;
}

}  // namespace rvm::wasm
