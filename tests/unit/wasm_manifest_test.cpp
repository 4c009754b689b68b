// The manifest keys of WebAssembly agents (issue 15): `args` and `env`,
// arrays of strings, in [[partition]].
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "host/manifest.hpp"

namespace rvm {
namespace {

class WasmManifest : public ::testing::Test {
protected:
    void SetUp() override {
        std::string tmpl = "/tmp/rvm-wasm-manifest-XXXXXX";
        ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
        dir_ = tmpl;
        std::ofstream(dir_ + "/a.wasm") << "\0asm";
    }
    void TearDown() override {
        std::error_code ec;
        std::filesystem::remove_all(dir_, ec);
    }
    [[nodiscard]] Result<host::Manifest, host::ManifestError> parse(const std::string& extra) const {
        return host::parse_manifest("[[partition]]\nname = \"w\"\nagent = \"a.wasm\"\n" + extra, "m.toml", dir_);
    }
    std::string dir_;
};

TEST_F(WasmManifest, ArgsAndEnvAreReadInOrder) {
    const auto m = parse("args = [\"prog\", \"two words\"]\nenv = [\"A=1\"]\n");
    ASSERT_TRUE(m.ok()) << m.error().message();
    const auto& p = m.value().partitions[0];
    ASSERT_EQ(p.wasm_args.size(), 2u);
    EXPECT_EQ(p.wasm_args[1], "two words");
    ASSERT_EQ(p.wasm_env.size(), 1u);
    EXPECT_EQ(p.wasm_env[0], "A=1");
    EXPECT_TRUE(parse("").value().partitions[0].wasm_args.empty());
}

TEST_F(WasmManifest, WrongTypesAreRefusedWithTheKey) {
    const auto a = parse("args = \"prog\"\n");
    ASSERT_FALSE(a.ok());
    EXPECT_EQ(a.error().code, host::ManifestErrc::kWrongType);
    EXPECT_NE(a.error().message().find("'args'"), std::string::npos) << a.error().message();
    const auto e = parse("env = [1, 2]\n");
    ASSERT_FALSE(e.ok());
    EXPECT_NE(e.error().message().find("'env'"), std::string::npos) << e.error().message();
}

}  // namespace
}  // namespace rvm
