// KvmVcpu: one vCPU (= one task), its kvm_run mapping, the CPL3 64-bit start
// state of DESIGN.md section 4, the run loop's translation of KVM exits into
// the neutral VcpuExit, and the kick that stops it from another thread.
#pragma once

#include <pthread.h>

#include <atomic>
#include <cstdint>
#include <mutex>
#include <span>

#include "backend/kvm/kvm_vm.hpp"
#include "backend/vcpu.hpp"
#include "backend/vcpu_exit.hpp"

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
    // Answers the MsrRead / MsrWrite exit run() just returned.
    void complete_msr(std::uint64_t value, bool gp);
    [[nodiscard]] int fd() const { return fd_.get(); }

    // From any thread: makes run() return Preempted as soon as possible.
    void kick();
    // The running thread is about to exit: kicks stop signalling it.
    void thread_done();

    // Installs the (empty) handler of the kick signal; once per process.
    static void install_kick_handler();

private:
    KvmVcpu(const KvmVm& vm, UniqueFd fd, Mapping run_map);
    [[nodiscard]] backend::VcpuExit translate();

    UniqueFd fd_;
    Mapping run_map_;
    kvm_run* run_ = nullptr;
    bool sync_regs_ = false;
    // Guards the thread identity so that a kick never signals a thread that
    // has exited (pthread_kill on a dead thread is undefined).
    std::mutex thread_mu_;
    pthread_t thread_{};
    bool has_thread_ = false;
    bool bound_ = false;  // touched only by the thread that runs the vCPU
};

static_assert(backend::Vcpu<KvmVcpu>);

}  // namespace rvm::kvm
