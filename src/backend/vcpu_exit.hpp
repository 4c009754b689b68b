// The one neutral exit type of the backend seam (STYLE.md 2): what a vCPU
// reports when it stops running guest code, independent of KVM. Exit handling
// is a function of (task state, VcpuExit) and is unit-tested with synthetic exits.
#pragma once

#include <array>
#include <cstdint>
#include <variant>

namespace rvm::backend {

// General-purpose registers of a task (what the hypercall ABI reads and writes).
struct Regs {
    std::uint64_t rax = 0, rbx = 0, rcx = 0, rdx = 0, rsi = 0, rdi = 0, rsp = 0, rbp = 0;
    std::uint64_t r8 = 0, r9 = 0, r10 = 0, r11 = 0, r12 = 0, r13 = 0, r14 = 0, r15 = 0;
    std::uint64_t rip = 0, rflags = 0;
};

namespace exits {
// `out $RVM_HC_PORT, %eax`: a hypercall. `regs` are the task's registers at
// the exit, rip already past the instruction.
struct Hypercall {
    Regs regs;
};
// The guest executed HLT (agents have no use for it: treated as a fault).
struct Halt {
    std::uint64_t rip = 0;
};
// Triple fault: the guest took an exception it could not deliver.
struct Shutdown {
    std::uint64_t rip = 0;
};
// Anything else the guest did that the hypervisor does not serve: port I/O
// to another port, MMIO, an emulation failure, a failed VM entry.
struct Fault {
    std::uint64_t rip = 0;
    std::uint64_t detail = 0;  // port, address, hardware reason...
    const char* reason = "";   // static string
};
// The host stopped the vCPU from outside (preemption, suspend, wall time).
struct Preempted {};
// RDMSR / WRMSR of an MSR the backend routes to the host (the seed-001 Ψ
// MSRs; kernel profile only: at CPL3 the CPU raises #GP before any exit).
// The host answers with complete_msr(): a value, or #GP for the guest.
struct MsrRead {
    std::uint32_t index = 0;
};
struct MsrWrite {
    std::uint32_t index = 0;
    std::uint64_t value = 0;
};
}  // namespace exits

using VcpuExit = std::variant<exits::Hypercall, exits::Halt, exits::Shutdown, exits::Fault, exits::Preempted,
                              exits::MsrRead, exits::MsrWrite>;

}  // namespace rvm::backend
