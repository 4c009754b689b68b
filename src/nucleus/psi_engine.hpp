// PsiEngine: the Ψ (transition intensity) state of every vCPU and partition,
// the aggregates over them and the resource policy (DESIGN.md 6). Fixed
// tables indexed by the handles' slot indices and checked by generation, so a
// handle of a detached vCPU or partition is refused (RVM_E_BAD_HANDLE). Not
// thread-safe: the host serializes calls. Everything is O(1) per call except
// host_view() (O(partitions)) and configure() (O(vCPUs)).
//
// Aggregates over vCPUs (partition and host) are pooled, i.e. the average of
// the vCPU ratios weighted by the epochs each has in its window:
//   ratio_ppm = sum(psi_epochs_i) * 10^6 / sum(epochs_i)
// transition rates add up: a partition's rate is the sum of its vCPUs'.
// A partition's state is its "highest" vCPU state (PSI > ONE > ZERO).
//
// Guest reports (seed 001 REGISTER / UPDATE / QUERY): a registered partition
// reports its own ratio and committed / deferred counts. The seed's "weighted
// average" over registered guests weighs each report by the events behind it:
//   guest_ratio_ppm = sum(w_g * ratio_g) / sum(w_g),  w_g = committed_g + deferred_g
// with w_g saturated to 2^32 - 1; when every reporting guest has w_g = 0 it is
// the plain mean, and 0 when no guest has reported.
//
// Policy input: max(observed partition ratio, the partition's own report).
// A guest can report itself more transitioning and get less, never more.
//
// Boost (seed 000): the epoch index of each observation is also the
// partition's clock. A partition is transitioning in an epoch when any of its
// vCPUs is PSI in it; when that follows an epoch in which it was not, a boost
// is armed for boost_epochs epochs (this one included). Staying in PSI does
// not extend it: the boost is short-term, the bands handle lasting Ψ.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

#include "nucleus/config.hpp"
#include "nucleus/handle.hpp"
#include "nucleus/psi.hpp"
#include "nucleus/psi_policy.hpp"
#include "nucleus/status.hpp"

namespace rvm {

inline constexpr std::size_t kPsiMaxVcpus = kMaxTasks;
inline constexpr std::size_t kPsiMaxPartitions = kMaxPartitions;

struct PsiConfig {
    PsiThresholds thresholds;
    PsiPolicyConfig policy;
    friend constexpr bool operator==(const PsiConfig&, const PsiConfig&) = default;
};
[[nodiscard]] KResult<void> validate(const PsiConfig& c);

// What a guest says about itself (RVM_HC_PSI_UPDATE, the MSRs, the page).
struct PsiGuestReport {
    std::uint32_t ratio_ppm = 0;  // <= kPsiRatioOne
    std::uint64_t committed = 0;
    std::uint64_t deferred = 0;
    friend constexpr bool operator==(const PsiGuestReport&, const PsiGuestReport&) = default;
};

struct PsiVcpuView {
    PartitionId partition;
    PsiState state = PsiState::Zero;  // of the last epoch; ZERO before the first
    std::uint32_t epochs = 0;         // in the window
    std::uint32_t psi_epochs = 0;
    std::uint32_t ratio_ppm = 0;
    std::uint64_t transition_rate_mhz = 0;
    PsiDeltas last_deltas;
    std::uint64_t last_activity = 0;
};

struct PsiPartitionView {
    PsiState state = PsiState::Zero;
    std::uint32_t vcpus = 0;
    std::array<std::uint32_t, kPsiStateCount> in_state{};  // vCPUs per last state
    std::uint64_t epochs = 0;
    std::uint64_t psi_epochs = 0;
    std::uint32_t ratio_ppm = 0;
    std::uint64_t transition_rate_mhz = 0;
    bool guest_registered = false;
    bool guest_reported = false;
    PsiGuestReport guest;
};

struct PsiHostView {
    std::uint32_t partitions = 0;
    std::uint32_t vcpus = 0;
    std::array<std::uint32_t, kPsiStateCount> in_state{};
    std::uint64_t epochs = 0;
    std::uint64_t psi_epochs = 0;
    std::uint32_t ratio_ppm = 0;
    std::uint64_t transition_rate_mhz = 0;
    std::uint32_t guests_registered = 0;
    std::uint32_t guests_reporting = 0;
    std::uint32_t guest_ratio_ppm = 0;  // RVM_PSI_QUERY_GUESTS
};

class PsiEngine {
public:
    PsiEngine() = default;  // the default PsiConfig
    PsiEngine(const PsiEngine&) = delete;
    PsiEngine& operator=(const PsiEngine&) = delete;

