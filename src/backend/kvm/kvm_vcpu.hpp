// KvmVcpu: one vCPU (= one task), its kvm_run mapping, the run loop's
// translation of KVM exits into the neutral VcpuExit, the kick that stops it
// from another thread, and its move into another VM (rehome). The start
// state (DESIGN.md section 4) is in vcpu_start.cpp, the state rehome carries
// in vcpu_state.cpp, the uapi layout workarounds in kvm_layout.hpp.
#pragma once

#include <pthread.h>

#include <atomic>
#include <cstdint>
#include <mutex>
#include <span>
#include <vector>

#include "backend/kvm/kvm_vm.hpp"
#include "backend/mapping.hpp"
#include "backend/vcpu.hpp"
#include "backend/vcpu_exit.hpp"
#include "backend/vm.hpp"

struct kvm_run;

namespace rvm::kvm {

struct AgentStart {
    // false: the agent profile (CPL3); true: the kernel profile (CPL0, the
    // same paging; on PVM its code is emulated instruction by instruction).
    bool supervisor = false;
    std::uint64_t cr3 = 0;
    std::uint64_t tss_base = 0;  // linear address of the TSS (see write_agent_tss)
    std::uint32_t tss_limit = 0;
    backend::Regs regs;  // rip, rsp, rdi, rsi, rdx as the agent ABI says; rflags is set here
};

// Writes a 64-bit TSS whose I/O permission bitmap allows exactly `port`
// into `page` (4 KiB); returns the segment limit to load into TR.
[[nodiscard]] std::uint32_t write_agent_tss(std::span<std::uint8_t, 4096> page, std::uint16_t port);

class KvmVcpu {
public:
    [[nodiscard]] static Result<KvmVcpu, KvmError> create(const KvmVm& vm, std::uint32_t id);
    KvmVcpu(KvmVcpu&&) noexcept;
    KvmVcpu& operator=(KvmVcpu&&) = delete;
    KvmVcpu(const KvmVcpu&) = delete;
    ~KvmVcpu();

    // Agent profile: CPL3, 64-bit, paging on, IOPL=3, interrupts off
    // (kernel profile with start.supervisor: the same at CPL0).
    [[nodiscard]] Result<void, KvmError> set_agent_state(const AgentStart& start);

    // Runs guest code until it exits; only from the task's own thread.
    [[nodiscard]] Result<backend::VcpuExit, KvmError> run();
    // Sets rax before the next run (the hypercall result).
    [[nodiscard]] Result<void, KvmError> set_result(std::uint64_t rax);
    [[nodiscard]] Result<backend::Regs, KvmError> regs() const;
    // The guest's time-stamp counter (MSR_IA32_TSC) as KVM reports it now.
    [[nodiscard]] Result<std::uint64_t, KvmError> tsc() const;
    // Answers the MsrRead / MsrWrite exit run() just returned.
    void complete_msr(std::uint64_t value, bool gp);
    [[nodiscard]] int fd() const { return fd_.get(); }

    // From any thread: makes run() return Preempted as soon as possible.
    void kick();
    // The running thread is about to exit: kicks stop signalling it.
    void thread_done();

    // Moves this vCPU into `target` as its vCPU `id` (KvmVm::next_vcpu_id):
    // completes the pending exit without running guest code, copies the
    // state (registers, FPU/XSAVE, XCRs, pending events, debug registers,
    // the TSC and the MSRs a kernel-profile guest programs) into a new vCPU
    // there, and runs that one from now on. The guest continues where it
    // stopped; `target` must map the same memory at the same guest-physical
    // addresses (and route the same MSRs, KvmVm::route_msrs) and belong to
    // the same KvmSystem. The same host thread keeps running the vCPU; the
    // old vCPU's fd and kvm_run stay open (idle) until this object dies, so
    // a racing kick never writes to unmapped memory.
    // Precondition: no thread is inside run() and none enters it until
    // rehome returns (the caller holds the task out), and the last exit has
    // been answered (set_result / complete_msr). kick() may race.
    // On error nothing moved: the vCPU still runs in its old VM, unharmed
    // (only `id` is spent in `target`: KVM never frees an id; the one
    // exception is settle()'s refusal, where the completion ran guest code
    // and exited again -- never after a hypercall or MSR exit). Either way
    // the next run() returns Preempted without entering the guest, so a
    // kick that lands during rehome is not lost.
    [[nodiscard]] Result<void, KvmError> rehome(const KvmVm& target, std::uint32_t id);

    // Installs the (empty) handler of the kick signal; once per process.
    static void install_kick_handler();

private:
    struct Handle {  // a vCPU's fd and its kvm_run mapping
        UniqueFd fd;
        Mapping run_map;
    };
    [[nodiscard]] static Result<Handle, KvmError> open_vcpu(const KvmVm& vm, std::uint32_t id);
    KvmVcpu(const KvmVm& vm, Handle h);
    [[nodiscard]] backend::VcpuExit translate();
    // The kvm_run of the vCPU in use (it changes only in rehome).
    [[nodiscard]] kvm_run* area() const { return run_.load(std::memory_order_acquire); }
    // Rehome step 1: KVM_RUN with immediate_exit, which finishes the pending
    // I/O or MSR completion and applies dirty sync regs, then returns EINTR.
    [[nodiscard]] Result<void, KvmError> settle();

    UniqueFd fd_;
    Mapping run_map_;
    // Atomic: kick() reads it from any thread while rehome switches it.
    std::atomic<kvm_run*> run_{nullptr};
    bool sync_regs_ = false;
    std::vector<Handle> retired_;  // vCPUs left behind by rehome, kept mapped for kick()
    // Guards the thread identity so that a kick never signals a thread that
    // has exited (pthread_kill on a dead thread is undefined).
    std::mutex thread_mu_;
    pthread_t thread_{};
    bool has_thread_ = false;
    bool bound_ = false;  // touched only by the thread that runs the vCPU
};

static_assert(backend::Vcpu<KvmVcpu>);
static_assert(backend::Vm<KvmVm>);

}  // namespace rvm::kvm
