// The manifest parser: valid manifests, and every refusal naming its key
// and line; the example manifests in examples/manifests.
#include <gtest/gtest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "host/manifest.hpp"

namespace rvm {
namespace {

using host::ManifestErrc;

class ManifestDir {
public:
    ManifestDir() {
        const char* base = std::getenv("TMPDIR");
        std::string tmpl = std::string(base != nullptr ? base : "/tmp") + "/rvm-manifest-XXXXXX";
        if (::mkdtemp(tmpl.data()) != nullptr) path_ = tmpl;
    }
    ~ManifestDir() {
        std::error_code ec;
        if (!path_.empty()) std::filesystem::remove_all(path_, ec);
    }
    ManifestDir(const ManifestDir&) = delete;
    ManifestDir& operator=(const ManifestDir&) = delete;

    [[nodiscard]] const std::string& path() const { return path_; }
    [[nodiscard]] std::string file(const std::string& name) const { return path_ + "/" + name; }
    void write(const std::string& name, const std::string& text) const {
        std::filesystem::create_directories(std::filesystem::path(file(name)).parent_path());
        std::ofstream(file(name)) << text;
    }

private:
    std::string path_;
};

class Manifest : public ::testing::Test {
protected:
    void SetUp() override {
        ASSERT_FALSE(dir_.path().empty());
        dir_.write("agent_hello",
                   "\x7f"
                   "ELF");
        dir_.write("bin/agent_compute",
                   "\x7f"
                   "ELF");
    }

    [[nodiscard]] Result<host::Manifest, host::ManifestError> parse(const std::string& text) const {
        return host::parse_manifest(text, "m.toml", dir_.path());
    }

    // Parses `text`, expects the refusal `code` whose message contains every
    // string in `parts`, and returns the message.
    std::string refused(const std::string& text, ManifestErrc code, std::initializer_list<std::string> parts) {
        const auto r = parse(text);
        EXPECT_FALSE(r.ok()) << text;
        if (r.ok()) return {};
        const std::string msg(r.error().message());
        EXPECT_EQ(r.error().code, code) << msg;
        for (const std::string& p : parts) EXPECT_NE(msg.find(p), std::string::npos) << "'" << p << "' not in: " << msg;
        return msg;
    }

    // A valid partition with one extra line (a key to test).
    static std::string with(const std::string& line) {
        return "[[partition]]\nname = \"hello\"\nagent = \"agent_hello\"\n" + line + "\n";
    }

