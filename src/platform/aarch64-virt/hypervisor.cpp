#include "platform/aarch64-virt/hypervisor.hpp"

#include <cstring>

#include "abi/hypercall.h"
#include "abi/witness.h"
#include "platform/aarch64-virt/console.hpp"
#include "platform/aarch64-virt/gic.hpp"
#include "platform/aarch64-virt/hw.hpp"
#include "platform/aarch64-virt/sha256.hpp"
#include "platform/aarch64-virt/timer.hpp"

extern "C" const std::uint8_t el1_vector_page[];

namespace rvm::bm {

namespace {

constexpr std::uint64_t kHcrVm = 1ull << 0, kHcrSwio = 1ull << 1, kHcrFmo = 1ull << 3, kHcrImo = 1ull << 4,
                        kHcrAmo = 1ull << 5, kHcrDc = 1ull << 12, kHcrTwi = 1ull << 13, kHcrTsc = 1ull << 19,
                        kHcrRw = 1ull << 31;
constexpr std::uint64_t kSpsrEl1hMasked = 0x3c5;      // EL1h, D A I F masked
constexpr std::uint64_t kSctlrEl1Reset = 0x30d00800;  // RES1 bits, MMU and caches off
constexpr std::uint64_t kEpochNs = 10'000'000;
constexpr std::uint64_t kLogMax = 256;

// ESR_EL2 exception classes.
constexpr std::uint64_t kEcWfx = 0x01, kEcFp = 0x07, kEcHvc = 0x16, kEcSmc = 0x17, kEcSysreg = 0x18, kEcIabtLow = 0x20,
                        kEcDabtLow = 0x24;

// `hvc #imm`: 0 = hypercall (x0 = number, x1..x6 = arguments, x0 = result),
// 1 = the default EL1 vectors report an unhandled exception, 2 = the bare
// HVC the benchmarks compare against (returns at once, touches nothing).
constexpr std::uint64_t kHvcCall = 0, kHvcUnhandled = 1, kHvcBare = 2;

class PlatformMemory final : public GuestMemory {
public:
    explicit PlatformMemory(std::span<const Guest> guests) : guests_(guests) {}
    [[nodiscard]] bool read(PartitionId p, std::uint64_t gpa, std::span<std::uint8_t> out) const override {
        for (const Guest& g : guests_)
            if (g.partition == p) return guest_read(g, gpa, out);
        return false;
    }

private:
    std::span<const Guest> guests_;
};

std::uint64_t fault_ipa(const Guest& g) { return ((g.regs.hpfar >> 4) << 12) | (g.regs.far & 0xfff); }

}  // namespace

void hypervisor_global_init() {
    RVM_MSR(hcr_el2, kHcrVm | kHcrSwio | kHcrFmo | kHcrImo | kHcrAmo | kHcrDc | kHcrTwi | kHcrTsc | kHcrRw);
    RVM_MSR(cptr_el2, 0x33ffu | (1u << 10));  // RES1 bits, TFP: FP/SIMD at EL1 traps to EL2
    RVM_MSR(cnthctl_el2, 0x3);                // EL1 may read the physical counter
    RVM_MSR(cntvoff_el2, 0);
    isb();
}

Hypervisor::Hypervisor(Kernel& kernel, Syscalls& syscalls, WitnessLog& log, Scheduler& sched)
    : k_(kernel), sys_(syscalls), log_(log), sched_(sched) {}

int Hypervisor::add_guest(const GuestSpec& spec) {
    if (count_ == guests_.size() || spec.image.size() > kGuestTokenIpa - kGuestRamIpa) return -1;
    const auto index = static_cast<int>(count_);
    Guest& g = guests_[count_];
    g.name = spec.name;
    g.vmid = static_cast<std::uint16_t>(count_ + 1);
    g.ram_pa = kPartitionPool + count_ * kGuestRamSize;

    auto p = k_.create_partition({}, PartitionConfig{});
    if (!p) return -1;
    g.partition = p.value();
    auto t = k_.spawn_task(g.partition);
    if (!t) return -1;
    g.task = t.value();

    // Measured boot: the digest of exactly the bytes the partition will run,
    // in two records (bytes 0..16 and 16..32 as object, aux; flags bit 8 =
    // which half) before its first instruction.
    // SAFETY: ram_pa is this guest's slot of the partition pool (RAM,
    // identity-mapped at EL2, used by nobody else).
    auto* ram = phys<std::uint8_t>(g.ram_pa);
    std::memset(ram, 0, kGuestRamSize);
    std::memcpy(ram, spec.image.data(), spec.image.size());
    const Sha256Digest d = sha256({ram, spec.image.size()});
    for (std::uint32_t half = 0; half < 2; ++half) {
        const std::size_t at = std::size_t{16} * half;
        std::uint64_t lo = 0, hi = 0;
        std::memcpy(&lo, d.data() + at, 8);
        std::memcpy(&hi, d.data() + at + 8, 8);
        log_.append(WitnessEvent{RVM_WK_BOOT_ATTESTATION, RVM_PROOF_NONE, g.partition.raw(), lo, hi, half << 8});
    }
    con() << "rvm-bm: measured " << g.name << " bytes=" << Dec{spec.image.size()} << " sha256=" << Bytes{d} << '\n';

    if (!g.s2.init() || !g.s2.map(kGuestRamIpa, g.ram_pa, kGuestRamSize, S2Access::ReadWriteExec) ||
        !g.s2.map(kGuestVectorsIpa, reinterpret_cast<std::uint64_t>(el1_vector_page), 4096, S2Access::ReadExec))
        return -1;

    g.regs.x[0] = spec.arg0;
    g.regs.x[1] = spec.arg1;
    g.regs.sp_el1 = kGuestRamIpa + kGuestRamSize;
    g.regs.elr = kGuestRamIpa;
    g.regs.spsr = kSpsrEl1hMasked;
    g.el1.sctlr = kSctlrEl1Reset;
    g.el1.vbar = kGuestVectorsIpa;
    g.el1.spsr = kSpsrEl1hMasked;

    if (!psi_.attach_partition(g.partition) || !psi_.attach_vcpu(g.task, g.partition)) return -1;
    const std::uint64_t now = k_.now_ns();
    if (!sched_.enqueue(0, static_cast<SchedTaskId>(index), TaskParams{g.partition.index}, now)) return -1;
    g.started_ns = now;
    ++count_;
    ++live_;
    return index;
}

void Hypervisor::set_args(int index, std::uint64_t a0, std::uint64_t a1) {
    Guest& g = guests_[static_cast<std::size_t>(index)];
    g.regs.x[0] = a0;
    g.regs.x[1] = a1;
}

void Hypervisor::switch_to(int index) {
    if (index == current_) return;
    if (current_ >= 0) {
        Guest& prev = guests_[static_cast<std::size_t>(current_)];
        prev.el1.save();
        prev.vgic.save();
    }
    Guest& next = guests_[static_cast<std::size_t>(index)];
    next.el1.load();
    next.vgic.load();
    if (next.uart_irq_pending && vgic_inject_hw(kUartIntid)) {
        next.uart_irq_pending = false;
        ++next.virqs;
        ++next.psi_counters.irq_injections;
    }
    RVM_MSR(vttbr_el2, next.s2.vttbr(next.vmid));
    isb();
    current_ = index;
}

void Hypervisor::run() {
    while (live_ > 0) {
        const std::uint64_t now = k_.now_ns();
        close_epoch_if_due(now);
        reap_leases();
        expire_waits(now);
        auto pick = sched_.pick_next(0, now);
        if (!pick) {
            con() << "rvm-bm: scheduler refused to pick: " << status_name(pick.error().code) << '\n';
            return;
        }
        if (pick.value().idle()) {
            if (idle_until_deadline()) continue;
            con() << "rvm-bm: every live partition (" << Dec{live_} << ") waits without a deadline\n";
            return;
        }
        const auto index = static_cast<int>(pick.value().task);
        Guest& g = guests_[static_cast<std::size_t>(index)];
        switch_to(index);
        hyp_timer_arm_ns(pick.value().quantum_ns);
        while (g.run == GuestRun::Runnable) {
            const unsigned kind = vcpu_enter(&g.regs);
            if (on_trap(g, kind) == Next::Repick) break;
        }
        hyp_timer_disarm();
    }
    witness_sched_events();
}

Next Hypervisor::on_trap(Guest& g, unsigned kind) {
    ++g.psi_counters.exits;
    if (g.uart_leased) con().break_line();
    switch (kind) {
        case VCPU_EXIT_SYNC: return on_sync(g);
        case VCPU_EXIT_IRQ: return on_irq(g);
        default: fail(g, FailReason::Other, kind, "SError or FIQ"); return Next::Repick;
    }
}

Next Hypervisor::on_irq(Guest& g) {
    const std::uint32_t intid = gic_ack();
    if (intid == kSpuriousIntid) return Next::Resume;
    gic_priority_drop(intid);
    if (intid == kUartIntid) return on_uart_irq(g);
    if (intid == kVirtTimerIntid) {
        // The running partition's own virtual timer (only its CNTV is
        // enabled): it stays active until the partition's EOI ends it.
        if (vgic_inject_hw(intid)) {
            ++g.virqs;
            ++g.psi_counters.irq_injections;
            return Next::Resume;
        }
        gic_deactivate(intid);
        return Next::Resume;
    }
    gic_deactivate(intid);
    if (intid != kHypTimerIntid) return Next::Resume;
    hyp_timer_disarm();
    ++g.timer_preemptions;
    return Next::Repick;
}

Next Hypervisor::on_sync(Guest& g) {
    const std::uint64_t ec = g.regs.esr >> 26;
    switch (ec) {
        case kEcHvc: {
            const std::uint64_t imm = g.regs.esr & 0xffff;
            if (imm == kHvcBare) {
                g.regs.x[0] = 0;
                return Next::Resume;
            }
            if (imm == kHvcCall) return on_hypercall(g);
            if (imm == kHvcUnhandled) {
                const std::uint64_t el1_ec = g.regs.x[1] >> 26;
                fail(g, el1_ec == 0 ? FailReason::IllegalInstruction : FailReason::Other, g.regs.x[2],
                     el1_ec == 0 ? "undefined instruction" : "unhandled EL1 exception");
                return Next::Repick;
            }
            g.regs.x[0] = static_cast<std::uint64_t>(Status{RVM_E_UNKNOWN_CALL, 0}.to_ret());
            return Next::Resume;
        }
        case kEcWfx:
            ++g.psi_counters.halt_exits;
            g.regs.elr += 4;
            return Next::Repick;  // WFI/WFE: nothing to wait for, let others run
        case kEcDabtLow:
        case kEcIabtLow:
            fail(g, FailReason::BadAccess, fault_ipa(g),
                 ec == kEcDabtLow ? "stage-2 data abort" : "stage-2 instruction abort");
            return Next::Repick;
        case kEcFp: fail(g, FailReason::IllegalInstruction, g.regs.elr, "FP/SIMD use"); return Next::Repick;
        case kEcSmc: fail(g, FailReason::IllegalInstruction, g.regs.elr, "SMC"); return Next::Repick;
        case kEcSysreg:
            fail(g, FailReason::IllegalInstruction, g.regs.elr, "trapped system register");
            return Next::Repick;
        default: fail(g, FailReason::Other, g.regs.esr, "unexpected trap"); return Next::Repick;
    }
}

Next Hypervisor::on_hypercall(Guest& g) {
    ++g.hypercalls;
    ++g.psi_counters.hypercalls;
    const std::uint64_t nr = g.regs.x[0];
    switch (nr) {
        case RVM_HC_EXIT:
            g.exit_code = static_cast<std::int64_t>(g.regs.x[1]);
            finish(g);
            return Next::Repick;
        case RVM_HC_LOG:
            g.regs.x[0] = static_cast<std::uint64_t>(log_call(g, g.regs.x[1], g.regs.x[2]));
            return Next::Resume;
        case RVM_HC_YIELD: g.regs.x[0] = 0; return Next::Repick;
        case RVM_HC_CLOCK: g.regs.x[0] = k_.now_ns() - g.started_ns; return Next::Resume;
        case RVM_HC_NOTIFY_SIGNAL:
        case RVM_HC_NOTIFY_WAIT: return notify_call(g);
        case RVM_HC_INFO:  // no info page on this platform yet: start registers carry what a partition needs
            g.regs.x[0] = static_cast<std::uint64_t>(Status{RVM_E_NOT_SUPPORTED, 0}.to_ret());
            return Next::Resume;
        default: break;
    }
    SyscallFrame frame;
    frame.nr = nr;
    for (std::size_t i = 0; i < frame.args.size(); ++i) frame.args[i] = g.regs.x[i + 1];
    const PlatformMemory mem{guests()};
    const rvm_ret_t ret = sys_.dispatch(g.partition, frame, mem);
    g.regs.x[0] = static_cast<std::uint64_t>(ret);
    if (nr == RVM_HC_DEVICE_LEASE_ACQUIRE && ret >= 0) map_new_lease(g);
    if (nr == RVM_HC_DEVICE_LEASE_REVOKE && ret >= 0) reap_leases();  // unmapped before the caller resumes
    return Next::Resume;
}

std::int64_t Hypervisor::log_call(Guest& g, std::uint64_t ipa, std::uint64_t len) {
    if (len > kLogMax) return Status{RVM_E_INVALID, 2}.to_ret();
    std::array<std::uint8_t, kLogMax> buf{};
    if (!guest_read(g, ipa, {buf.data(), static_cast<std::size_t>(len)})) return Status{RVM_E_FAULT, 1}.to_ret();
    con() << "[" << g.name << "] ";
    for (std::size_t i = 0; i < len; ++i) {
        const char c = static_cast<char>(buf[i]);
        con() << ((c >= ' ' && c <= '~') || c == '\n' ? c : '?');
    }
    if (len == 0 || buf[static_cast<std::size_t>(len - 1)] != '\n') con() << '\n';
    return static_cast<std::int64_t>(len);
}

// The nucleus reuses task slots: the Ψ engine lets go of the ended vCPU
// (its last state stays in the Guest for the summary).
void Hypervisor::release(Guest& g, bool failed) {
    if (g.uart_leased) {  // a lease ends with its holder
        (void)k_.revoke_lease(g.uart_lease);
        end_uart_lease(g);
    }
    end_edges_of(g, failed);
    (void)psi_.detach_vcpu(g.task);
    (void)psi_.detach_partition(g.partition);
    --live_;
}

void Hypervisor::finish(Guest& g) {
    (void)k_.terminate_task(g.task, static_cast<std::uint64_t>(g.exit_code));
    (void)sched_.dequeue(0, static_cast<SchedTaskId>(&g - guests_.data()), k_.now_ns());
    g.run = GuestRun::Exited;
    release(g, false);
    con() << "rvm-bm: partition " << g.name << " exited code=" << Dec{static_cast<std::uint64_t>(g.exit_code)}
          << " preemptions=" << Dec{g.timer_preemptions} << " virqs=" << Dec{g.virqs} << '\n';
}

void Hypervisor::fail(Guest& g, FailReason reason, std::uint64_t detail, const char* what) {
    // The nucleus witnesses the transition; only this partition stops.
    (void)k_.set_partition_state(g.partition, PartitionState::Failed, reason, detail);
    (void)sched_.dequeue(0, static_cast<SchedTaskId>(&g - guests_.data()), k_.now_ns());
    // Recovery mode for recovery_epochs; the partition is not restarted, so
    // it is not left "restarting" (which would hold Recovery for ever).
    sched_.report_failure(g.partition.index, k_.now_ns());
    sched_.partition_recovered(g.partition.index, k_.now_ns());
    g.run = GuestRun::Failed;
    release(g, true);
    con() << "rvm-bm: partition " << g.name << " failed: " << what << " detail=" << Hex{detail}
          << " elr=" << Hex{g.regs.elr} << '\n';
}

void Hypervisor::close_epoch_if_due(std::uint64_t now) {
    if (now < next_epoch_ns_) return;
    if (next_epoch_ns_ != 0) {
        observe_psi(now - epoch_start_ns_);
        sched_.end_epoch(now);
    }
    epoch_start_ns_ = now;
    next_epoch_ns_ = now + kEpochNs;
    witness_sched_events();
}

// Ψ from trap counts, as the KVM host does from KVM's stats: each runnable
// vCPU's epoch is classified, and the policy's ratio, boost and CPU band go
// to the scheduler as Flow signals.
void Hypervisor::observe_psi(std::uint64_t epoch_ns) {
    ++psi_epoch_;
    for (std::size_t i = 0; i < count_; ++i) {
        Guest& g = guests_[i];
        if (g.run != GuestRun::Runnable || epoch_ns == 0 || epoch_ns > kPsiMaxEpochNs) continue;
        auto st = psi_.observe(g.task, g.psi_counters, PsiEpoch{psi_epoch_, epoch_ns});
        if (!st) continue;
        g.psi_state = st.value();
        if (g.psi_state == PsiState::Psi) ++g.psi_epochs;
        auto decision = psi_.policy(g.partition);
        if (!decision) continue;
        g.psi_ratio_ppm = decision.value().ratio_ppm;
        FlowSignals sig;
        sig.psi_ppm = decision.value().ratio_ppm;
        sig.psi_boost = decision.value().boost;
        sig.cpu_permille = decision.value().cpu_permille;
        (void)sched_.set_signals(0, static_cast<SchedTaskId>(i), sig);
    }
}

void Hypervisor::witness_sched_events() {
    std::array<SchedEvent, 16> events{};
    for (;;) {
        const std::size_t n = sched_.drain_events(events);
        for (std::size_t i = 0; i < n; ++i) {
            const SchedEvent& e = events[i];
            if (e.kind == SchedEventKind::ModeSwitch)
                k_.note_mode_switch(static_cast<std::uint8_t>(e.from), static_cast<std::uint8_t>(e.to),
                                    static_cast<std::uint8_t>(e.reason), e.partition, e.epoch);
            else
                k_.note_sched_epoch(e.epoch, e.switches, e.deadline_misses, static_cast<std::uint8_t>(e.to));
        }
        if (n < events.size()) return;
    }
}

void Hypervisor::summary() const {
    for (const Guest& g : guests()) {
        con() << "rvm-bm: summary " << g.name << " vmid=" << Dec{g.vmid} << " state="
              << (g.run == GuestRun::Exited   ? "exited"
                  : g.run == GuestRun::Failed ? "failed"
                                              : "runnable")
              << " hypercalls=" << Dec{g.hypercalls} << " preemptions=" << Dec{g.timer_preemptions}
              << " virqs=" << Dec{g.virqs} << " signals=" << Dec{g.notify_signals} << " waits=" << Dec{g.notify_waits}
              << " woken=" << Dec{g.notify_woken} << " psi_epochs=" << Dec{g.psi_epochs}
              << " psi_last=" << psi_state_name(g.psi_state) << " psi_ratio_ppm=" << Dec{g.psi_ratio_ppm} << '\n';
    }
}

}  // namespace rvm::bm
