// PsiGovernor: Ψ (transition intensity) from observation to action. It owns
// the monitor that classifies every vCPU each epoch, exchanges the shared Ψ
// page with guests that registered one, and -- with the policy on -- enforces
// each partition's CPU allowance by duty-cycling its vCPUs, or boosts a
// partition that just started transitioning (seed 000, DESIGN.md 6).
#pragma once

#include <atomic>
#include <cstdint>

#include "host/psi/psi_monitor.hpp"
#include "host/runtime/edge_hub.hpp"

namespace rvm::host {

class PsiGovernor {
public:
    PsiGovernor() = default;
    PsiGovernor(const PsiGovernor&) = delete;
    PsiGovernor& operator=(const PsiGovernor&) = delete;

    [[nodiscard]] PsiMonitor& monitor() { return psi_; }
    [[nodiscard]] const PsiMonitor& monitor() const { return psi_; }
    // The policy switch; hypercalls read it for the memory allowance.
    void set_policy(bool on) { policy_ = on; }
    [[nodiscard]] const std::atomic<bool>& policy() const { return policy_; }

    // Once per epoch, after the monitor's sample: the Ψ pages, then (policy
    // on) each partition's duty cycle and boost for the next epoch.
    void epoch(PartitionList& parts, std::uint64_t now, std::uint64_t epoch_ns);

private:
    void exchange_page(AgentPartition& p, std::uint64_t now);
    void throttle(AgentPartition& p, std::uint64_t now, std::uint64_t epoch_ns);
    void boost(AgentPartition& p, bool on);

    PsiMonitor psi_;
    std::atomic<bool> policy_{false};
};

}  // namespace rvm::host
