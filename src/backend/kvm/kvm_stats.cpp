#include "backend/kvm/kvm_stats.hpp"

#include <linux/kvm.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cstring>
#include <optional>
#include <string_view>

namespace rvm::kvm {

namespace {

// Fields are decoded with memcpy in host order; the kernel writes them so.
static_assert(std::endian::native == std::endian::little);

// struct kvm_stats_header.
struct StatsHeader {
    std::uint32_t flags;        // [0..4)   0 so far; ignored (future flags must stay compatible)
    std::uint32_t name_size;    // [4..8)   bytes of each descriptor's name, NUL included
    std::uint32_t num_desc;     // [8..12)
    std::uint32_t id_offset;    // [12..16) ignored: we never read the id string
    std::uint32_t desc_offset;  // [16..20)
    std::uint32_t data_offset;  // [20..24)
};
static_assert(sizeof(StatsHeader) == kStatsHeaderBytes && sizeof(kvm_stats_header) == kStatsHeaderBytes);
static_assert(offsetof(StatsHeader, name_size) == offsetof(kvm_stats_header, name_size));
static_assert(offsetof(StatsHeader, num_desc) == offsetof(kvm_stats_header, num_desc));
static_assert(offsetof(StatsHeader, id_offset) == offsetof(kvm_stats_header, id_offset));
static_assert(offsetof(StatsHeader, desc_offset) == offsetof(kvm_stats_header, desc_offset));
static_assert(offsetof(StatsHeader, data_offset) == offsetof(kvm_stats_header, data_offset));
static_assert(std::has_unique_object_representations_v<StatsHeader>);

// struct kvm_stats_desc without its name[name_size]. The uapi header's own
// struct cannot be used from C++: its __DECLARE_FLEX_ARRAY wraps an empty
// struct, which is 1 byte in C++ (0 in C), so sizeof is 20 and the name sits
// at 17 instead of the kernel's 16.
struct StatsDesc {
    std::uint32_t flags;        // [0..4)   type | unit | base
    std::int16_t exponent;      // [4..6)
    std::uint16_t size;         // [6..8)   number of u64 values
    std::uint32_t offset;       // [8..12)  byte offset in the data block
    std::uint32_t bucket_size;  // [12..16) linear histograms only
};
static_assert(sizeof(StatsDesc) == kStatsDescFixedBytes);
static_assert(offsetof(StatsDesc, exponent) == offsetof(kvm_stats_desc, exponent));
static_assert(offsetof(StatsDesc, size) == offsetof(kvm_stats_desc, size));
static_assert(offsetof(StatsDesc, offset) == offsetof(kvm_stats_desc, offset));
static_assert(offsetof(StatsDesc, bucket_size) == offsetof(kvm_stats_desc, bucket_size));
static_assert(std::has_unique_object_representations_v<StatsDesc>);

constexpr auto kTypeMask = static_cast<std::uint32_t>(KVM_STATS_TYPE_MASK);
constexpr auto kUnitMask = static_cast<std::uint32_t>(KVM_STATS_UNIT_MASK);
constexpr auto kCumulative = static_cast<std::uint32_t>(KVM_STATS_TYPE_CUMULATIVE);
constexpr auto kUnitNone = static_cast<std::uint32_t>(KVM_STATS_UNIT_NONE);

constexpr std::array<const char*, kVcpuStatCount> kNames = {
    "exits",          "io_exits",     "mmio_exits", "irq_injections",    "halt_exits",
    "insn_emulation", "signal_exits", "irq_exits",  "request_irq_exits",
};
constexpr std::array<std::uint64_t VcpuCounters::*, kVcpuStatCount> kFields = {
    &VcpuCounters::exits,          &VcpuCounters::io_exits,   &VcpuCounters::mmio_exits,
    &VcpuCounters::irq_injections, &VcpuCounters::halt_exits, &VcpuCounters::insn_emulation,
    &VcpuCounters::signal_exits,   &VcpuCounters::irq_exits,  &VcpuCounters::request_irq_exits,
};

// The widest range one pread covers (stack buffer of read()); the counters of
// a real x86 vCPU span 128 bytes (exits .. irq_injections).
constexpr std::uint32_t kMaxSpanBytes = 1024;
constexpr std::size_t kWord = sizeof(std::uint64_t);

std::optional<std::size_t> wanted_index(std::string_view name) {
    for (std::size_t i = 0; i < kVcpuStatCount; ++i) {
        if (name == kNames[i]) return i;
    }
    return std::nullopt;
}

// Validates the image (as stats_image_size) and calls fn(desc, name) for each
// descriptor in order; stops at fn's first error. Returns the header.
template <typename Fn>
Result<StatsHeader, StatsFormatError> walk(std::span<const std::uint8_t> image, Fn&& fn) {
    const auto size = stats_image_size(image);
    if (!size) return err(size.error());
    if (image.size() < size.value()) return err(StatsFormatError::truncated_descriptors);
    StatsHeader h{};
    std::memcpy(&h, image.data(), sizeof h);
    // Bounded by stats_image_size: desc_offset + num_desc * stride <= image.size().
    const std::size_t stride = kStatsDescFixedBytes + h.name_size;
    for (std::size_t i = 0; i < h.num_desc; ++i) {
        const std::uint8_t* at = image.data() + h.desc_offset + i * stride;
        StatsDesc d{};
        std::memcpy(&d, at, sizeof d);
        const std::uint8_t* name = at + kStatsDescFixedBytes;
        const void* nul = std::memchr(name, 0, h.name_size);
        if (nul == nullptr) return err(StatsFormatError::name_unterminated);
        const auto len = static_cast<std::size_t>(static_cast<const std::uint8_t*>(nul) - name);
        // SAFETY: char may alias any byte; [name, name + len) lies inside `image`.
        const std::string_view sv(reinterpret_cast<const char*>(name), len);
        const Result<void, StatsFormatError> r = fn(d, sv);
        if (!r) return err(r.error());
    }
    return h;
}

Result<void, KvmError> pread_exact(int fd, void* buf, std::size_t n, std::uint64_t off, const char* op) {
    auto* p = static_cast<std::uint8_t*>(buf);
    while (n > 0) {
        const ssize_t r = ::pread(fd, p, n, static_cast<off_t>(off));
        if (r < 0) {
            if (errno == EINTR) continue;
            return err(KvmError{op, errno});
        }
        if (r == 0) return err(KvmError{"KVM stats: the file ends before the data the descriptors name"});
        p += r;
        n -= static_cast<std::size_t>(r);
        off += static_cast<std::uint64_t>(r);
    }
    return {};
}

// Header, id and descriptors, validated for size (not parsed).
Result<std::vector<std::uint8_t>, KvmError> read_image(int fd) {
    std::array<std::uint8_t, kStatsHeaderBytes> header{};
    RVM_TRY_VOID(pread_exact(fd, header.data(), header.size(), 0, "pread KVM stats header"));
    const auto size = stats_image_size(header);
    if (!size) return err(KvmError{describe(size.error())});
    std::vector<std::uint8_t> image(size.value());
    RVM_TRY_VOID(pread_exact(fd, image.data(), image.size(), 0, "pread KVM stats descriptors"));
    return image;
}

}  // namespace

const char* stat_name(VcpuStat s) { return kNames[static_cast<std::size_t>(s)]; }

std::uint64_t VcpuCounters::get(VcpuStat s) const { return this->*kFields[static_cast<std::size_t>(s)]; }

const char* describe(StatsFormatError e) {
    switch (e) {
        case StatsFormatError::truncated_header: return "KVM stats: shorter than a kvm_stats_header";
        case StatsFormatError::name_size_invalid: return "KVM stats: name_size is 0 or too large";
        case StatsFormatError::too_many_descriptors: return "KVM stats: num_desc is too large";
        case StatsFormatError::descriptors_out_of_range:
            return "KVM stats: descriptor block overlaps the header or is too large";
        case StatsFormatError::data_offset_invalid:
            return "KVM stats: data block starts inside the descriptors or too far out";
        case StatsFormatError::truncated_descriptors: return "KVM stats: image ends inside the descriptor block";
        case StatsFormatError::name_unterminated: return "KVM stats: a descriptor name has no NUL";
        case StatsFormatError::duplicate_stat: return "KVM stats: a wanted counter is described twice";
        case StatsFormatError::wrong_stat_shape:
            return "KVM stats: a wanted counter is not a cumulative unitless single u64";
        case StatsFormatError::stat_offset_invalid: return "KVM stats: a wanted counter's offset is invalid";
    }
    return "KVM stats: unknown error";
}

const char* stat_type_name(std::uint32_t flags) {
    switch (flags & kTypeMask) {
        case KVM_STATS_TYPE_CUMULATIVE: return "cumulative";
        case KVM_STATS_TYPE_INSTANT: return "instant";
        case KVM_STATS_TYPE_PEAK: return "peak";
        case KVM_STATS_TYPE_LINEAR_HIST: return "linear-hist";
        case KVM_STATS_TYPE_LOG_HIST: return "log-hist";
        default: return "unknown-type";
    }
}

const char* stat_unit_name(std::uint32_t flags) {
    switch (flags & kUnitMask) {
        case KVM_STATS_UNIT_NONE: return "none";
        case KVM_STATS_UNIT_BYTES: return "bytes";
        case KVM_STATS_UNIT_SECONDS: return "seconds";
        case KVM_STATS_UNIT_CYCLES: return "cycles";
        case KVM_STATS_UNIT_BOOLEAN: return "boolean";
        default: return "unknown-unit";
    }
}

Result<std::size_t, StatsFormatError> stats_image_size(std::span<const std::uint8_t> bytes) {
    if (bytes.size() < kStatsHeaderBytes) return err(StatsFormatError::truncated_header);
    StatsHeader h{};
    std::memcpy(&h, bytes.data(), sizeof h);
    if (h.name_size == 0 || h.name_size > kStatsMaxNameSize) return err(StatsFormatError::name_size_invalid);
    if (h.num_desc > kStatsMaxDescriptors) return err(StatsFormatError::too_many_descriptors);
    // At most 4096 * 272 + 2^32: no 64-bit overflow.
    const std::uint64_t end =
        std::uint64_t{h.desc_offset} + std::uint64_t{h.num_desc} * (kStatsDescFixedBytes + h.name_size);
    if (h.desc_offset < kStatsHeaderBytes || end > kStatsMaxImageBytes) {
        return err(StatsFormatError::descriptors_out_of_range);
    }
    if (h.data_offset < end || h.data_offset > kStatsMaxImageBytes) return err(StatsFormatError::data_offset_invalid);
    return static_cast<std::size_t>(end);
}

Result<StatsLayout, StatsFormatError> parse_stats_image(std::span<const std::uint8_t> image) {
    StatsLayout l;
    const auto h = walk(image, [&l](const StatsDesc& d, std::string_view name) -> Result<void, StatsFormatError> {
        const auto i = wanted_index(name);
        if (!i) return {};
        const std::uint32_t bit = 1u << *i;
        if ((l.present_mask & bit) != 0) return err(StatsFormatError::duplicate_stat);
        if ((d.flags & kTypeMask) != kCumulative || (d.flags & kUnitMask) != kUnitNone || d.exponent != 0 ||
            d.size != 1) {
            return err(StatsFormatError::wrong_stat_shape);
        }
        if (d.offset % kWord != 0 || std::uint64_t{d.offset} + kWord > kStatsMaxDataBytes) {
            return err(StatsFormatError::stat_offset_invalid);
        }
        l.offset[*i] = d.offset;
        l.present_mask |= bit;
        return {};
    });
    if (!h) return err(h.error());
    l.data_offset = h.value().data_offset;
    l.num_desc = h.value().num_desc;
    return l;
}

Result<std::vector<StatInfo>, StatsFormatError> list_stats(std::span<const std::uint8_t> image) {
    std::vector<StatInfo> out;
    const auto h = walk(image, [&out](const StatsDesc& d, std::string_view name) -> Result<void, StatsFormatError> {
        out.push_back(StatInfo{std::string(name), d.flags, d.exponent, d.size, d.offset});
        return {};
    });
    if (!h) return err(h.error());
    return out;
}

KvmStats::KvmStats(UniqueFd fd, const StatsLayout& layout) : fd_(std::move(fd)), layout_(layout) {
    if (layout_.present_mask == 0) return;
    std::uint64_t lo = UINT64_MAX;
    std::uint64_t hi = 0;
    for (std::size_t i = 0; i < kVcpuStatCount; ++i) {
        if ((layout_.present_mask & (1u << i)) == 0) continue;
        lo = std::min<std::uint64_t>(lo, layout_.offset[i]);
        hi = std::max<std::uint64_t>(hi, std::uint64_t{layout_.offset[i]} + kWord);
    }
    if (hi - lo > kMaxSpanBytes) {
        per_counter_ = true;
        return;
    }
    span_begin_ = layout_.data_offset + lo;
    span_bytes_ = static_cast<std::uint32_t>(hi - lo);
}

Result<KvmStats, KvmError> KvmStats::open(int vcpu_fd) {
    // SAFETY: KVM_GET_STATS_FD takes no argument and returns a new
    // (close-on-exec) fd that the UniqueFd owns from here on.
    UniqueFd fd(ioctl(vcpu_fd, KVM_GET_STATS_FD, 0));
    if (!fd.valid()) return err(KvmError{"KVM_GET_STATS_FD", errno});
    return from_fd(std::move(fd));
}

Result<KvmStats, KvmError> KvmStats::from_fd(UniqueFd stats_fd) {
    if (!stats_fd.valid()) return err(KvmError{"KVM stats fd", EBADF});
    const auto image = read_image(stats_fd.get());
    if (!image) return err(image.error());
    const auto layout = parse_stats_image(image.value());
    if (!layout) return err(KvmError{describe(layout.error())});
    return KvmStats(std::move(stats_fd), layout.value());
}

Result<void, KvmError> KvmStats::read(VcpuCounters& out) const {
    // Filled locally so that a failed read leaves `out` as it was.
    VcpuCounters c;
    c.present_mask = layout_.present_mask;
    if (per_counter_) {
        for (std::size_t i = 0; i < kVcpuStatCount; ++i) {
            if ((layout_.present_mask & (1u << i)) == 0) continue;
            RVM_TRY_VOID(pread_exact(fd_.get(), &(c.*kFields[i]), kWord, layout_.data_offset + layout_.offset[i],
                                     "pread KVM stats"));
        }
    } else if (span_bytes_ != 0) {
        std::array<std::uint8_t, kMaxSpanBytes> buf;  // filled by the pread before any use
        RVM_TRY_VOID(pread_exact(fd_.get(), buf.data(), span_bytes_, span_begin_, "pread KVM stats"));
        for (std::size_t i = 0; i < kVcpuStatCount; ++i) {
            if ((layout_.present_mask & (1u << i)) == 0) continue;
            const std::uint64_t at = layout_.data_offset + layout_.offset[i] - span_begin_;
            std::memcpy(&(c.*kFields[i]), buf.data() + at, kWord);
        }
    }
    out = c;
    return {};
}

Result<std::vector<StatInfo>, KvmError> KvmStats::catalog() const {
    const auto image = read_image(fd_.get());
    if (!image) return err(image.error());
    auto all = list_stats(image.value());
    if (!all) return err(KvmError{describe(all.error())});
    return std::move(all.value());
}

}  // namespace rvm::kvm
