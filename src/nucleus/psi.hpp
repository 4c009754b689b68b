// Ψ (transition intensity) of one vCPU: counter deltas, the ternary
// classification of seed 000's analyze_vm_state, and the window of recent
// epochs behind the Ψ ratio (DESIGN.md 6). Pure and fixed-size; PsiEngine
// (psi_engine.hpp) keeps one PsiHistory per vCPU.
//
// Classification of one epoch, from the deltas d of the cumulative counters:
//   activity = d.exits + d.irq_injections + d.mmio_exits + d.io_exits
//   PSI   if activity > psi_threshold
//   ZERO  else if d.exits < idle_exits
//   ONE   otherwise
// Seed 000 sums exits + irq_injections + mmio_exits, so an exit that reaches
// user space for MMIO counts twice; io_exits is added as its port-I/O twin,
// because port I/O is RVM's hypercall transport: a hypercall storm is an
// io_exits storm. halt_exits, insn_emulation and hypercalls are carried for
// the views but do not classify.
// ZERO versus ONE: the kernel's `exits` counts every VM exit, including the
// host timer preempting a running vCPU, so a vCPU that computes through an
// epoch of ~40 ms or more shows >= 10 exits (ONE) while one that is blocked,
// halted in user space or not scheduled shows none (ZERO). A host without the
// KVM stats must count its own run-loop returns, preemption kicks included.
// Thresholds are counts per epoch; the defaults assume ~100 ms epochs.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <type_traits>

#include "abi/psi.h"
#include "nucleus/status.hpp"

namespace rvm {

enum class PsiState : std::uint8_t {
    Zero = RVM_PSI_STATE_ZERO,
    One = RVM_PSI_STATE_ONE,
    Psi = RVM_PSI_STATE_PSI,
};
inline constexpr std::size_t kPsiStateCount = 3;

inline constexpr std::uint32_t kPsiRatioOne = RVM_PSI_RATIO_ONE;    // ratios are ppm
inline constexpr std::uint32_t kPsiMaxWindow = 64;                  // epochs, one bit each
inline constexpr std::uint64_t kPsiMaxEpochNs = 3'600'000'000'000;  // one hour

// Cumulative counters of one vCPU: the backend's (KVM binary stats, read by
// kvm::KvmStats into this same struct) plus RVM's own hypercall count.
// signal_exits, irq_exits and request_irq_exits are carried for diagnostics
// and do not classify.
struct PsiSample {
    std::uint64_t exits = 0;
    std::uint64_t io_exits = 0;
    std::uint64_t mmio_exits = 0;
    std::uint64_t irq_injections = 0;
    std::uint64_t halt_exits = 0;
    std::uint64_t insn_emulation = 0;
    std::uint64_t signal_exits = 0;
    std::uint64_t irq_exits = 0;
    std::uint64_t request_irq_exits = 0;
    std::uint64_t hypercalls = 0;
    friend constexpr bool operator==(const PsiSample&, const PsiSample&) = default;
};
// The same counters over one epoch.
using PsiDeltas = PsiSample;

// One epoch as the host saw it: its sequence number (strictly increasing per
// vCPU) and its length in ns (0 < length_ns <= kPsiMaxEpochNs).
struct PsiEpoch {
    std::uint64_t index = 0;
    std::uint64_t length_ns = 0;
};

struct PsiThresholds {
    std::uint64_t psi_threshold = 1000;  // activity per epoch above which the vCPU is transitioning
    std::uint64_t idle_exits = 10;       // exits per epoch below which the vCPU is idle (seed 000)
    std::uint32_t window = 10;           // epochs behind the Ψ ratio, 1..kPsiMaxWindow
    friend constexpr bool operator==(const PsiThresholds&, const PsiThresholds&) = default;
};

// Refuses (RVM_E_INVALID) window outside 1..kPsiMaxWindow, idle_exits == 0
// (ZERO unreachable) and psi_threshold < idle_exits (a vCPU too quiet to be
// active would be transitioning).
[[nodiscard]] KResult<void> validate(const PsiThresholds& t);

// Per counter: cur - prev, or cur when the counter went backwards (a reset;
// a wrapped 64-bit counter is indistinguishable and gets the same treatment).
[[nodiscard]] PsiDeltas psi_deltas(const PsiSample& prev, const PsiSample& cur);
// The activity sum above, saturating at UINT64_MAX.
[[nodiscard]] std::uint64_t psi_activity(const PsiDeltas& d);
[[nodiscard]] PsiState psi_classify(const PsiDeltas& d, const PsiThresholds& t);
[[nodiscard]] const char* psi_state_name(PsiState s);

// The last `window` epochs of one vCPU: which were PSI, which changed state
// from the epoch before, and how long they lasted.
//   ratio_ppm = psi_epochs * 10^6 / epochs            (0 before the first epoch)
//   transition_rate_mhz = changes * 10^12 / window_ns  (state changes per 1000 s)
// A change is counted in the epoch whose state differs from the previous
// epoch's; the first epoch after construction or reset() has none.
class PsiHistory {
public:
    PsiHistory() : PsiHistory(PsiThresholds{}.window) {}
    explicit PsiHistory(std::uint32_t window);

