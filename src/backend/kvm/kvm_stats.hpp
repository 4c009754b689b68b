// KvmStats: a vCPU's KVM binary statistics (KVM_GET_STATS_FD), reduced to the
// counters the Ψ classifier reads every epoch (DESIGN.md section 6).
//
// The stats fd is a self-describing file: a header (struct kvm_stats_header),
// an id string, variable-sized descriptors (sizeof(kvm_stats_desc) +
// header.name_size bytes each) and a data block of u64 values. Its content is
// treated as untrusted input: the parser works on a byte span (unit-tested on
// synthetic images), checks every size and offset with 64-bit arithmetic
// against fixed limits, and accepts a wanted counter only in one shape:
// cumulative, unitless, exponent 0, one u64. A counter the host lacks is
// absent, not an error. open() reads the layout once; read() is one pread.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "backend/kvm/kvm_error.hpp"
#include "backend/unique_fd.hpp"
#include "nucleus/psi.hpp"
#include "nucleus/result.hpp"

namespace rvm::kvm {

// The counters we look for; the value is the bit in VcpuCounters::present_mask.
enum class VcpuStat : std::uint8_t {
    exits,
    io_exits,
    mmio_exits,
    irq_injections,
    halt_exits,
    insn_emulation,
    signal_exits,
    irq_exits,
    request_irq_exits,
};
inline constexpr std::size_t kVcpuStatCount = 9;

[[nodiscard]] constexpr std::uint32_t stat_bit(VcpuStat s) { return 1u << static_cast<unsigned>(s); }
// KVM's name of the counter ("exits", "io_exits", ...).
[[nodiscard]] const char* stat_name(VcpuStat s);

// One sample of a vCPU's counters (cumulative since the vCPU was created):
// the nucleus's counter struct (nucleus/psi.hpp; hypercalls stays 0 here)
// and which of them this host offers. A counter whose bit is clear in
// present_mask is not offered and reads 0.
struct VcpuCounters : PsiSample {
    std::uint32_t present_mask = 0;

    [[nodiscard]] bool has(VcpuStat s) const { return (present_mask & stat_bit(s)) != 0; }
    [[nodiscard]] std::uint64_t get(VcpuStat s) const;
};

// Limits on the image (a real x86 vCPU: name_size 48, ~45 descriptors,
// ~3 KiB of header and descriptors, ~1 KiB of data).
inline constexpr std::size_t kStatsHeaderBytes = 24;     // struct kvm_stats_header
inline constexpr std::size_t kStatsDescFixedBytes = 16;  // struct kvm_stats_desc without its name
inline constexpr std::uint32_t kStatsMaxNameSize = 256;
inline constexpr std::uint32_t kStatsMaxDescriptors = 4096;
inline constexpr std::uint64_t kStatsMaxImageBytes = 2u << 20;  // header, id and descriptors; also bounds data_offset
inline constexpr std::uint64_t kStatsMaxDataBytes = 1u << 20;   // a wanted counter ends within this in the data block

enum class StatsFormatError : std::uint8_t {
    truncated_header,          // fewer bytes than a kvm_stats_header
    name_size_invalid,         // name_size is 0 or above kStatsMaxNameSize
    too_many_descriptors,      // num_desc above kStatsMaxDescriptors
    descriptors_out_of_range,  // descriptor block overlaps the header or ends past kStatsMaxImageBytes
    data_offset_invalid,       // data block starts inside the descriptors or past kStatsMaxImageBytes
    truncated_descriptors,     // the image ends before the descriptor block does
    name_unterminated,         // a descriptor's name has no NUL within name_size
    duplicate_stat,            // a wanted counter is described twice
    wrong_stat_shape,          // a wanted counter is not cumulative, unitless, exponent 0, size 1
    stat_offset_invalid,       // a wanted counter is misaligned or ends past kStatsMaxDataBytes
};
// A static string ("KVM stats: ...").
[[nodiscard]] const char* describe(StatsFormatError e);

// Where the wanted counters are, from a validated image.
struct StatsLayout {
    std::uint64_t data_offset = 0;                       // file offset of the data block
    std::array<std::uint32_t, kVcpuStatCount> offset{};  // byte offset in the data block (present stats only)
    std::uint32_t present_mask = 0;
    std::uint32_t num_desc = 0;
};

// One descriptor, for diagnostics.
struct StatInfo {
    std::string name;
    std::uint32_t flags = 0;  // KVM_STATS_TYPE_* | KVM_STATS_UNIT_* | KVM_STATS_BASE_*
    std::int16_t exponent = 0;
    std::uint16_t size = 0;  // number of u64 values
    std::uint32_t offset = 0;
};
[[nodiscard]] const char* stat_type_name(std::uint32_t flags);  // "cumulative", "instant", ...
[[nodiscard]] const char* stat_unit_name(std::uint32_t flags);  // "none", "bytes", ...

// Validates a header (the first kStatsHeaderBytes of `bytes`) and returns how
// many bytes from the start of the file hold the header, id and descriptors.
[[nodiscard]] Result<std::size_t, StatsFormatError> stats_image_size(std::span<const std::uint8_t> bytes);
// Parses header + descriptors (at least stats_image_size() bytes).
[[nodiscard]] Result<StatsLayout, StatsFormatError> parse_stats_image(std::span<const std::uint8_t> image);
// Every descriptor of a valid image, in file order.
[[nodiscard]] Result<std::vector<StatInfo>, StatsFormatError> list_stats(std::span<const std::uint8_t> image);

class KvmStats {
public:
    // KVM_GET_STATS_FD on the vCPU, then from_fd().
    [[nodiscard]] static Result<KvmStats, KvmError> open(int vcpu_fd);
    // Reads and parses the layout from an open stats fd (or any file holding
    // a stats image, as the unit tests do).
    [[nodiscard]] static Result<KvmStats, KvmError> from_fd(UniqueFd stats_fd);

    // One sample: a single pread of the range covering every present counter
    // (one pread per counter if they are too far apart). Any thread.
    [[nodiscard]] Result<void, KvmError> read(VcpuCounters& out) const;
    // Re-reads every descriptor (diagnostics; allocates).
    [[nodiscard]] Result<std::vector<StatInfo>, KvmError> catalog() const;

    [[nodiscard]] std::uint32_t present_mask() const { return layout_.present_mask; }
    [[nodiscard]] const StatsLayout& layout() const { return layout_; }
    // Bytes of the single read (0 with no counters or in per-counter mode).
    [[nodiscard]] std::uint32_t read_bytes() const { return span_bytes_; }
    [[nodiscard]] bool per_counter_reads() const { return per_counter_; }
    [[nodiscard]] int fd() const { return fd_.get(); }

private:
    KvmStats(UniqueFd fd, const StatsLayout& layout);

    UniqueFd fd_;
    StatsLayout layout_;
    std::uint64_t span_begin_ = 0;  // file offset of the single read
    std::uint32_t span_bytes_ = 0;
    bool per_counter_ = false;
};

}  // namespace rvm::kvm
