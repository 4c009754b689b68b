// The KVM binary-stats parser and reader on synthetic stats-fd images (no
// KVM): a valid image yields the wanted counters' offsets; every truncation,
// absurd size, out-of-range offset, duplicate and wrongly shaped counter is
// refused with its own error; random corruption never crashes; read() on a
// memfd holding an image returns the data block's values in one pread (or
// per counter when they are far apart) and fails cleanly on a short file.
#include <gtest/gtest.h>
#include <linux/kvm.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include "backend/kvm/kvm_stats.hpp"

namespace rvm::kvm {
namespace {

using Bytes = std::vector<std::uint8_t>;

constexpr auto kCounter = static_cast<std::uint32_t>(KVM_STATS_TYPE_CUMULATIVE | KVM_STATS_UNIT_NONE);
constexpr auto kInstantBool = static_cast<std::uint32_t>(KVM_STATS_TYPE_INSTANT | KVM_STATS_UNIT_BOOLEAN);
constexpr auto kNanoseconds = static_cast<std::uint32_t>(KVM_STATS_TYPE_CUMULATIVE | KVM_STATS_UNIT_SECONDS);
constexpr auto kLogHistNs = static_cast<std::uint32_t>(KVM_STATS_TYPE_LOG_HIST | KVM_STATS_UNIT_SECONDS);
constexpr std::uint32_t kIdBytes = 48;

struct Desc {
    std::string name;
    std::uint32_t flags = kCounter;
    std::int16_t exponent = 0;
    std::uint16_t size = 1;
    std::uint32_t offset = 0;
};

// A stats file as KVM lays it out: header, id, descriptors, data. Header
// fields left unset are derived; the data block holds value(word) per word.
struct Image {
    std::uint32_t name_size = 48;
    std::vector<Desc> descs;
    std::optional<std::uint32_t> num_desc, desc_offset, data_offset;
    std::uint32_t data_words = 0;  // 0: up to the last descriptor's end

    [[nodiscard]] static std::uint64_t value(std::uint64_t word) { return 0x1000 + word * 7; }

    [[nodiscard]] std::uint32_t desc_at() const { return desc_offset.value_or(kStatsHeaderBytes + kIdBytes); }
    [[nodiscard]] std::uint32_t desc_end() const {
        return desc_at() + static_cast<std::uint32_t>(descs.size() * (kStatsDescFixedBytes + name_size));
    }
    [[nodiscard]] std::uint32_t data_at() const { return data_offset.value_or(desc_end()); }
    [[nodiscard]] std::uint32_t words() const {
        if (data_words != 0) return data_words;
        std::uint32_t end = 0;
        for (const auto& d : descs) end = std::max(end, d.offset / 8 + d.size);
        return end;
    }