    ManifestDir dir_;
};

TEST_F(Manifest, MinimalTakesDefaults) {
    const auto r = parse("[[partition]]\nname = \"hello\"\nagent = \"agent_hello\"\n");
    ASSERT_TRUE(r.ok()) << r.error().message();
    const host::Manifest& m = r.value();
    EXPECT_EQ(m.dir, dir_.path());
    EXPECT_EQ(m.run.wall_time, std::chrono::seconds(30));
    EXPECT_TRUE(m.run.witness_path.empty());
    ASSERT_EQ(m.partitions.size(), 1U);
    const host::PartitionSpec& p = m.partitions[0];
    EXPECT_EQ(p.name, "hello");
    EXPECT_EQ(p.agent_path, dir_.file("agent_hello"));
    EXPECT_EQ(p.memory_bytes, 16U << 20);
    EXPECT_EQ(p.tasks, 1U);
    EXPECT_EQ(p.max_tasks, 8U);
    EXPECT_EQ(p.stack_bytes, 64U << 10);
    EXPECT_EQ(p.wall_time, std::chrono::seconds(30));
    EXPECT_EQ(p.log_rate, 100U);
    EXPECT_EQ(p.line, 1U);
}

TEST_F(Manifest, FullSetsEverything) {
    dir_.write("out/keep", "");
    const auto ok = parse(R"([run]
wall_time = "2m"
witness = "out/run.witness"
agent_dir = "bin"

[[partition]]
name = "compute-1"
agent = "agent_compute"
memory = "64MiB"
tasks = 4
max_tasks = 16
stack = "128KiB"
wall_time = "90s"
log_rate = 1000

[[partition]]
name = "hello_2"
agent = "../agent_hello"
memory = 1073741824
stack = 4096
wall_time = 2500
)");
    ASSERT_TRUE(ok.ok()) << ok.error().message();
    const host::Manifest& m = ok.value();
    EXPECT_EQ(m.run.wall_time, std::chrono::minutes(2));
    EXPECT_EQ(m.run.witness_path, dir_.file("out/run.witness"));
    EXPECT_EQ(m.run.agent_dir, dir_.file("bin"));
    ASSERT_EQ(m.partitions.size(), 2U);
    const host::PartitionSpec& a = m.partitions[0];
    EXPECT_EQ(a.name, "compute-1");
    EXPECT_EQ(a.agent_path, dir_.file("bin/agent_compute"));
    EXPECT_EQ(a.memory_bytes, 64U << 20);
    EXPECT_EQ(a.tasks, 4U);
    EXPECT_EQ(a.max_tasks, 16U);
    EXPECT_EQ(a.stack_bytes, 128U << 10);
    EXPECT_EQ(a.wall_time, std::chrono::seconds(90));
    EXPECT_EQ(a.log_rate, 1000U);
    EXPECT_EQ(a.line, 6U);
    const host::PartitionSpec& b = m.partitions[1];
    EXPECT_EQ(b.agent_path, dir_.file("agent_hello"));  // normalized
    EXPECT_EQ(b.memory_bytes, 1U << 30);
    EXPECT_EQ(b.stack_bytes, 4096U);
    EXPECT_EQ(b.wall_time, std::chrono::milliseconds(2500));
    EXPECT_EQ(b.line, 16U);
}

TEST_F(Manifest, AbsoluteAgentPathIsKept) {
    const auto r = parse("[[partition]]\nname = \"a\"\nagent = \"" + dir_.file("agent_hello") + "\"\n");
    ASSERT_TRUE(r.ok()) << r.error().message();
    EXPECT_EQ(r.value().partitions[0].agent_path, dir_.file("agent_hello"));
}

TEST_F(Manifest, InlineTablesAreAccepted) {
    const auto r = parse(
        "partition = [{ name = \"a\", agent = \"agent_hello\" }, { name = \"b\", agent = "
        "\"agent_hello\", tasks = 2 }]\n");
    ASSERT_TRUE(r.ok()) << r.error().message();
    EXPECT_EQ(r.value().partitions[1].tasks, 2U);
}

TEST_F(Manifest, UnknownKeysNameKeyLineAndSuggestion) {
    const std::string msg = refused(with("memroy = \"16MiB\""), ManifestErrc::kUnknownKey,
                                    {"m.toml:4: ", "unknown key 'memroy'", "[[partition]] 'hello'", "'memory'"});
    EXPECT_EQ(msg, "m.toml:4: unknown key 'memroy' in [[partition]] 'hello' (did you mean 'memory'?)");
    refused("[run]\nwall_tme = \"1s\"\n" + with(""), ManifestErrc::kUnknownKey,
            {"m.toml:2:", "'wall_tme' in [run]", "'wall_time'"});
    refused("partitions = 1\n" + with(""), ManifestErrc::kUnknownKey, {"m.toml:1:", "'partitions'", "top level"});
    refused(with("zzzzzz = 1"), ManifestErrc::kUnknownKey, {"m.toml:4:", "'zzzzzz'"});
    // A nested table is an unknown key of its parent.
    refused("[run.extra]\nx = 1\n" + with(""), ManifestErrc::kUnknownKey, {"'extra' in [run]"});
    // The earliest unknown key is reported, not the alphabetically first.
    refused(with("zz = 1\naa = 2"), ManifestErrc::kUnknownKey, {"m.toml:4:", "'zz'"});
    // Without a usable name the partition is numbered.
    refused("[[partition]]\nname = 3\nbogus = 1\n", ManifestErrc::kUnknownKey, {"[[partition]] #1", "'bogus'"});
}

TEST_F(Manifest, MissingRequiredKeys) {
    refused("[[partition]]\nagent = \"agent_hello\"\n", ManifestErrc::kMissingKey,
            {"m.toml:1:", "missing required key 'name'"});
    refused("[[partition]]\nname = \"a\"\n", ManifestErrc::kMissingKey,
            {"m.toml:1:", "[[partition]] 'a'", "missing required key 'agent'"});
}

TEST_F(Manifest, WrongTypesNameKeyAndExpectedType) {
    refused("[[partition]]\nname = 7\nagent = \"agent_hello\"\n", ManifestErrc::kWrongType,
            {"m.toml:2:", "'name'", "must be a string, not an integer"});
    refused(with("memory = 16.5"), ManifestErrc::kWrongType, {"m.toml:4:", "'memory'", "an integer (bytes)", "float"});
    refused(with("stack = true"), ManifestErrc::kWrongType, {"'stack'", "boolean"});
    refused(with("tasks = \"2\""), ManifestErrc::kWrongType, {"'tasks'", "must be an integer, not a string"});
    refused(with("max_tasks = 2.0"), ManifestErrc::kWrongType, {"'max_tasks'", "must be an integer"});
    refused(with("log_rate = [1]"), ManifestErrc::kWrongType, {"'log_rate'", "an array"});
    refused(with("wall_time = 1.5"), ManifestErrc::kWrongType, {"'wall_time'", "milliseconds"});
    refused("run = 1\n" + with(""), ManifestErrc::kWrongType, {"'run' must be a table"});
    refused("[run]\nwitness = 1\n" + with(""), ManifestErrc::kWrongType, {"'witness' in [run]", "a string"});
    refused("[run]\nagent_dir = false\n" + with(""), ManifestErrc::kWrongType, {"'agent_dir' in [run]"});
    refused("[run]\npsi_policy = \"yes\"\n" + with(""), ManifestErrc::kWrongType,
            {"'psi_policy' in [run]", "a boolean"});
    const auto pol = parse("[run]\npsi_policy = true\n" + with(""));
    ASSERT_TRUE(pol.ok()) << pol.error().message();
    EXPECT_TRUE(pol.value().run.psi_policy);
    EXPECT_FALSE(parse(with("")).value().run.psi_policy);
    refused("[partition]\nname = \"a\"\n", ManifestErrc::kWrongType, {"'partition' must be an array of tables"});
    refused("partition = [1]\n", ManifestErrc::kWrongType, {"partition #1 must be a table"});
}

TEST_F(Manifest, SizesAreStrict) {
    for (const char* bad :
         {"\"16 MB\"", "\"16MB\"", "\"16 MiB\"", "\"MiB\"", "\"-1MiB\"", "\"+16MiB\"", "\"16mib\"", "\"16MiB \"",
          "\"0x10MiB\"", "\"16\"", "\"\"", "\"99999999999999999999MiB\"", "\"18014398509481984GiB\""}) {
        refused(with(std::string("memory = ") + bad), ManifestErrc::kBadValue, {"m.toml:4:", "'memory'"});
    }
    refused(with("memory = -4096"), ManifestErrc::kBadValue, {"'memory'", "negative"});
    refused(with("memory = 0"), ManifestErrc::kBadValue, {"'memory'", "1MiB..1GiB"});
    refused(with("memory = \"0MiB\""), ManifestErrc::kBadValue, {"'memory'", "1MiB..1GiB"});
    refused(with("memory = \"512KiB\""), ManifestErrc::kBadValue, {"'memory'", "512KiB"});
    refused(with("memory = \"2GiB\""), ManifestErrc::kBadValue, {"'memory'", "2GiB"});
    refused(with("memory = 1050000"), ManifestErrc::kBadValue, {"'memory'", "multiple of 4KiB"});
    refused(with("stack = \"2KiB\""), ManifestErrc::kBadValue, {"'stack'", "4KiB..8MiB"});
    refused(with("stack = \"16MiB\"\nmemory=\"1GiB\""), ManifestErrc::kBadValue, {"'stack'", "4KiB..8MiB"});
    refused(with("stack = 5000"), ManifestErrc::kBadValue, {"'stack'", "multiple of 4KiB"});
}

TEST_F(Manifest, DurationsAreStrict) {
    for (const char* bad : {"\"10 s\"", "\"10sec\"", "\"1h\"", "\"s\"", "\"-5s\"", "\"1.5s\"", "\"10S\"", "\"\"",
                            "\"99999999999999999999ms\"", "\"999999999999999999m\""}) {
        refused("[run]\nwall_time = " + std::string(bad) + "\n" + with(""), ManifestErrc::kBadValue,
                {"m.toml:2:", "'wall_time' in [run]"});
    }
    refused("[run]\nwall_time = 0\n" + with(""), ManifestErrc::kBadValue, {"'wall_time'", "1ms.."});
    refused("[run]\nwall_time = \"0s\"\n" + with(""), ManifestErrc::kBadValue, {"'wall_time'"});
    refused("[run]\nwall_time = -1\n" + with(""), ManifestErrc::kBadValue, {"'wall_time'", "negative"});
    refused("[run]\nwall_time = \"10081m\"\n" + with(""), ManifestErrc::kBadValue, {"'wall_time'", "10081m"});

    const auto r = parse("[run]\nwall_time = \"250ms\"\n" + with("wall_time = 250"));
    ASSERT_TRUE(r.ok()) << r.error().message();
    EXPECT_EQ(r.value().run.wall_time, std::chrono::milliseconds(250));
}

TEST_F(Manifest, PartitionWallTimeWithinTheRuns) {
    refused("[run]\nwall_time = \"10s\"\n" + with("wall_time = \"11s\""), ManifestErrc::kBadValue,
            {"m.toml:6:", "'wall_time' in [[partition]] 'hello'", "11s", "10s"});
    refused(with("wall_time = \"31s\""), ManifestErrc::kBadValue, {"'wall_time'", "30s"});  // the default run limit
    const auto r = parse("[run]\nwall_time = \"10s\"\n" + with(""));
    ASSERT_TRUE(r.ok()) << r.error().message();
    EXPECT_EQ(r.value().partitions[0].wall_time, std::chrono::seconds(10));
}

TEST_F(Manifest, CountsAndRates) {
    refused(with("tasks = 0"), ManifestErrc::kBadValue, {"'tasks'", "1..8"});
    refused(with("tasks = 9"), ManifestErrc::kBadValue, {"'tasks'", "1..8"});
    refused(with("tasks = 3\nmax_tasks = 2"), ManifestErrc::kBadValue, {"'tasks'", "1..2"});
    refused(with("max_tasks = 0"), ManifestErrc::kBadValue, {"'max_tasks'", "1..64"});
    refused(with("max_tasks = 65"), ManifestErrc::kBadValue, {"'max_tasks'", "1..64"});
    refused(with("log_rate = 0"), ManifestErrc::kBadValue, {"'log_rate'", "1..100000"});
    refused(with("log_rate = 100001"), ManifestErrc::kBadValue, {"'log_rate'"});
    refused(with("log_rate = -9223372036854775808"), ManifestErrc::kBadValue, {"'log_rate'"});
    const auto r = parse(with("tasks = 64\nmax_tasks = 64\nlog_rate = 100000"));
    ASSERT_TRUE(r.ok()) << r.error().message();
    EXPECT_EQ(r.value().partitions[0].tasks, 64U);
}

TEST_F(Manifest, Names) {
    for (const char* bad : {"", "Hello", "a b", "a.b", "ümlaut", "a/b", "abcdefghijabcdefghijabcdefghijabc"}) {
        refused("[[partition]]\nname = \"" + std::string(bad) + "\"\nagent = \"agent_hello\"\n",
                ManifestErrc::kBadValue, {"m.toml:2:", "'name'"});
    }
    const auto r = parse("[[partition]]\nname = \"abcdefghijabcdefghijabcdefghij-_\"\nagent = \"agent_hello\"\n");
    EXPECT_TRUE(r.ok()) << r.error().message();
}

TEST_F(Manifest, DuplicateNames) {
    refused(with("") + with(""), ManifestErrc::kDuplicateName,
            {"m.toml:5:", "duplicate partition name 'hello'", "line 1"});
}

TEST_F(Manifest, PartitionCount) {
    refused("", ManifestErrc::kPartitionCount, {"m.toml: ", "at least one [[partition]]"});
    refused("[run]\nwall_time = \"1s\"\n", ManifestErrc::kPartitionCount, {"at least one"});
    refused("partition = []\n", ManifestErrc::kPartitionCount, {"m.toml:1:", "at least one"});
    std::string many;
    for (int i = 0; i < 65; ++i) {
        many += "[[partition]]\nname = \"p" + std::to_string(i) + "\"\nagent = \"agent_hello\"\n";
    }
    refused(many, ManifestErrc::kPartitionCount, {"m.toml:193:", "65 partitions", "at most 64"});
    const std::size_t cut = many.rfind("[[partition]]");
    const auto r = parse(many.substr(0, cut));
    ASSERT_TRUE(r.ok()) << r.error().message();
    EXPECT_EQ(r.value().partitions.size(), 64U);
}

TEST_F(Manifest, ImpossibleSizes) {
    const std::string msg =
        refused(with("memory = \"6MiB\"\nstack = \"256KiB\"\nmax_tasks = 8"), ManifestErrc::kImpossibleSizes,
                {"m.toml:1:", "impossible sizes", "[[partition]] 'hello'", "256KiB", "max_tasks 8", "7MiB", "6MiB"});
    EXPECT_EQ(msg,
              "m.toml:1: impossible sizes in [[partition]] 'hello': stack 256KiB x max_tasks 8 + 5MiB overhead = "
              "7MiB, more than memory 6MiB");
    // Exactly full is fine.
    const auto r = parse(with("memory = \"7MiB\"\nstack = \"256KiB\"\nmax_tasks = 8"));
    EXPECT_TRUE(r.ok()) << r.error().message();
    refused(with("memory = \"512MiB\"\nstack = \"8MiB\"\nmax_tasks = 64"), ManifestErrc::kImpossibleSizes,
            {"517MiB", "memory 512MiB"});
}

TEST_F(Manifest, AgentFileIsChecked) {
    refused("[[partition]]\nname = \"a\"\nagent = \"nope\"\n", ManifestErrc::kAgentFile,
            {"m.toml:1:", "[[partition]] 'a'", dir_.file("nope"), "No such file"});
    refused("[[partition]]\nname = \"a\"\nagent = \"bin\"\n", ManifestErrc::kAgentFile,
            {dir_.file("bin"), "not a regular file"});
    refused("[[partition]]\nname = \"a\"\nagent = \"\"\n", ManifestErrc::kBadValue, {"'agent'", "non-empty"});
    refused("[[partition]]\nname = \"a\"\nagent = \"agent_hello\\u0000x\"\n", ManifestErrc::kBadValue,
            {"'agent'", "NUL"});
    if (::geteuid() != 0) {  // root reads anything
        dir_.write("secret", "x");
        ASSERT_EQ(::chmod(dir_.file("secret").c_str(), 0), 0);
        refused("[[partition]]\nname = \"a\"\nagent = \"secret\"\n", ManifestErrc::kAgentFile,
                {dir_.file("secret"), "Permission denied"});
    }
}

TEST_F(Manifest, AgentDir) {
    refused("[run]\nagent_dir = \"missing\"\n" + with(""), ManifestErrc::kPath,
            {"m.toml:2:", "agent_dir", dir_.file("missing")});
    refused("[run]\nagent_dir = \"agent_hello\"\n" + with(""), ManifestErrc::kPath, {"m.toml:2:", "not a directory"});
    // Relative agents start at agent_dir; the error names the resolved path.
    refused("[run]\nagent_dir = \"bin\"\n" + with(""), ManifestErrc::kAgentFile, {dir_.file("bin/agent_hello")});
}

TEST_F(Manifest, WitnessMustNotExist) {
    dir_.write("old.witness", "");
    refused("[run]\nwitness = \"old.witness\"\n" + with(""), ManifestErrc::kPath,
            {"m.toml:2:", dir_.file("old.witness"), "already exists"});
    refused("[run]\nwitness = \"no/such/dir/w\"\n" + with(""), ManifestErrc::kPath,
            {"m.toml:2:", "directory does not exist", dir_.file("no/such/dir")});
    refused("[run]\nwitness = \"\"\n" + with(""), ManifestErrc::kBadValue, {"'witness'", "non-empty"});
    const auto r = parse("[run]\nwitness = \"new.witness\"\n" + with(""));
    ASSERT_TRUE(r.ok()) << r.error().message();
    EXPECT_EQ(r.value().run.witness_path, dir_.file("new.witness"));
}

TEST_F(Manifest, SyntaxErrorsNameTheLine) {
    refused("[run]\nwall_time = \n", ManifestErrc::kSyntax, {"m.toml:2:", "invalid TOML"});
    refused("[[partition]]\nname = \"a\"\nname = \"b\"\n", ManifestErrc::kSyntax, {"m.toml:3:"});
    refused(std::string("a = \"\0\"\n", 8), ManifestErrc::kSyntax, {"invalid TOML"});
    // Fuzzer finds: toml++ 3.3 asserted on these (marzer/tomlplusplus#301).
    refused(std::string("[\0", 2), ManifestErrc::kSyntax, {"m.toml:1:", "invalid TOML"});
    for (const char* text : {"[[[1]]]", "[[[a]]]", "[[[]]", "[[=", "[ =", "[\n[[partition]]"}) {
        refused(text, ManifestErrc::kSyntax, {"m.toml:1:", "invalid TOML"});
    }
}

// Fuzzer finds: toml++ 3.3 reached TOML_UNREACHABLE on these non-ASCII code
// points (marzer/tomlplusplus#295, #190); they must be plain refusals.
TEST_F(Manifest, NonAsciiOutsideStringsIsRefused) {
    refused("[\xc3\xbc]\n", ManifestErrc::kSyntax, {"m.toml:1:", "invalid TOML"});
    refused("[\xef\xbb\xb4rmss]\n", ManifestErrc::kSyntax, {"m.toml:1:"});
    refused("\xcc\xaa", ManifestErrc::kSyntax, {"m.toml:1:"});
    refused("name = 1 \xe2\xb4\x80\n", ManifestErrc::kSyntax, {"m.toml:1:"});
    refused("s = \"\"\"\\\n\xc2\xa7\"\"\"\n", ManifestErrc::kUnknownKey, {"'s'"});
    // Inside strings and comments non-ASCII text is fine.
    const auto r = parse("# caf\xc3\xa9 \xe2\x80\x94 \xc2\xa7\n" + with("# \xc3\xbc"));
    EXPECT_TRUE(r.ok()) << r.error().message();
}

TEST_F(Manifest, HostileStringsAreQuotedSafely) {
    const std::string key(5000, 'k');
    const std::string msg = refused(with("\"" + key + "\\n\\u0001\" = 1"), ManifestErrc::kUnknownKey, {"..."});
    EXPECT_LT(msg.size(), 200U);
    const std::string msg2 = refused(with("\"a\\nb\" = 1"), ManifestErrc::kUnknownKey, {"'a\\x0ab'"});
    EXPECT_EQ(msg2.find('\n'), std::string::npos);
}

TEST_F(Manifest, LongSourceNameIsTruncatedNotOverflowed) {
    const std::string long_name(5000, 's');
    const auto r = host::parse_manifest("", long_name, dir_.path());
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().message().size(), host::ManifestError::kCapacity - 1);
    EXPECT_TRUE(r.error().message().ends_with("..."));
}

TEST_F(Manifest, LoadReadsRelativeToTheManifest) {
    dir_.write("sub/m.toml", "[[partition]]\nname = \"a\"\nagent = \"../agent_hello\"\n");
    const auto r = host::load_manifest(dir_.file("sub/m.toml"));
    ASSERT_TRUE(r.ok()) << r.error().message();
    EXPECT_EQ(r.value().dir, dir_.file("sub"));
    EXPECT_EQ(r.value().partitions[0].agent_path, dir_.file("agent_hello"));

    const auto missing = host::load_manifest(dir_.file("none.toml"));
    ASSERT_FALSE(missing.ok());
    EXPECT_EQ(missing.error().code, ManifestErrc::kRead);
    EXPECT_NE(missing.error().message().find(dir_.file("none.toml")), std::string::npos);

    dir_.write("big.toml", std::string(host::kManifestMaxBytes + 1, '#'));
    const auto big = host::load_manifest(dir_.file("big.toml"));
    ASSERT_FALSE(big.ok());
    EXPECT_EQ(big.error().code, ManifestErrc::kRead);
    EXPECT_NE(big.error().message().find("1MiB"), std::string::npos) << big.error().message();

    dir_.write("bad.toml", "[[partition]]\nname = \"a\"\nagnet = \"x\"\n");
    const auto bad = host::load_manifest(dir_.file("bad.toml"));
    ASSERT_FALSE(bad.ok());
    EXPECT_EQ(bad.error().message(),
              dir_.file("bad.toml") + ":3: unknown key 'agnet' in [[partition]] 'a' (did you mean 'agent'?)");
}

std::filesystem::path examples_dir() {
    return std::filesystem::path(__FILE__).parent_path().parent_path().parent_path() / "examples" / "manifests";
}

// The examples parse whenever their agents have been built; when they have
// not, the only acceptable refusal is a missing agent directory or file.
TEST_F(Manifest, ExamplesParseOrOnlyLackAgents) {
    std::error_code ec;
    int seen = 0;
    for (const auto& entry : std::filesystem::directory_iterator(examples_dir(), ec)) {
        if (entry.path().extension() != ".toml") continue;
        ++seen;
        const auto r = host::load_manifest(entry.path().string());
        if (r.ok()) {
            EXPECT_FALSE(r.value().partitions.empty());
            continue;
        }
        EXPECT_TRUE(r.error().code == ManifestErrc::kAgentFile || r.error().code == ManifestErrc::kPath)
            << r.error().message();
        EXPECT_EQ(r.error().message().find("witness"), std::string::npos) << r.error().message();
    }
    EXPECT_FALSE(ec) << ec.message();
    EXPECT_GE(seen, 3);
}

// Whatever has been built, the examples are valid against stand-in agents in
// a copy of the tree's layout (examples/manifests, build/release/guest/examples).
TEST_F(Manifest, ExamplesAreValidWithStandInAgents) {
    for (const char* agent :
         {"hello", "compute", "spawn", "exitcode", "fault", "null", "edge_node", "periodic", "spin"}) {
        dir_.write(std::string("build/release/guest/examples/agent_") + agent + ".elf",
                   "\x7f"
                   "ELF");
    }
    dir_.write("build/release/guest/examples/agent_wasm_edge_source.wasm", "wasm");  // wasm (issue 15)
    std::error_code ec;
    int seen = 0;
    for (const auto& entry : std::filesystem::directory_iterator(examples_dir(), ec)) {
        if (entry.path().extension() != ".toml") continue;
        ++seen;
        const std::string copy = dir_.file("examples/manifests/" + entry.path().filename().string());
        std::filesystem::create_directories(std::filesystem::path(copy).parent_path());
        std::filesystem::copy_file(entry.path(), copy);
        const auto r = host::load_manifest(copy);
        ASSERT_TRUE(r.ok()) << r.error().message();
        EXPECT_FALSE(r.value().partitions.empty());
        for (const host::PartitionSpec& p : r.value().partitions) {
            EXPECT_EQ(p.agent_path.rfind(dir_.file("build/release/guest/examples/agent_"), 0), 0U) << p.agent_path;
        }
    }
    EXPECT_FALSE(ec) << ec.message();
    EXPECT_GE(seen, 3);
}

}  // namespace
}  // namespace rvm

