// AgentMemory: the one place where an agent's pointer and length become host
// bytes. A view is granted only when every byte lies in the agent's mappings
// (writable ones for writes), without gaps, overflow or leaving guest RAM.
#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <vector>

#include "host/runtime/agent_memory.hpp"

namespace rvm::host {
namespace {

constexpr std::uint64_t kPage = 4096;

// 256 KiB of RAM laid out like a small agent (given out of order: the
// constructor sorts):
//   [0x10000, 0x11000) info      R
//   [0x20000, 0x21000) text      R+X
//   [0x21000, 0x22000) rodata    R
//   [0x22000, 0x24000) data      R+W
//   (gap)
//   [0x30000, 0x38000) heap      R+W
//   [0x38000, 0x40000) stacks    R+W (to the end of RAM)
struct Fixture {
    std::vector<std::uint8_t> ram = std::vector<std::uint8_t>(0x40000);
    AgentMemory mem{ram,
                    {{0x30000, 0x38000, true, false},
                     {0x20000, 0x21000, false, true},
                     {0x38000, 0x40000, true, false},
                     {0x10000, 0x11000, false, false},
                     {0x22000, 0x24000, true, false},
                     {0x21000, 0x22000, false, false}}};

    Fixture() {
        for (std::size_t i = 0; i < ram.size(); ++i) ram[i] = static_cast<std::uint8_t>(i * 7u);
    }
};

TEST(AgentMemory, ViewInsideOneRange) {
    Fixture f;
    const auto v = f.mem.view(0x22010, 32, true);
    ASSERT_TRUE(v.ok);
    EXPECT_EQ(v.bytes.data(), f.ram.data() + 0x22010);
    EXPECT_EQ(v.bytes.size(), 32u);
    // Whole ranges, first and last byte.
    EXPECT_TRUE(f.mem.view(0x10000, kPage, false).ok);
    EXPECT_TRUE(f.mem.view(0x10fff, 1, false).ok);
    EXPECT_TRUE(f.mem.view(0x22000, 2 * kPage, true).ok);
    EXPECT_TRUE(f.mem.view(0x3ffff, 1, true).ok);
}

TEST(AgentMemory, ViewSpanningAdjacentRanges) {
    Fixture f;
    // text -> rodata -> data: readable throughout.
    const auto r = f.mem.view(0x20ff0, 0x1020, false);
    ASSERT_TRUE(r.ok);
    EXPECT_EQ(r.bytes.data(), f.ram.data() + 0x20ff0);
    EXPECT_EQ(r.bytes.size(), 0x1020u);
    EXPECT_TRUE(f.mem.view(0x20000, 0x4000, false).ok);
    // heap -> stacks: both writable.
    EXPECT_TRUE(f.mem.view(0x37ff0, 0x20, true).ok);
    EXPECT_TRUE(f.mem.view(0x30000, 0x10000, true).ok);
    // rodata -> data for writing: the rodata part is not writable.
    EXPECT_FALSE(f.mem.view(0x21ff0, 0x20, true).ok);
}

TEST(AgentMemory, GapsAreRefused) {
    Fixture f;
    EXPECT_FALSE(f.mem.view(0x0, 8, false).ok) << "null guard";
    EXPECT_FALSE(f.mem.view(0x8, 8, false).ok);
    EXPECT_FALSE(f.mem.view(0x11000, 1, false).ok) << "just past the info page";
    EXPECT_FALSE(f.mem.view(0x0fff8, 16, false).ok) << "straddles the start of the info page";
    EXPECT_FALSE(f.mem.view(0x10ff8, 16, false).ok) << "straddles the end of the info page";
    EXPECT_FALSE(f.mem.view(0x24000, 8, false).ok) << "in the gap";
    EXPECT_FALSE(f.mem.view(0x23ff8, 16, true).ok) << "data into the gap";
    EXPECT_FALSE(f.mem.view(0x2fff8, 16, true).ok) << "gap into the heap";
    EXPECT_FALSE(f.mem.view(0x22000, 0x10000, true).ok) << "data, gap, heap";
    EXPECT_FALSE(f.mem.view(0x10000, 0x30000, false).ok) << "everything, gaps included";
}

TEST(AgentMemory, WritesToReadOnlyMappingsAreRefused) {
    Fixture f;
    EXPECT_FALSE(f.mem.view(0x10000, 8, true).ok) << "info page";
    EXPECT_FALSE(f.mem.view(0x20000, 8, true).ok) << "text";
    EXPECT_FALSE(f.mem.view(0x21800, 8, true).ok) << "rodata";
    EXPECT_FALSE(f.mem.view(0x23ff8, 16, true).ok);
    // ...while reading them is fine.
    EXPECT_TRUE(f.mem.view(0x10000, 8, false).ok);
    EXPECT_TRUE(f.mem.view(0x20000, 8, false).ok);
    EXPECT_TRUE(f.mem.view(0x21800, 8, false).ok);
}

TEST(AgentMemory, OverflowAndBeyondRamAreRefused) {
    Fixture f;
    EXPECT_FALSE(f.mem.view(~0ull - 8, 16, false).ok) << "gpa + len wraps";
    EXPECT_FALSE(f.mem.view(0x22000, ~0ull, false).ok) << "len 2^64 - 1";
    EXPECT_FALSE(f.mem.view(0x22000, ~0ull - 0x21fff, false).ok) << "gpa + len == 2^64 exactly wraps to 0";
    EXPECT_FALSE(f.mem.view(0x22000, 1ull << 63, false).ok);
    EXPECT_FALSE(f.mem.view(0x3fff8, 16, true).ok) << "crosses the end of RAM";
    EXPECT_FALSE(f.mem.view(0x40000, 1, false).ok) << "first byte past RAM";
    EXPECT_FALSE(f.mem.view(0xffff800000000000ull, 8, false).ok) << "kernel half";
    EXPECT_FALSE(f.mem.view(0x8000000000000000ull, 8, false).ok) << "non-canonical";
}

TEST(AgentMemory, ZeroLengthIsAnEmptyViewInsideRam) {
    Fixture f;
    const auto in = f.mem.view(0x22000, 0, true);
    EXPECT_TRUE(in.ok);
    EXPECT_TRUE(in.bytes.empty());
    // Zero bytes are never accessed, so no mapping is needed; but the address
    // must still be inside guest RAM.
    EXPECT_TRUE(f.mem.view(0x24000, 0, true).ok);
    EXPECT_TRUE(f.mem.view(0x40000, 0, false).ok);
    EXPECT_FALSE(f.mem.view(0x40001, 0, false).ok);
    EXPECT_FALSE(f.mem.view(~0ull, 0, false).ok);
}

TEST(AgentMemory, ExecutableOnlyInsideCode) {
    Fixture f;
    EXPECT_TRUE(f.mem.executable(0x20000));
    EXPECT_TRUE(f.mem.executable(0x20fff));
    EXPECT_FALSE(f.mem.executable(0x1ffff));
    EXPECT_FALSE(f.mem.executable(0x21000)) << "rodata";
    EXPECT_FALSE(f.mem.executable(0x22000)) << "data";
    EXPECT_FALSE(f.mem.executable(0x10000)) << "info page";
    EXPECT_FALSE(f.mem.executable(0x3fff0)) << "stack";
    EXPECT_FALSE(f.mem.executable(0x0));
    EXPECT_FALSE(f.mem.executable(~0ull));
}

TEST(AgentMemory, ReadCopiesOnlyMappedBytes) {
    Fixture f;
    std::array<std::uint8_t, 16> out{};
    ASSERT_TRUE(f.mem.read(PartitionId{}, 0x21ff8, out));
    for (std::size_t i = 0; i < out.size(); ++i) EXPECT_EQ(out[i], f.ram[0x21ff8 + i]);
    out.fill(0x5a);
    EXPECT_FALSE(f.mem.read(PartitionId{}, 0x23ff8, out));
    for (const auto b : out) EXPECT_EQ(b, 0x5a) << "a refused read wrote the output";
    EXPECT_EQ(f.mem.ram().data(), f.ram.data());
    EXPECT_EQ(f.mem.ram().size(), f.ram.size());
}

}  // namespace
}  // namespace rvm::host
