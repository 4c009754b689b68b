#include "host/runtime/psi_governor.hpp"

#include <sys/resource.h>

#include "abi/psi.h"
#include "host/psi/psi_page.hpp"

namespace rvm::host {

void PsiGovernor::epoch(PartitionList& parts, std::uint64_t now, std::uint64_t epoch_ns) {
    for (auto& p : parts) exchange_page(*p, now);
    if (!policy_) return;
    for (auto& p : parts) throttle(*p, now, epoch_ns);
}

// Take the guest's report from its shared Ψ page (if it has registered one
// and the report is consistent) and publish the host's view.
void PsiGovernor::exchange_page(AgentPartition& p, std::uint64_t now) {
    const std::uint64_t gva = p.psi_page.load();
    if (gva == 0 || p.stop) return;
    const auto v = p.memory->view(gva, RVM_PSI_PAGE_SIZE, true);
    if (!v.ok) return;  // CANNOT FAIL: checked at REGISTER; the layout is fixed
    const PsiPage page = v.bytes.first<RVM_PSI_PAGE_SIZE>();
    PsiGuestReport report;
    switch (psi_page_read_guest(page, report)) {
        case PsiPageRead::Ok:
            if (psi_.guest_update(p.id, report)) ++p.psi_page_reads;
            break;
        case PsiPageRead::Invalid:      // ignored: the guest broke its own page
        case PsiPageRead::Busy: break;  // torn: next epoch
    }
    psi_page_publish_host(page, psi_.host_view().guest_ratio_ppm, now - p.start_ns);
}

// A partition whose allowance is below 1000 per mille is held out of the
// guest for (1000 - allowance) / 1000 of the next epoch -- unless it is
// boosted (seed 000: a partition that just started transitioning gets a
// short-term priority boost instead).
void PsiGovernor::throttle(AgentPartition& p, std::uint64_t now, std::uint64_t epoch_ns) {
    const auto d = psi_.policy(p.id);
    if (!d || p.stop) return;
    boost(p, d.value().boost != 0);
    if (d.value().boost != 0 || d.value().cpu_permille >= 1000) return;
    const std::uint32_t cpu = d.value().cpu_permille;
    const std::uint64_t pause = epoch_ns * (1000u - cpu) / 1000u;
    p.throttle_until = now + pause;
    p.throttled_ns += pause;
    p.kick_all();
}

// The boost is a Linux priority step per boost level for the partition's
// task threads (nice -5 per level; needs CAP_SYS_NICE, else not applied).
void PsiGovernor::boost(AgentPartition& p, bool on) {
    if (on) ++p.boosted_epochs;
    if (on == p.boosted) return;
    const auto d = psi_.policy(p.id);
    const int nice = on && d ? -5 * static_cast<int>(d.value().boost) : 0;
    std::lock_guard<std::mutex> g(p.mu);
    for (const auto& t : p.tasks) {
        const int tid = t->tid.load();
        if (tid != 0 && !t->done) (void)setpriority(PRIO_PROCESS, static_cast<id_t>(tid), nice);
    }
    p.boosted = on;
}

}  // namespace rvm::host