    // Header, id and descriptors.
    [[nodiscard]] Bytes head() const {
        Bytes b(desc_end(), 0);
        kvm_stats_header h{};
        h.name_size = name_size;
        h.num_desc = num_desc.value_or(static_cast<std::uint32_t>(descs.size()));
        h.id_offset = kStatsHeaderBytes;
        h.desc_offset = desc_at();
        h.data_offset = data_at();
        std::memcpy(b.data(), &h, std::min(b.size(), sizeof h));
        const char id[] = "kvm-1/vcpu-0";
        if (b.size() >= kStatsHeaderBytes + sizeof id) std::memcpy(b.data() + kStatsHeaderBytes, id, sizeof id);
        for (std::size_t i = 0; i < descs.size(); ++i) {
            const Desc& d = descs[i];
            const std::size_t at = desc_at() + i * (kStatsDescFixedBytes + name_size);
            std::memcpy(b.data() + at + 0, &d.flags, 4);
            std::memcpy(b.data() + at + 4, &d.exponent, 2);
            std::memcpy(b.data() + at + 6, &d.size, 2);
            std::memcpy(b.data() + at + 8, &d.offset, 4);
            // A name of name_size bytes or more is left without its NUL.
            std::memcpy(b.data() + at + kStatsDescFixedBytes, d.name.data(),
                        std::min<std::size_t>(d.name.size(), name_size));
        }
        return b;
    }
    // The whole file.
    [[nodiscard]] Bytes file() const {
        Bytes b = head();
        b.resize(std::max<std::size_t>(b.size(), data_at()), 0);
        for (std::uint32_t w = 0; w < words(); ++w) {
            const std::uint64_t v = value(w);
            b.resize(b.size() + 8);
            std::memcpy(b.data() + b.size() - 8, &v, 8);
        }
        return b;
    }
};

// The layout of this project's PVM host (kernel 6.18): 45 descriptors,
// name_size 48, generic halt-polling stats and histograms first.
Image host_like() {
    Image im;
    std::uint32_t off = 0;
    const auto add = [&](const char* name, std::uint32_t flags, std::int16_t exp, std::uint16_t size) {
        im.descs.push_back({name, flags, exp, size, off});
        off += size * 8u;
    };
    for (const char* n : {"halt_successful_poll", "halt_attempted_poll", "halt_poll_invalid", "halt_wakeup"}) {
        add(n, kCounter, 0, 1);
    }
    for (const char* n : {"halt_poll_success_ns", "halt_poll_fail_ns", "halt_wait_ns"}) add(n, kNanoseconds, -9, 1);
    for (const char* n : {"halt_poll_success_hist", "halt_poll_fail_hist", "halt_wait_hist"}) {
        add(n, kLogHistNs, -9, 32);
    }
    add("blocking", kInstantBool, 0, 1);
    for (const char* n : {"pf_taken",
                          "pf_fixed",
                          "pf_emulate",
                          "pf_spurious",
                          "pf_fast",
                          "pf_mmio_spte_created",
                          "pf_guest",
                          "tlb_flush",
                          "invlpg",
                          "exits",
                          "io_exits",
                          "mmio_exits",
                          "signal_exits",
                          "irq_window_exits",
                          "nmi_window_exits",
                          "l1d_flush",
                          "halt_exits",
                          "request_irq_exits",
                          "irq_exits",
                          "host_state_reload",
                          "fpu_reload",
                          "insn_emulation",
                          "insn_emulation_fail",
                          "hypercalls",
                          "irq_injections",
                          "nmi_injections",
                          "req_event",
                          "nested_run",
                          "directed_yield_attempted",
                          "directed_yield_successful",
                          "preemption_reported",
                          "preemption_other"}) {
        add(n, kCounter, 0, 1);
    }
    add("guest_mode", kInstantBool, 0, 1);
    add("notify_window_exits", kCounter, 0, 1);
    return im;
}

constexpr std::uint32_t kAllWanted = (1u << kVcpuStatCount) - 1;

std::uint32_t offset_of(const Image& im, const char* name) {
    for (const auto& d : im.descs) {
        if (d.name == name) return d.offset;
    }
    ADD_FAILURE() << name << " not in the image";
    return 0;
}

std::optional<StatsFormatError> parse_error(const Bytes& b) {
    const auto r = parse_stats_image(b);
    if (r) return std::nullopt;
    return r.error();
}

// A memfd holding `bytes`.
UniqueFd memfd_with(const Bytes& bytes) {
    UniqueFd fd(memfd_create("kvm-stats-test", MFD_CLOEXEC));
    EXPECT_TRUE(fd.valid());
    EXPECT_EQ(::pwrite(fd.get(), bytes.data(), bytes.size(), 0), static_cast<ssize_t>(bytes.size()));
    return fd;
}

TEST(KvmStatsParse, HostLayoutFindsEveryWantedCounter) {
    const Image im = host_like();
    const Bytes head = im.head();
    const auto size = stats_image_size(head);
    ASSERT_TRUE(size.ok());
    EXPECT_EQ(size.value(), head.size());
    const auto l = parse_stats_image(head);
    ASSERT_TRUE(l.ok()) << describe(l.error());
    EXPECT_EQ(l.value().present_mask, kAllWanted);
    EXPECT_EQ(l.value().num_desc, 45u);
    EXPECT_EQ(l.value().data_offset, im.data_at());
    for (std::size_t i = 0; i < kVcpuStatCount; ++i) {
        const auto s = static_cast<VcpuStat>(i);
        EXPECT_EQ(l.value().offset[i], offset_of(im, stat_name(s))) << stat_name(s);
    }
}

TEST(KvmStatsParse, ListsEveryDescriptor) {
    const auto all = list_stats(host_like().head());
    ASSERT_TRUE(all.ok());
    ASSERT_EQ(all.value().size(), 45u);
    EXPECT_EQ(all.value()[7].name, "halt_poll_success_hist");
    EXPECT_STREQ(stat_type_name(all.value()[7].flags), "log-hist");
    EXPECT_STREQ(stat_unit_name(all.value()[7].flags), "seconds");
    EXPECT_EQ(all.value()[7].size, 32);
    EXPECT_EQ(all.value()[7].exponent, -9);
    EXPECT_STREQ(stat_type_name(all.value()[10].flags), "instant");
    EXPECT_STREQ(stat_unit_name(all.value()[10].flags), "boolean");
}

TEST(KvmStatsParse, MissingCountersAreAbsentNotErrors) {
    Image im;
    im.descs = {{"pf_taken", kCounter, 0, 1, 0}, {"exits", kCounter, 0, 1, 8}, {"halt_exits", kCounter, 0, 1, 16}};
    const auto l = parse_stats_image(im.head());
    ASSERT_TRUE(l.ok());
    EXPECT_EQ(l.value().present_mask, stat_bit(VcpuStat::exits) | stat_bit(VcpuStat::halt_exits));

    Image none;
    const auto e = parse_stats_image(none.head());
    ASSERT_TRUE(e.ok());
    EXPECT_EQ(e.value().present_mask, 0u);
}

TEST(KvmStatsParse, NamesMatchExactly) {
    Image im;
    im.descs = {{"exit", kCounter, 0, 1, 0}, {"exits_total", kCounter, 0, 1, 8}, {"EXITS", kCounter, 0, 1, 16}};
    const auto l = parse_stats_image(im.head());
    ASSERT_TRUE(l.ok());
    EXPECT_EQ(l.value().present_mask, 0u);
    // A name that fills name_size but for its NUL still matches.
    Image tight;
    tight.name_size = 6;
    tight.descs = {{"exits", kCounter, 0, 1, 0}};
    const auto t = parse_stats_image(tight.head());
    ASSERT_TRUE(t.ok());
    EXPECT_EQ(t.value().present_mask, stat_bit(VcpuStat::exits));
}

TEST(KvmStatsParse, TruncatedAtEveryLength) {
    const Bytes head = host_like().head();
    for (std::size_t len = 0; len < head.size(); ++len) {
        const Bytes cut(head.begin(), head.begin() + static_cast<std::ptrdiff_t>(len));
        const auto e = parse_error(cut);
        ASSERT_TRUE(e.has_value()) << len;
        EXPECT_EQ(
            *e, len < kStatsHeaderBytes ? StatsFormatError::truncated_header : StatsFormatError::truncated_descriptors)
            << len;
        EXPECT_FALSE(list_stats(cut).ok()) << len;
    }
}

TEST(KvmStatsParse, AbsurdNameSize) {
    for (std::uint32_t n : {0u, kStatsMaxNameSize + 1, 0x10000u, 0xffffffffu}) {
        Image im = host_like();
        im.name_size = 48;
        Bytes b = im.head();
        std::memcpy(b.data() + 4, &n, 4);
        EXPECT_EQ(parse_error(b), StatsFormatError::name_size_invalid) << n;
        EXPECT_FALSE(stats_image_size(b).ok()) << n;
    }
    // Larger but within the limit: the image is simply too short for it.
    Bytes b = host_like().head();
    const std::uint32_t n = kStatsMaxNameSize;
    std::memcpy(b.data() + 4, &n, 4);
    EXPECT_EQ(parse_error(b), StatsFormatError::data_offset_invalid);
}

TEST(KvmStatsParse, AbsurdDescriptorCount) {
    for (std::uint32_t n : {kStatsMaxDescriptors + 1, 0x7fffffffu, 0xffffffffu}) {
        Image im = host_like();
        im.num_desc = n;
        EXPECT_EQ(parse_error(im.head()), StatsFormatError::too_many_descriptors) << n;
    }
    // More descriptors than the file holds, within the limit.
    Image im = host_like();
    im.num_desc = 46;
    im.data_offset = im.desc_end() + 64;
    EXPECT_EQ(parse_error(im.head()), StatsFormatError::truncated_descriptors);
}

TEST(KvmStatsParse, DescriptorBlockOutOfRange) {
    for (std::uint32_t at : {0u, 8u, 23u, 0xfffffff0u, static_cast<std::uint32_t>(kStatsMaxImageBytes)}) {
        Bytes b(kStatsHeaderBytes, 0);
        kvm_stats_header h{};
        h.name_size = 48;
        h.num_desc = 45;
        h.desc_offset = at;
        h.data_offset = 4096;
        std::memcpy(b.data(), &h, sizeof h);
        EXPECT_EQ(parse_error(b), StatsFormatError::descriptors_out_of_range) << at;
    }
}

TEST(KvmStatsParse, DataOffsetOutOfRange) {
    Image inside = host_like();
    inside.data_offset = inside.desc_end() - 8;  // overlaps the last descriptor
    EXPECT_EQ(parse_error(inside.head()), StatsFormatError::data_offset_invalid);
    Image header = host_like();
    header.data_offset = 0;
    EXPECT_EQ(parse_error(header.head()), StatsFormatError::data_offset_invalid);
    Image far = host_like();
    far.data_offset = 0xfffffff8u;
    EXPECT_EQ(parse_error(far.head()), StatsFormatError::data_offset_invalid);
    Image gap = host_like();  // a gap after the descriptors is fine
    gap.data_offset = gap.desc_end() + 4096;
    EXPECT_TRUE(parse_stats_image(gap.head()).ok());
}

TEST(KvmStatsParse, CounterOffsetOutOfRange) {
    for (std::uint32_t off : {4u, 9u, static_cast<std::uint32_t>(kStatsMaxDataBytes), 0xfffffff8u, 0xffffffffu}) {
        Image im;
        im.descs = {{"exits", kCounter, 0, 1, 0}, {"io_exits", kCounter, 0, 1, off}};
        EXPECT_EQ(parse_error(im.head()), StatsFormatError::stat_offset_invalid) << off;
    }
    // Offsets of counters we do not read are not our business.
    Image other;
    other.descs = {{"exits", kCounter, 0, 1, 0}, {"pf_taken", kCounter, 0, 1, 0xffffffffu}};
    EXPECT_TRUE(parse_stats_image(other.head()).ok());
}

TEST(KvmStatsParse, DuplicateWantedCounter) {
    Image im = host_like();
    im.descs.push_back({"io_exits", kCounter, 0, 1, 0});
    EXPECT_EQ(parse_error(im.head()), StatsFormatError::duplicate_stat);
    // A duplicate of a counter we ignore is harmless.
    Image other = host_like();
    other.descs.push_back({"pf_taken", kCounter, 0, 1, 0});
    EXPECT_TRUE(parse_stats_image(other.head()).ok());
}

TEST(KvmStatsParse, WrongShapeOfWantedCounter) {
    const std::vector<Desc> wrong = {
        {"exits", static_cast<std::uint32_t>(KVM_STATS_TYPE_INSTANT), 0, 1, 0},
        {"exits", static_cast<std::uint32_t>(KVM_STATS_TYPE_PEAK), 0, 1, 0},
        {"exits", static_cast<std::uint32_t>(KVM_STATS_TYPE_LINEAR_HIST), 0, 1, 0},
        {"exits", kLogHistNs, -9, 32, 0},
        {"exits", static_cast<std::uint32_t>(0xf), 0, 1, 0},  // unknown type
        {"exits", kNanoseconds, -9, 1, 0},
        {"exits", static_cast<std::uint32_t>(KVM_STATS_UNIT_BYTES), 0, 1, 0},
        {"exits", kCounter, 3, 1, 0},
        {"exits", kCounter, 0, 0, 0},
        {"exits", kCounter, 0, 2, 0},
    };
    for (const Desc& d : wrong) {
        Image im;
        im.descs = {d};
        EXPECT_EQ(parse_error(im.head()), StatsFormatError::wrong_stat_shape) << d.flags << " " << d.size;
    }
    // The base does not matter for a unitless counter.
    Image pow2;
    pow2.descs = {{"exits", kCounter | static_cast<std::uint32_t>(KVM_STATS_BASE_POW2), 0, 1, 0}};
    EXPECT_TRUE(parse_stats_image(pow2.head()).ok());
}

TEST(KvmStatsParse, UnterminatedName) {
    Image im;
    im.name_size = 8;
    im.descs = {{"exits", kCounter, 0, 1, 0}, {"pf_taken", kCounter, 0, 1, 8}};  // 8 bytes, no NUL
    EXPECT_EQ(parse_error(im.head()), StatsFormatError::name_unterminated);
    EXPECT_FALSE(list_stats(im.head()).ok());
}

TEST(KvmStatsParse, EveryErrorHasAMessage) {
    for (unsigned e = 0; e <= static_cast<unsigned>(StatsFormatError::stat_offset_invalid); ++e) {
        const std::string s = describe(static_cast<StatsFormatError>(e));
        EXPECT_EQ(s.rfind("KVM stats: ", 0), 0u) << e;
        EXPECT_NE(s, "KVM stats: unknown error") << e;
    }
}

// Random corruption of a valid image: any outcome but a crash (ASan/UBSan
// watch this), and an accepted layout always obeys the limits.
TEST(KvmStatsParse, RandomCorruptionNeverCrashes) {
    const Bytes base = host_like().head();
    std::uint64_t x = 0x9e3779b97f4a7c15ull;
    const auto next = [&x] {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        return x;
    };
    int accepted = 0;
    for (int iter = 0; iter < 20000; ++iter) {
        Bytes b = base;
        const int flips = 1 + static_cast<int>(next() % 4);
        for (int f = 0; f < flips; ++f) {
            // Mostly the header and the first descriptors, where it matters.
            const std::size_t at = (next() % 4 == 0) ? next() % b.size() : next() % 200;
            b[at] = static_cast<std::uint8_t>(next());
        }
        if (next() % 8 == 0) b.resize(next() % (b.size() + 1));
        const auto l = parse_stats_image(b);
        (void)list_stats(b);
        if (!l) continue;
        ++accepted;
        for (std::size_t i = 0; i < kVcpuStatCount; ++i) {
            if ((l.value().present_mask & (1u << i)) == 0) continue;
            EXPECT_EQ(l.value().offset[i] % 8, 0u);
            EXPECT_LE(l.value().offset[i] + 8ull, kStatsMaxDataBytes);
        }
        EXPECT_LE(l.value().data_offset, kStatsMaxImageBytes);
    }
    EXPECT_GT(accepted, 0);
}

TEST(KvmStatsRead, OnePreadReturnsTheDataBlockValues) {
    const Image im = host_like();
    auto s = KvmStats::from_fd(memfd_with(im.file()));
    ASSERT_TRUE(s.ok()) << describe(s.error());
    EXPECT_FALSE(s.value().per_counter_reads());
    // exits (904) .. irq_injections (1024) + 8
    EXPECT_EQ(s.value().read_bytes(), 1032u - 904u);
    VcpuCounters c;
    ASSERT_TRUE(s.value().read(c).ok());
    EXPECT_EQ(c.present_mask, kAllWanted);
    for (std::size_t i = 0; i < kVcpuStatCount; ++i) {
        const auto st = static_cast<VcpuStat>(i);
        EXPECT_TRUE(c.has(st));
        EXPECT_EQ(c.get(st), Image::value(offset_of(im, stat_name(st)) / 8)) << stat_name(st);
    }
    EXPECT_EQ(c.exits, Image::value(904 / 8));
    EXPECT_EQ(c.irq_injections, Image::value(1024 / 8));
    const auto cat = s.value().catalog();
    ASSERT_TRUE(cat.ok());
    EXPECT_EQ(cat.value().size(), 45u);
}

TEST(KvmStatsRead, FarApartCountersAreReadOneByOne) {
    Image im;
    im.descs = {{"exits", kCounter, 0, 1, 0}, {"insn_emulation", kCounter, 0, 1, 8192}};
    auto s = KvmStats::from_fd(memfd_with(im.file()));
    ASSERT_TRUE(s.ok());
    EXPECT_TRUE(s.value().per_counter_reads());
    VcpuCounters c;
    ASSERT_TRUE(s.value().read(c).ok());
    EXPECT_EQ(c.present_mask, stat_bit(VcpuStat::exits) | stat_bit(VcpuStat::insn_emulation));
    EXPECT_EQ(c.exits, Image::value(0));
    EXPECT_EQ(c.insn_emulation, Image::value(1024));
    EXPECT_EQ(c.io_exits, 0u);
    EXPECT_FALSE(c.has(VcpuStat::io_exits));
}

TEST(KvmStatsRead, NoWantedCountersReadsNothing) {
    Image im;
    im.descs = {{"pf_taken", kCounter, 0, 1, 0}};
    auto s = KvmStats::from_fd(memfd_with(im.file()));
    ASSERT_TRUE(s.ok());
    VcpuCounters c;
    c.exits = 99;
    ASSERT_TRUE(s.value().read(c).ok());
    EXPECT_EQ(c.present_mask, 0u);
    EXPECT_EQ(c.exits, 0u);
}

// A file cut at every length: open fails (image too short) or read fails
// (data too short) or both succeed only once the counters are all there.
TEST(KvmStatsRead, ShortFileAtEveryLength) {
    Image im;
    im.name_size = 16;
    im.descs = {{"halt_wakeup", kCounter, 0, 1, 0},
                {"exits", kCounter, 0, 1, 8},
                {"io_exits", kCounter, 0, 1, 16},
                {"blocking", kInstantBool, 0, 1, 24}};
    const Bytes full = im.file();
    const std::size_t needed = im.data_at() + 24;  // through io_exits
    for (std::size_t len = 0; len <= full.size(); ++len) {
        auto s = KvmStats::from_fd(memfd_with(Bytes(full.begin(), full.begin() + static_cast<std::ptrdiff_t>(len))));
        if (len < im.head().size()) {
            EXPECT_FALSE(s.ok()) << len;
            continue;
        }
        ASSERT_TRUE(s.ok()) << len;
        VcpuCounters c;
        c.exits = 42;
        const auto r = s.value().read(c);
        EXPECT_EQ(r.ok(), len >= needed) << len;
        if (!r) {
            EXPECT_EQ(c.exits, 42u) << "a failed read leaves the sample alone";
            EXPECT_NE(describe(r.error()).find("KVM stats"), std::string::npos);
        }
    }
}

TEST(KvmStatsRead, RefusesABadImageAndABadFd) {
    Image im = host_like();
    im.num_desc = 0xffffffffu;
    auto s = KvmStats::from_fd(memfd_with(im.file()));
    ASSERT_FALSE(s.ok());
    EXPECT_STREQ(s.error().op, describe(StatsFormatError::too_many_descriptors));
    EXPECT_FALSE(KvmStats::from_fd(UniqueFd()).ok());
    EXPECT_FALSE(KvmStats::open(-1).ok());
}

}  // namespace
}  // namespace rvm::kvm
