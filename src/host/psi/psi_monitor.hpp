// PsiMonitor: feeds the nucleus Ψ (transition intensity) engine from what the
// host observes: each epoch, every attached vCPU's KVM binary statistics
// (exits, io/mmio exits, interrupt injections, halts, emulated instructions)
// plus RVM's own hypercall count. Not to be confused with Linux PSI
// (/proc/pressure). Policy enforcement (duty cycling) is not wired yet.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

#include "backend/kvm/kvm_stats.hpp"
#include "nucleus/psi_engine.hpp"

namespace rvm::host {

struct PsiSummary {
    PsiState state = PsiState::Zero;
    double ratio_percent = 0;
    double transitions_per_s = 0;
    std::uint32_t cpu_permille = 1000;
    std::uint32_t mem_permille = 1000;
    std::uint64_t epochs = 0;
};

class PsiMonitor {
public:
    static constexpr std::uint64_t kDefaultEpochNs = 10'000'000;  // 10 ms (DESIGN.md 6)

    explicit PsiMonitor(std::uint64_t epoch_ns = kDefaultEpochNs);

    void attach_partition(PartitionId p);
    // `vcpu_fd` for KVM_GET_STATS_FD (-1: none); `exits` and `hypercalls` are
    // RVM's own counters of the task, used when KVM statistics are missing.
    void attach_task(PartitionId p, TaskId t, int vcpu_fd, const std::atomic<std::uint64_t>* exits,
                     const std::atomic<std::uint64_t>* hypercalls);
    // The task ended: stop sampling it; its epochs stay in the aggregates.
    void retire_task(TaskId t);
    // The task's vCPU was recreated in another VM (live reshaping): its KVM
    // statistics come from `vcpu_fd` now, counted on from where the old
    // vCPU's ended.
    void rebind_task(TaskId t, int vcpu_fd);

    // Observes every attached vCPU if an epoch has passed since the last call;
    // returns the length of the epoch it closed (0: none).
    std::uint64_t sample(std::uint64_t now_ns);

    [[nodiscard]] PsiSummary summary(PartitionId p) const;

    // Seed 001's guest side (RVM_HC_PSI_*): the engine's calls under the
    // monitor's mutex, so task threads may call them concurrently with sample().
    KResult<void> guest_register(PartitionId p);
    KResult<void> guest_unregister(PartitionId p);
    KResult<void> guest_update(PartitionId p, const PsiGuestReport& report);
    [[nodiscard]] KResult<PsiVcpuView> vcpu_view(TaskId t) const;
    [[nodiscard]] PsiThresholds thresholds() const;
    [[nodiscard]] KResult<PsiPartitionView> partition_view(PartitionId p) const;
    [[nodiscard]] PsiHostView host_view() const;
    [[nodiscard]] KResult<PsiDecision> policy(PartitionId p) const;

    // One vCPU as `rvm stats` shows it: its Ψ view and its cumulative counters
    // (KVM's binary statistics when the host has them).
    struct VcpuStats {
        TaskId task;
        PsiVcpuView view;
        PsiSample counters;
        bool running = false;
    };
    [[nodiscard]] std::vector<VcpuStats> vcpus(PartitionId p) const;

private:
    struct Task {
        PartitionId partition;
        std::optional<kvm::KvmStats> stats;
        const std::atomic<std::uint64_t>* exits = nullptr;
        const std::atomic<std::uint64_t>* hypercalls = nullptr;
        bool retired = false;
        PsiSample last;   // counters at retirement
        PsiSample carry;  // KVM counters of the vCPUs it had before (rebind_task)
    };
    [[nodiscard]] PsiSample read(const Task& t) const;

    mutable std::mutex mu_;
    std::unique_ptr<PsiEngine> engine_;
    std::map<std::uint64_t, Task> tasks_;  // by TaskId::raw()
    std::uint64_t epoch_ns_;
    std::uint64_t epoch_ = 0;
    std::uint64_t last_ns_ = 0;
};

}  // namespace rvm::host