namespace rvm {
namespace {

class ManifestEdges : public ::testing::Test {
protected:
    void SetUp() override {
        dir_.write("agent_hello",
                   "\x7f"
                   "ELF");
    }
    [[nodiscard]] Result<host::Manifest, host::ManifestError> parse(const std::string& edges) const {
        std::string text;
        for (const char* n : {"a", "b", "c"}) {
            text += std::string("[[partition]]\nname = \"") + n + "\"\nagent = \"agent_hello\"\n";
        }
        return host::parse_manifest(text + edges, "m.toml", dir_.path());
    }
    ManifestDir dir_;
};

TEST_F(ManifestEdges, EdgesNamePartitionsInOrder) {
    const auto r =
        parse("[[edge]]\nfrom = \"a\"\nto = \"b\"\n[[edge]]\nfrom = \"b\"\nto = \"c\"\ncapacity = \"4KiB\"\n");
    ASSERT_TRUE(r.ok()) << r.error().message();
    ASSERT_EQ(r.value().edges.size(), 2U);
    EXPECT_EQ(r.value().edges[0].from, 0U);
    EXPECT_EQ(r.value().edges[0].to, 1U);
    EXPECT_EQ(r.value().edges[0].capacity, 65536U) << "the default";
    EXPECT_EQ(r.value().edges[1].capacity, 4096U);
    EXPECT_TRUE(parse("").ok()) << "edges are optional";
}

TEST_F(ManifestEdges, BadEdgesAreRefusedWithTheirLine) {
    const auto unknown = parse("[[edge]]\nfrom = \"a\"\nto = \"zz\"\n");
    ASSERT_FALSE(unknown.ok());
    EXPECT_EQ(unknown.error().code, ManifestErrc::kEdge);
    EXPECT_NE(unknown.error().message().find("no partition named 'zz'"), std::string_view::npos);
    const auto self = parse("[[edge]]\nfrom = \"a\"\nto = \"a\"\n");
    ASSERT_FALSE(self.ok());
    EXPECT_EQ(self.error().code, ManifestErrc::kEdge);
    for (const char* cap : {"\"12KiB\"", "\"2MiB\"", "\"2KiB\"", "0", "\"-4KiB\""}) {
        const auto r = parse(std::string("[[edge]]\nfrom = \"a\"\nto = \"b\"\ncapacity = ") + cap + "\n");
        EXPECT_FALSE(r.ok()) << cap;
    }
    const auto extra = parse("[[edge]]\nfrom = \"a\"\nto = \"b\"\ncolor = \"red\"\n");
    ASSERT_FALSE(extra.ok());
    EXPECT_EQ(extra.error().code, ManifestErrc::kUnknownKey);
    std::string many;
    for (int i = 0; i < 17; ++i) many += "[[edge]]\nfrom = \"a\"\nto = \"b\"\n";
    const auto too_many = parse(many);
    ASSERT_FALSE(too_many.ok());
    EXPECT_EQ(too_many.error().code, ManifestErrc::kEdge);
    EXPECT_FALSE(parse("edge = 5\n").ok());
}

}  // namespace
}  // namespace rvm

