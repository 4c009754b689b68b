// Hypervisor: the bare-metal platform around the nucleus. It owns the
// nucleus (Kernel, Syscalls, WitnessLog), the scheduler policy and the
// guests; it turns traps into nucleus calls and scheduler events. One core.
#pragma once

#include <array>
#include <cstdint>
#include <span>

#include "nucleus/kernel.hpp"
#include "nucleus/psi_engine.hpp"
#include "nucleus/scheduler.hpp"
#include "nucleus/syscalls.hpp"
#include "platform/aarch64-virt/guest.hpp"
#include "platform/aarch64-virt/memory_map.hpp"

namespace rvm::bm {

struct GuestSpec {
    const char* name;
    std::span<const std::uint8_t> image;  // flat binary linked at kGuestRamIpa
    std::uint64_t arg0 = 0;               // x0 and x1 at entry
    std::uint64_t arg1 = 0;
};

// What the run loop does after a trap.
enum class Next : std::uint8_t { Resume, Repick };

class Hypervisor {
public:
    Hypervisor(Kernel& kernel, Syscalls& syscalls, WitnessLog& log, Scheduler& sched);
    Hypervisor(const Hypervisor&) = delete;
    Hypervisor& operator=(const Hypervisor&) = delete;

    // Creates the partition and its task, measures the image (witnessed),
    // builds stage 2 and the start state. Returns the guest index or -1.
    int add_guest(const GuestSpec& spec);
    // An edge from `sender` to `receiver`: a nucleus CommEdge and a window
    // at kGuestEdgeIpa + k * kEdgeSlot in both, each side writable only
    // where it owns the layout of abi/edge.h, and a capability on the edge
    // for each side (notifications). Both guests start with x0 = the
    // window, x1 = its capacity, x2 = their edge capability. Returns the
    // window's IPA, or 0.
    std::uint64_t connect(int sender, int receiver);
    // Lets a guest lease the PL011 itself: registers the UART as a nucleus
    // device, grants the guest a capability on it (LEASE | PROVE) and mints
    // one Standard proof token for RVM_HC_DEVICE_LEASE_ACQUIRE(cap,
    // duration_ns), written into the guest's RAM at kGuestTokenIpa. The
    // guest's x0 = the capability, x1 = the token's IPA. When the call
    // succeeds the UART page is mapped in the guest's stage 2 at
    // kGuestUartIpa; when the lease expires (checked at every scheduling
    // point) it is unmapped again, so the next access is a stage-2 abort.
    bool offer_uart_lease(int index, std::uint64_t duration_ns);
    // Sets x0 and x1 of a guest that has not run yet.
    void set_args(int index, std::uint64_t a0, std::uint64_t a1);
    // Runs until every guest has exited or failed.
    void run();
    void summary() const;

    [[nodiscard]] std::span<const Guest> guests() const { return {guests_.data(), count_}; }

private:
    Next on_trap(Guest& g, unsigned kind);
    Next on_sync(Guest& g);
    Next on_hypercall(Guest& g);
    Next on_irq(Guest& g);
    [[nodiscard]] Guest* uart_holder();
    void fail(Guest& g, FailReason reason, std::uint64_t detail, const char* what);
    void finish(Guest& g);
    // Ends what a partition holds: its lease, its Ψ vCPU; one fewer live.
    void release(Guest& g, bool failed);
    void switch_to(int index);
    void close_epoch_if_due(std::uint64_t now);
    void reap_leases();
    void map_new_lease(Guest& g);
    // Unmaps the UART from its holder, quiesces it (interrupts masked and
    // cleared, the SPI disabled, an injected one withdrawn).
    void end_uart_lease(Guest& g);
    Next on_uart_irq(Guest& running);
    void observe_psi(std::uint64_t epoch_ns);
    // notify_signal / notify_wait (docs/abi.md), served here as the KVM
    // host's runner does: the nucleus does not implement them.
    Next notify_call(Guest& g);
    void end_wait(Guest& g, std::uint64_t result);
    void expire_waits(std::uint64_t now);
    // A side ended: a waiting peer is woken (0, as on a timeout). If the
    // side failed, its edges are closed first (the `closed` flags of both
    // pages, the nucleus edge destroyed, witnessed) and the peer's wait
    // returns RVM_E_STATE.
    void end_edges_of(const Guest& g, bool failed);
    // Nothing runnable: sleeps (WFI) until the earliest wait deadline.
    // False if no waiting partition has one.
    bool idle_until_deadline();
    void witness_sched_events();
    std::int64_t log_call(Guest& g, std::uint64_t ipa, std::uint64_t len);

    Kernel& k_;
    Syscalls& sys_;
    WitnessLog& log_;
    Scheduler& sched_;
    std::array<Guest, kMaxGuests> guests_{};
    std::size_t count_ = 0;
    struct EdgeSlot {
        std::size_t sender = 0, receiver = 0;  // guest indices
        std::uint64_t pa = 0;                  // the window
        EdgeId id;
        bool closed = false;
    };
    std::array<EdgeSlot, 32> edges_{};
    std::size_t edge_count_ = 0;
    std::size_t live_ = 0;
    int current_ = -1;  // guest whose EL1 state is loaded
    PsiEngine psi_;
    std::uint64_t next_epoch_ns_ = 0;
    std::uint64_t epoch_start_ns_ = 0;
    std::uint64_t psi_epoch_ = 0;
    bool uart_registered_ = false;
    DeviceId uart_device_;
};

// HCR_EL2, CPTR_EL2 and the counter access every partition runs with.
void hypervisor_global_init();

}  // namespace rvm::bm