    // All or nothing: an invalid config changes nothing. A new window restarts
    // every vCPU's window (states and counter baselines are kept).
    KResult<void> configure(const PsiConfig& c);
    [[nodiscard]] const PsiConfig& config() const { return config_; }

    // A partition must be attached before its vCPUs and detached after them
    // (RVM_E_BUSY while it has any). Slot taken -> RVM_E_BUSY; null handle or
    // index beyond the table -> RVM_E_BAD_HANDLE.
    KResult<void> attach_partition(PartitionId pid);
    KResult<void> detach_partition(PartitionId pid);
    // `baseline`: the vCPU's counters now (zero for a new vCPU); the first
    // epoch's deltas are taken from it.
    KResult<void> attach_vcpu(TaskId vcpu, PartitionId pid, const PsiSample& baseline = {});
    KResult<void> detach_vcpu(TaskId vcpu);
    // Forgets the window and the last epoch and restarts from `baseline`
    // (after a restore or migration); the vCPU is ZERO until observed.
    KResult<void> reset(TaskId vcpu, const PsiSample& baseline = {});

    // Classifies one epoch of `vcpu`. RVM_E_INVALID for a length outside
    // (0, kPsiMaxEpochNs] or an index not above the vCPU's previous one.
    KResult<PsiState> observe(TaskId vcpu, const PsiSample& counters, PsiEpoch epoch);

    [[nodiscard]] KResult<PsiVcpuView> vcpu_view(TaskId vcpu) const;
    [[nodiscard]] KResult<PsiPartitionView> partition_view(PartitionId pid) const;
    [[nodiscard]] PsiHostView host_view() const;
    // Resources and boost for `pid` from its current state (recomputed on
    // every call, hence after every observe and guest update).
    [[nodiscard]] KResult<PsiDecision> policy(PartitionId pid) const;

    // Seed 001's guest side. register is idempotent; unregister drops the
    // report (not registered -> RVM_E_STATE). Errors carry no argument
    // position: the hypercall decoder adds it (Status::at).
    KResult<void> guest_register(PartitionId pid);
    KResult<void> guest_unregister(PartitionId pid);
    // Not registered -> RVM_E_STATE; ratio above 100 % -> RVM_E_INVALID.
    KResult<void> guest_update(PartitionId pid, const PsiGuestReport& report);

private:
    struct Vcpu {
        std::uint32_t generation = 0;  // 0: free
        std::uint32_t partition = 0;   // slot index in partitions_
        bool observed = false;         // since attach or reset
        PsiState state = PsiState::Zero;
        std::uint64_t last_epoch = 0;
        PsiSample prev;
        PsiDeltas last_deltas;
        PsiHistory history;
    };
    // The running sums of a group of vCPUs (a partition, the host): each
    // vCPU's share is its last state and its window's counts.
    struct PsiSums {
        std::array<std::uint32_t, kPsiStateCount> in_state{};
        std::uint64_t epochs = 0;
        std::uint64_t psi_epochs = 0;
        std::uint64_t rate_mhz = 0;
        void add(const Vcpu& v);
        void sub(const Vcpu& v);
        void clear_window() { epochs = psi_epochs = rate_mhz = 0; }
    };
    struct Partition {
        std::uint32_t generation = 0;  // 0: free
        std::uint32_t vcpus = 0;
        PsiSums sums;
        // Boost clock: the latest epoch index seen and whether the partition
        // was transitioning in it and in the epoch before.
        bool clock_started = false;
        std::uint64_t epoch = 0;
        bool psi_now = false;
        bool psi_before = false;
        std::uint64_t boost_until = 0;  // boost while epoch < boost_until
        bool registered = false;
        bool reported = false;
        PsiGuestReport report;
    };
    struct Totals {
        std::uint32_t partitions = 0;
        std::uint32_t vcpus = 0;
        PsiSums sums;
    };

    [[nodiscard]] Vcpu* find(TaskId id);
    [[nodiscard]] const Vcpu* find(TaskId id) const;
    [[nodiscard]] Partition* find(PartitionId id);
    [[nodiscard]] const Partition* find(PartitionId id) const;
    // Remove / add a vCPU's share of its partition's and the host's sums.
    void withdraw(const Vcpu& v, Partition& p);
    void contribute(Vcpu& v, Partition& p);
    void tick(Partition& p, std::uint64_t epoch, PsiState s);

    PsiConfig config_{};
    std::array<Vcpu, kPsiMaxVcpus> vcpus_{};
    std::array<Partition, kPsiMaxPartitions> partitions_{};
    Totals totals_{};
};

}  // namespace rvm
