// The wasm loader's structural parse and checks (no KVM, no toolchain):
// limits, imports against RVM's import modules, malformed encodings, the
// WASI argument block and the generated main.
#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "wasm/wasm_args.hpp"
#include "wasm/wasm_glue.hpp"
#include "wasm/wasm_imports.hpp"
#include "wasm/wasm_module.hpp"

namespace rvm::wasm {
namespace {

using Bytes = std::vector<std::uint8_t>;

// A module from sections: header, then each {id, payload}.
Bytes module(const std::vector<std::pair<std::uint8_t, Bytes>>& sections) {
    Bytes m = {0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00};
    for (const auto& [id, payload] : sections) {
        m.push_back(id);
        std::uint32_t n = static_cast<std::uint32_t>(payload.size());
        do {
            std::uint8_t b = n & 0x7f;
            n >>= 7;
            if (n != 0) b |= 0x80;
            m.push_back(b);
        } while (n != 0);
        for (std::uint8_t b : payload) m.push_back(b);
    }
    return m;
}

Bytes name(const std::string& s) {
    Bytes b = {static_cast<std::uint8_t>(s.size())};
    for (char c : s) b.push_back(static_cast<std::uint8_t>(c));
    return b;
}

Bytes cat(std::initializer_list<Bytes> parts) {
    Bytes out;
    // Byte by byte: GCC 12 at -O3 sees a false -Warray-bounds in vector::insert of tiny vectors.
    for (const auto& p : parts)
        for (std::uint8_t b : p) out.push_back(b);
    return out;
}

// type 0: (i32) -> (); type 1: () -> ()
const Bytes kTypes = {0x02, 0x60, 0x01, 0x7f, 0x00, 0x60, 0x00, 0x00};

TEST(WasmModule, ReadsImportsExportsAndMemory) {
    const Bytes imports = cat({{0x01}, name("wasi_snapshot_preview1"), name("proc_exit"), {0x00, 0x00}});
    const Bytes exports = cat({{0x01}, name("_start"), {0x00, 0x01}});
    const auto m = parse_wasm_module(
        module({{1, kTypes}, {2, imports}, {3, {0x01, 0x01}}, {5, {0x01, 0x01, 0x01, 0x04}}, {7, exports}}), {});
    ASSERT_TRUE(m.ok()) << m.error().message;
    ASSERT_EQ(m.value().imports.size(), 1u);
    EXPECT_EQ(m.value().imports[0].name, "proc_exit");
    EXPECT_EQ(m.value().memory_min_pages, 1u);
    EXPECT_EQ(m.value().memory_max_pages.value_or(0), 4u);
    const WasmExport* e = m.value().find_export("_start", WasmKind::kFunc);
    ASSERT_NE(e, nullptr);
    const WasmFuncType* t = m.value().func_type(e->index);
    ASSERT_NE(t, nullptr);
    EXPECT_EQ(t->params, "");
    EXPECT_TRUE(check_imports(m.value()).ok());
}

TEST(WasmModule, RefusesMemoryThatCannotFitThePartition) {
    WasmLimits l;
    l.memory_bytes = std::uint64_t{16} << 20;
    const auto m = parse_wasm_module(module({{5, {0x01, 0x00, 0x80, 0x02}}}), l);  // 256 pages = 16 MiB
    EXPECT_TRUE(m.ok());
    const auto big = parse_wasm_module(module({{5, {0x01, 0x00, 0x81, 0x02}}}), l);  // 257 pages
    ASSERT_FALSE(big.ok());
    EXPECT_EQ(big.error().code, WasmErrc::kTooLarge);
    EXPECT_NE(big.error().message.find("do not fit the partition"), std::string::npos);
}

TEST(WasmModule, RefusesUnknownAndMistypedImports) {
    const Bytes unknown = cat({{0x01}, name("env"), name("system"), {0x00, 0x01}});
    const auto m = parse_wasm_module(module({{1, kTypes}, {2, unknown}}), {});
    ASSERT_TRUE(m.ok());
    const auto c = check_imports(m.value());
    ASSERT_FALSE(c.ok());
    EXPECT_EQ(c.error().code, WasmErrc::kImport);
    EXPECT_NE(c.error().message.find("'env' 'system' does not exist"), std::string::npos);

    const Bytes mistyped = cat({{0x01}, name("rvm"), name("yield"), {0x00, 0x00}});  // (i32) -> (), not () -> i32
    const auto m2 = parse_wasm_module(module({{1, kTypes}, {2, mistyped}}), {});
    ASSERT_TRUE(m2.ok());
    const auto c2 = check_imports(m2.value());
    ASSERT_FALSE(c2.ok());
    EXPECT_NE(c2.error().message.find("has type (i32) -> (), RVM provides () -> (i32)"), std::string::npos);

    const Bytes memory = cat({{0x01}, name("env"), name("memory"), {0x02, 0x00, 0x01}});
    const auto m3 = parse_wasm_module(module({{2, memory}}), {});
    ASSERT_TRUE(m3.ok());
    EXPECT_FALSE(check_imports(m3.value()).ok());
}

TEST(WasmModule, RefusesMalformedInput) {
    EXPECT_FALSE(parse_wasm_module(Bytes{}, {}).ok());
    EXPECT_FALSE(parse_wasm_module(Bytes{0x7f, 'E', 'L', 'F', 2, 1, 1, 0}, {}).ok());
    EXPECT_FALSE(parse_wasm_module(Bytes{0x00, 0x61, 0x73, 0x6d, 0x02, 0x00, 0x00, 0x00}, {}).ok());
    // A section longer than the module.
    EXPECT_FALSE(parse_wasm_module(Bytes{0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x7f}, {}).ok());
    // A count that the bytes cannot hold.
    EXPECT_FALSE(parse_wasm_module(module({{1, {0xff, 0xff, 0x03}}}), {}).ok());
    // An over-long LEB128 (6 bytes for a u32).
    EXPECT_FALSE(parse_wasm_module(module({{3, {0x81, 0x80, 0x80, 0x80, 0x80, 0x00}}}), {}).ok());
    // Unused bits set in the last byte of a u32.
    EXPECT_FALSE(parse_wasm_module(module({{3, {0x01, 0x80, 0x80, 0x80, 0x80, 0x70}}}), {}).ok());
    WasmLimits tiny;
    tiny.max_module_bytes = 8;
    const auto big = parse_wasm_module(module({{0, {0x00}}}), tiny);
    ASSERT_FALSE(big.ok());
    EXPECT_EQ(big.error().code, WasmErrc::kTooLarge);
}

TEST(WasmModule, RefusesHugeTables) {
    WasmLimits l;
    l.max_table_elements = 1000;
    const auto t = parse_wasm_module(module({{4, {0x01, 0x70, 0x00, 0xe9, 0x07}}}), l);  // 1001 elements
    ASSERT_FALSE(t.ok());
    EXPECT_EQ(t.error().code, WasmErrc::kTooLarge);
}

TEST(WasmArgs, WritesArgsAndEnvironmentIntoTheBlock) {
    Bytes elf(64, 0xee);
    const std::string magic = "RVM-WASM-ARGS-v1";
    for (char c : magic) elf.push_back(static_cast<std::uint8_t>(c));
    elf.resize(elf.size() + kWasmArgsBlobBytes, 0);
    ASSERT_TRUE(patch_wasm_args(elf, {"prog", "x"}, {"A=1"}).ok());
    const std::size_t at = 64 + magic.size();
    EXPECT_EQ(elf[at], 2u);       // argc
    EXPECT_EQ(elf[at + 4], 1u);   // envc
    EXPECT_EQ(elf[at + 8], 11u);  // "prog\0x\0A=1\0"
    EXPECT_EQ(std::string(reinterpret_cast<const char*>(elf.data() + at + 12)), "prog");
    EXPECT_FALSE(patch_wasm_args(elf, {std::string(5000, 'a')}, {}).ok());
    Bytes none(100, 0);
    EXPECT_TRUE(patch_wasm_args(none, {}, {}).ok()) << "a module without WASI args needs no block";
    EXPECT_FALSE(patch_wasm_args(none, {"x"}, {}).ok());
}

TEST(WasmGlue, CallsStartWithRvmsImportModules) {
    const std::string h =
        "void Z_m_instantiate(Z_m_instance_t*, struct Z_wasi_snapshot_preview1_instance_t*, struct "
        "Z_rvm_instance_t*);\nwasm_rt_memory_t* Z_mZ_memory(Z_m_instance_t* instance);\n"
        "void Z_mZ__start(Z_m_instance_t*);\n";
    const auto g = make_glue(h, "m.h");
    ASSERT_TRUE(g.ok()) << g.error().message;
    EXPECT_NE(g.value().find("Z_m_instantiate(&instance, &rvm_wasi_instance, &rvm_rvm_instance);"), std::string::npos);
    EXPECT_NE(g.value().find("rvm_wasm_bind_memory(Z_mZ_memory(&instance));"), std::string::npos);
    EXPECT_NE(g.value().find("Z_mZ__start(&instance);"), std::string::npos);
    const auto none = make_glue("void Z_m_instantiate(Z_m_instance_t*);\n", "m.h");
    ASSERT_FALSE(none.ok());
    EXPECT_EQ(none.error().code, WasmErrc::kNoEntry);
}

}  // namespace
}  // namespace rvm::wasm
