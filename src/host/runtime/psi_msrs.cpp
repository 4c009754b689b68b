// The seed-001 Ψ MSRs (abi/psi.h): RDMSR / WRMSR of 0xC0010100..0xC0010103
// from a kernel-profile guest, routed to user space by the KVM backend. Every
// value is the guest's and hostile: a reserved bit, a ratio above 100 %, a
// write to a read-only MSR, a report before registration or an unknown MSR
// raises #GP in the guest and changes nothing. The guest-facing state is the
// Ψ monitor's, shared with the hypercalls, so both paths see one truth.
#include <limits>

#include "abi/psi.h"
#include "host/runtime/agent_calls.hpp"

namespace rvm::host {

namespace {

constexpr MsrReply kGp{0, true};
MsrReply value(std::uint64_t v) { return MsrReply{v, false}; }

constexpr std::uint64_t kMax32 = std::numeric_limits<std::uint32_t>::max();

MsrReply state_msr(PsiMonitor& psi, PartitionId p, TaskId task, std::optional<std::uint64_t> write) {
    if (!write) {
        // A vCPU not observed yet reads as ZERO with ratio 0.
        const auto v = psi.vcpu_view(task);
        if (!v) return value(0);
        return value(psi_state_msr_value(v.value().state, v.value().ratio_ppm));
    }
    if ((*write >> 32) != 0 || *write > RVM_PSI_RATIO_ONE) return kGp;
    const auto view = psi.partition_view(p);
    if (!view || !view.value().guest_registered) return kGp;
    PsiGuestReport r = view.value().guest;  // counts stay as last reported
    r.ratio_ppm = static_cast<std::uint32_t>(*write);
    return psi.guest_update(p, r) ? value(0) : kGp;
}

MsrReply conf_msr(const PsiMonitor& psi, std::optional<std::uint64_t> write) {
    if (write) return kGp;  // thresholds are host policy
    return value(psi_conf_msr_value(psi.thresholds()));
}

MsrReply stats_msr(PsiMonitor& psi, PartitionId p, std::optional<std::uint64_t> write) {
    const auto view = psi.partition_view(p);
    if (!view) return kGp;
    const PsiPartitionView& v = view.value();
    if (!write) {
        if (!v.guest_reported) return value(0);
        return value(psi_stats_msr_value(v.guest.committed, v.guest.deferred));
    }
    if (!v.guest_registered) return kGp;
    PsiGuestReport r = v.guest;  // the ratio stays as last reported
    r.committed = *write >> 32;
    r.deferred = *write & kMax32;
    return psi.guest_update(p, r) ? value(0) : kGp;
}

MsrReply ctrl_msr(PsiMonitor& psi, PartitionId p, std::optional<std::uint64_t> write) {
    if (!write) {
        const auto view = psi.partition_view(p);
        if (!view) return kGp;
        const std::uint64_t registered = view.value().guest_registered ? 1 : 0;
        return value(registered | (std::uint64_t{psi.host_view().guest_ratio_ppm} << 32));
    }
    switch (*write) {
        case RVM_PSI_CTRL_REGISTER: return psi.guest_register(p) ? value(0) : kGp;
        case RVM_PSI_CTRL_UNREGISTER: return psi.guest_unregister(p) ? value(0) : kGp;
        default: return kGp;  // reserved bits or an unknown command
    }
}

}  // namespace

MsrReply handle_psi_msr(const PartitionCallContext& ctx, TaskId task, std::uint32_t index,
                        std::optional<std::uint64_t> write) {
    if (ctx.psi == nullptr) return kGp;
    PsiMonitor& psi = *ctx.psi;
    switch (index) {
        case RVM_PSI_STATE_MSR: return state_msr(psi, ctx.partition, task, write);
        case RVM_PSI_CONF_MSR: return conf_msr(psi, write);
        case RVM_PSI_STATS_MSR: return stats_msr(psi, ctx.partition, write);
        case RVM_PSI_CTRL_MSR: {
            const MsrReply m = ctrl_msr(psi, ctx.partition, write);
            // Unregistering forgets the shared page too.
            if (!m.gp && write && *write == RVM_PSI_CTRL_UNREGISTER && ctx.psi_page != nullptr) ctx.psi_page->store(0);
            return m;
        }
        default: return kGp;
    }
}

}  // namespace rvm::host
