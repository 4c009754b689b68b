// Guest: one partition as the platform runs it -- its nucleus ids, VMID,
// stage-2 tables, physical memory and the state of its one task.
#pragma once

#include <cstdint>
#include <span>

#include "nucleus/handle.hpp"
#include "nucleus/psi.hpp"
#include "platform/aarch64-virt/stage2.hpp"
#include "platform/aarch64-virt/vcpu.hpp"
#include "platform/aarch64-virt/vgic.hpp"

namespace rvm::bm {

enum class GuestRun : std::uint8_t { Runnable, Exited, Failed };

// A notify_wait in progress: the task is blocked in the scheduler.
struct EdgeWait {
    bool active = false;
    std::size_t edge = 0;  // Hypervisor edge slot
    std::uint64_t mask = 0;
    std::uint64_t deadline_ns = 0;  // 0 = none
};

struct Guest {
    const char* name = "";
    PartitionId partition;
    TaskId task;
    std::uint16_t vmid = 0;
    std::uint64_t ram_pa = 0;
    Stage2 s2;
    VcpuRegs regs{};
    El1State el1{};
    VgicState vgic{};
    GuestRun run = GuestRun::Runnable;
    std::int64_t exit_code = 0;
    std::uint64_t timer_preemptions = 0;
    std::uint64_t hypercalls = 0;
    std::uint64_t virqs = 0;  // interrupts injected through the list registers
    std::uint64_t started_ns = 0;
    PsiSample psi_counters{};  // this vCPU's trap counts, the Ψ engine's input
    PsiState psi_state = PsiState::Zero;
    std::uint32_t psi_ratio_ppm = 0;
    std::uint32_t psi_epochs = 0;  // epochs classified PSI
    EdgeWait wait{};
    std::uint64_t notify_signals = 0;  // notify_signal calls served
    std::uint64_t notify_waits = 0;    // notify_wait calls that blocked
    std::uint64_t notify_woken = 0;    // of those, ended by a signal
    bool uart_irq_pending = false;     // the UART's interrupt waits for this partition to run
    bool uart_leased = false;          // the PL011 is mapped at kGuestUartIpa
    LeaseId uart_lease;
};

// The bytes [ipa, ipa + out.size()) of `g` as it may read them; false if any
// page is not readable by the partition.
[[nodiscard]] bool guest_read(const Guest& g, std::uint64_t ipa, std::span<std::uint8_t> out);

}  // namespace rvm::bm