namespace rvm {
namespace {

TEST_F(ManifestEdges, SchedulerAndTimingKeys) {
    const auto r = host::parse_manifest(
        "[run]\nscheduler = \"rvm\"\ncpus = 2\n[[partition]]\nname = \"rt\"\nagent = \"agent_hello\"\n"
        "period = \"40ms\"\ndeadline = \"30ms\"\nbudget = \"10ms\"\ncritical = true\n",
        "m.toml", dir_.path());
    ASSERT_TRUE(r.ok()) << r.error().message();
    EXPECT_TRUE(r.value().run.rvm_scheduler);
    EXPECT_EQ(r.value().run.sched_cpus, 2U);
    const host::PartitionSpec& p = r.value().partitions[0];
    EXPECT_EQ(p.period.count(), 40);
    EXPECT_EQ(p.deadline.count(), 30);
    EXPECT_EQ(p.budget.count(), 10);
    EXPECT_TRUE(p.critical);
    const std::string part = "[[partition]]\nname = \"rt\"\nagent = \"agent_hello\"\n";
    for (const char* bad :
         {"budget = \"5ms\"\n", "critical = true\n", "deadline = \"10ms\"\n",
          "deadline = \"10ms\"\nbudget = \"20ms\"\n", "period = \"10ms\"\ndeadline = \"20ms\"\nbudget = \"1ms\"\n",
          "critical = 1\ndeadline = \"10ms\"\nbudget = \"1ms\"\n"}) {
        EXPECT_FALSE(host::parse_manifest(part + bad, "m.toml", dir_.path()).ok()) << bad;
    }
    EXPECT_FALSE(host::parse_manifest("[run]\nscheduler = \"cfs\"\n" + part, "m.toml", dir_.path()).ok());
    EXPECT_FALSE(host::parse_manifest("[run]\ncpus = 0\n" + part, "m.toml", dir_.path()).ok());
    EXPECT_FALSE(host::parse_manifest("[run]\ncpus = 65\n" + part, "m.toml", dir_.path()).ok());
}

}  // namespace
}  // namespace rvm
