#include "backend/kvm/vcpu_start.hpp"

#include <algorithm>
#include <cstddef>
#include <cstring>

namespace rvm::kvm {

namespace {

// Agent start state (DESIGN.md section 4). PVM runs CPL3 64-bit code natively
// only with the host's user selectors: CS 0x33 (64-bit code, DPL 3) and SS/DS
// 0x2b (data, DPL 3); on VT-x/AMD-V any consistent selectors would do. Interrupts stay off
// (IF = 0): the host preempts from outside, and no IDT exists, so any guest
// exception becomes a triple fault and a Shutdown exit.
constexpr std::uint64_t kCr0 = (1u << 0) | (1u << 1) | (1u << 4) | (1u << 5) | (1u << 16) | (1u << 18) | (1u << 31);
constexpr std::uint64_t kCr4 = (1u << 5) | (1u << 7) | (1u << 9) | (1u << 10) | (1u << 16);
constexpr std::uint64_t kEfer = (1u << 0) | (1u << 8) | (1u << 10) | (1u << 11);
// IOPL = 3 (bits 12-13) makes `out` legal at CPL3 on every host; bit 1 is reserved-one.
constexpr std::uint64_t kRflags = 0x3002;

// Kernel profile selectors (any consistent flat 64-bit set works at CPL0).
constexpr std::uint16_t kKernelCs = 0x10;
constexpr std::uint16_t kKernelDs = 0x18;

kvm_segment segment(std::uint16_t selector, std::uint8_t type, bool code, std::uint8_t dpl = 3) {
    kvm_segment s{};
    s.base = 0;
    s.limit = 0xffffffff;
    s.selector = selector;
    s.type = type;
    s.present = 1;
    s.dpl = dpl;
    s.db = code ? 0 : 1;  // a 64-bit code segment has L=1, D=0
    s.s = 1;
    s.l = code ? 1 : 0;
    s.g = 1;
    return s;
}

}  // namespace

std::uint32_t write_agent_tss(std::span<std::uint8_t, 4096> page, std::uint16_t port) {
    // 64-bit TSS: 104 bytes, the I/O map base at offset 102. The bitmap
    // follows at 104 and covers ports [0, 8 * kBitmapBytes); a set bit
    // denies. Ports beyond the limit are denied by the CPU (and by KVM's
    // emulator), so the bitmap only has to reach `port`.
    // A 32-bit `out` is checked for all four ports it touches: port..port+3.
    constexpr std::uint16_t kIoMapBase = 104;
    constexpr unsigned kWidth = 4;
    const std::size_t bitmap_bytes = (port + kWidth - 1u) / 8u + 1u;
    std::fill(page.begin(), page.end(), std::uint8_t{0});
    std::memcpy(page.data() + 102, &kIoMapBase, sizeof kIoMapBase);
    std::fill_n(page.data() + kIoMapBase, bitmap_bytes + 1, std::uint8_t{0xff});  // + the terminating byte
    for (unsigned p = port; p < port + kWidth; ++p) {
        page[kIoMapBase + p / 8u] = static_cast<std::uint8_t>(page[kIoMapBase + p / 8u] & ~(1u << (p % 8u)));
    }
    return static_cast<std::uint32_t>(kIoMapBase + bitmap_bytes);  // limit: last byte (the terminator)
}

void apply_start_sregs(kvm_sregs& s, const AgentStart& start) {
    if (start.supervisor) {
        s.cs = segment(kKernelCs, 11, true, 0);
        s.ss = s.ds = s.es = s.fs = s.gs = segment(kKernelDs, 3, false, 0);
    } else {
        s.cs = segment(0x33, 11, true);                              // execute/read, accessed
        s.ss = s.ds = s.es = s.fs = s.gs = segment(0x2b, 3, false);  // read/write, accessed
    }
    // A busy 64-bit TSS: VT-x requires a usable TR, and PVM checks CPL3 port
    // I/O against its bitmap. Nothing ever switches stacks through it.
    s.tr = kvm_segment{};
    s.tr.selector = 0x40;
    s.tr.type = 11;
    s.tr.present = 1;
    s.tr.base = start.tss_base;
    s.tr.limit = start.tss_limit;
    s.ldt = kvm_segment{};
    s.ldt.unusable = 1;
    s.gdt = kvm_dtable{};
    s.idt = kvm_dtable{};
    s.cr0 = kCr0;
    s.cr3 = start.cr3;
    s.cr4 = kCr4;
    s.efer = kEfer;
}

kvm_regs start_regs(const AgentStart& start) {
    backend::Regs r = start.regs;
    r.rflags = kRflags;
    return to_kvm(r);
}

backend::Regs from_kvm(const kvm_regs& r) {
    backend::Regs o;
    o.rax = r.rax, o.rbx = r.rbx, o.rcx = r.rcx, o.rdx = r.rdx, o.rsi = r.rsi, o.rdi = r.rdi, o.rsp = r.rsp;
    o.rbp = r.rbp, o.r8 = r.r8, o.r9 = r.r9, o.r10 = r.r10, o.r11 = r.r11, o.r12 = r.r12, o.r13 = r.r13;
    o.r14 = r.r14, o.r15 = r.r15, o.rip = r.rip, o.rflags = r.rflags;
    return o;
}

kvm_regs to_kvm(const backend::Regs& r) {
    kvm_regs o{};
    o.rax = r.rax, o.rbx = r.rbx, o.rcx = r.rcx, o.rdx = r.rdx, o.rsi = r.rsi, o.rdi = r.rdi, o.rsp = r.rsp;
    o.rbp = r.rbp, o.r8 = r.r8, o.r9 = r.r9, o.r10 = r.r10, o.r11 = r.r11, o.r12 = r.r12, o.r13 = r.r13;
    o.r14 = r.r14, o.r15 = r.r15, o.rip = r.rip, o.rflags = r.rflags;
    return o;
}

}  // namespace rvm::kvm
