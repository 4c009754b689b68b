#include "nucleus/psi.hpp"

#include <bit>
#include <limits>

namespace rvm {
namespace {

constexpr std::uint64_t kU32Max = std::numeric_limits<std::uint32_t>::max();

constexpr std::uint64_t le64(const char (&s)[8]) {
    std::uint64_t v = 0;
    for (std::size_t i = 0; i < 8; ++i) v |= std::uint64_t{static_cast<unsigned char>(s[i])} << (8 * i);
    return v;
}
static_assert(le64("ZIMEPSI") == RVM_PSI_PAGE_MAGIC, "seed 001 magic, NUL-terminated");

constexpr std::uint64_t delta(std::uint64_t prev, std::uint64_t cur) { return cur >= prev ? cur - prev : cur; }

constexpr std::uint64_t sat_add(std::uint64_t a, std::uint64_t b) {
    return a > std::numeric_limits<std::uint64_t>::max() - b ? std::numeric_limits<std::uint64_t>::max() : a + b;
}

constexpr std::uint64_t sat(std::uint64_t v, std::uint64_t max) { return v > max ? max : v; }

}  // namespace

KResult<void> validate(const PsiThresholds& t) {
    if (t.window == 0 || t.window > kPsiMaxWindow) return fail(RVM_E_INVALID);
    if (t.idle_exits == 0 || t.psi_threshold < t.idle_exits) return fail(RVM_E_INVALID);
    return {};
}

PsiDeltas psi_deltas(const PsiSample& prev, const PsiSample& cur) {
    return PsiDeltas{
        .exits = delta(prev.exits, cur.exits),
        .io_exits = delta(prev.io_exits, cur.io_exits),
        .mmio_exits = delta(prev.mmio_exits, cur.mmio_exits),
        .irq_injections = delta(prev.irq_injections, cur.irq_injections),
        .halt_exits = delta(prev.halt_exits, cur.halt_exits),
        .insn_emulation = delta(prev.insn_emulation, cur.insn_emulation),
        .signal_exits = delta(prev.signal_exits, cur.signal_exits),
        .irq_exits = delta(prev.irq_exits, cur.irq_exits),
        .request_irq_exits = delta(prev.request_irq_exits, cur.request_irq_exits),
        .hypercalls = delta(prev.hypercalls, cur.hypercalls),
    };
}

std::uint64_t psi_activity(const PsiDeltas& d) {
    return sat_add(sat_add(d.exits, d.irq_injections), sat_add(d.mmio_exits, d.io_exits));
}

PsiState psi_classify(const PsiDeltas& d, const PsiThresholds& t) {
    if (psi_activity(d) > t.psi_threshold) return PsiState::Psi;
    if (d.exits < t.idle_exits) return PsiState::Zero;
    return PsiState::One;
}

const char* psi_state_name(PsiState s) {
    switch (s) {
        case PsiState::Zero: return "zero";
        case PsiState::One: return "one";
        case PsiState::Psi: return "psi";
    }
    return "unknown";
}

PsiHistory::PsiHistory(std::uint32_t window) : window_(window) { RVM_ASSERT(window >= 1 && window <= kPsiMaxWindow); }

void PsiHistory::reset(std::uint32_t window) { *this = PsiHistory(window); }

std::uint64_t PsiHistory::mask() const {
    return window_ == kPsiMaxWindow ? ~std::uint64_t{0} : (std::uint64_t{1} << window_) - 1;
}

void PsiHistory::push(PsiState s, std::uint64_t length_ns) {
    const bool changed = fill_ > 0 && s != last_;
    psi_bits_ = ((psi_bits_ << 1) | (s == PsiState::Psi ? 1u : 0u)) & mask();
    change_bits_ = ((change_bits_ << 1) | (changed ? 1u : 0u)) & mask();
    last_ = s;
    // The ring holds the lengths of the epochs in the window; when it is full
    // the slot at head_ is the oldest, which leaves the window now.
    const std::uint32_t slot = (head_ + fill_) % window_;
    if (fill_ == window_) {
        window_ns_ -= length_ns_[head_];
        head_ = (head_ + 1) % window_;
    } else {
        ++fill_;
    }
    length_ns_[slot] = length_ns;
    window_ns_ += length_ns;
}

std::uint32_t PsiHistory::psi_epochs() const { return static_cast<std::uint32_t>(std::popcount(psi_bits_)); }

std::uint32_t PsiHistory::changes() const { return static_cast<std::uint32_t>(std::popcount(change_bits_)); }

std::uint32_t PsiHistory::ratio_ppm() const {
    if (fill_ == 0) return 0;
    return static_cast<std::uint32_t>(std::uint64_t{psi_epochs()} * kPsiRatioOne / fill_);
}

std::uint64_t PsiHistory::transition_rate_mhz() const {
    // changes <= 64 and 10^12 * 64 < 2^63: no overflow.
    if (window_ns_ == 0) return 0;
    return std::uint64_t{changes()} * 1'000'000'000'000u / window_ns_;
}

std::uint64_t psi_state_msr_value(PsiState s, std::uint32_t ratio_ppm) {
    return sat(ratio_ppm, kPsiRatioOne) | (std::uint64_t{static_cast<std::uint8_t>(s)} << 32);
}

std::uint64_t psi_conf_msr_value(const PsiThresholds& t) {
    return sat(t.psi_threshold, kU32Max) | (sat(t.idle_exits, 0xffff) << 32) | (sat(t.window, 0xff) << 48);
}

std::uint64_t psi_stats_msr_value(std::uint64_t committed, std::uint64_t deferred) {
    return (sat(committed, kU32Max) << 32) | sat(deferred, kU32Max);
}

}  // namespace rvm