    void push(PsiState s, std::uint64_t length_ns);
    // Forgets every epoch; `window` must satisfy validate().
    void reset(std::uint32_t window);

    [[nodiscard]] std::uint32_t window() const { return window_; }
    [[nodiscard]] std::uint32_t epochs() const { return fill_; }
    [[nodiscard]] std::uint32_t psi_epochs() const;
    [[nodiscard]] std::uint32_t changes() const;
    [[nodiscard]] std::uint64_t window_ns() const { return window_ns_; }
    [[nodiscard]] std::uint32_t ratio_ppm() const;
    [[nodiscard]] std::uint64_t transition_rate_mhz() const;
    [[nodiscard]] PsiState last() const { return last_; }

private:
    [[nodiscard]] std::uint64_t mask() const;

    std::uint64_t psi_bits_ = 0;                            // bit i: the epoch i epochs ago was PSI
    std::uint64_t change_bits_ = 0;                         // bit i: the epoch i epochs ago changed state
    std::array<std::uint64_t, kPsiMaxWindow> length_ns_{};  // ring, oldest at head_
    std::uint64_t window_ns_ = 0;
    std::uint32_t window_ = 0;
    std::uint32_t fill_ = 0;
    std::uint32_t head_ = 0;
    PsiState last_ = PsiState::Zero;
};

// MSR values of abi/psi.h.
[[nodiscard]] std::uint64_t psi_state_msr_value(PsiState s, std::uint32_t ratio_ppm);
[[nodiscard]] std::uint64_t psi_conf_msr_value(const PsiThresholds& t);
[[nodiscard]] std::uint64_t psi_stats_msr_value(std::uint64_t committed, std::uint64_t deferred);

// The shared page of abi/psi.h, checked here because the C header cannot.
static_assert(sizeof(rvm_psi_page) == RVM_PSI_PAGE_SIZE);
static_assert(alignof(rvm_psi_page) == 64);
static_assert(std::has_unique_object_representations_v<rvm_psi_page>);
static_assert(std::is_trivially_copyable_v<rvm_psi_page>);
static_assert(offsetof(rvm_psi_page, magic) == 0x00);
static_assert(offsetof(rvm_psi_page, version) == 0x08);
static_assert(offsetof(rvm_psi_page, guest_ratio_ppm) == 0x10);
static_assert(offsetof(rvm_psi_page, host_ratio_ppm) == 0x18);
static_assert(offsetof(rvm_psi_page, committed) == 0x20);
static_assert(offsetof(rvm_psi_page, deferred) == 0x28);
static_assert(offsetof(rvm_psi_page, timestamp_ns) == 0x30);
static_assert(offsetof(rvm_psi_page, host_seq) == 0x38);
static_assert(offsetof(rvm_psi_page, guest_seq) == 0x3C);

}  // namespace rvm
