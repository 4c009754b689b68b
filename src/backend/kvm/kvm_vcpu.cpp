#include "backend/kvm/kvm_vcpu.hpp"

#include <linux/kvm.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/mman.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <mutex>

#include "abi/agent.h"

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

int kick_signal() { return SIGRTMIN + 1; }

void on_kick(int) {}  // only interrupts KVM_RUN (no SA_RESTART)

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

void KvmVcpu::install_kick_handler() {
    static std::once_flag once;
    std::call_once(once, [] {
        struct sigaction sa {};
        sa.sa_handler = on_kick;
        sigemptyset(&sa.sa_mask);
        sa.sa_flags = 0;
        // CANNOT FAIL: a valid real-time signal number and handler.
        (void)sigaction(kick_signal(), &sa, nullptr);
    });
}

KvmVcpu::KvmVcpu(const KvmVm& vm, UniqueFd fd, Mapping run_map)
    : fd_(std::move(fd)), run_map_(std::move(run_map)), sync_regs_(vm.system().sync_regs()) {
    // SAFETY: the mapping is the vCPU's kvm_run structure, at least sizeof(kvm_run) bytes.
    run_ = static_cast<kvm_run*>(run_map_.get());
    if (sync_regs_) run_->kvm_valid_regs = KVM_SYNC_X86_REGS;
}

KvmVcpu::KvmVcpu(KvmVcpu&& o) noexcept
    : fd_(std::move(o.fd_)),
      run_map_(std::move(o.run_map_)),
      run_(std::exchange(o.run_, nullptr)),
      sync_regs_(o.sync_regs_) {}

KvmVcpu::~KvmVcpu() = default;

Result<KvmVcpu, KvmError> KvmVcpu::create(const KvmVm& vm, std::uint32_t id) {
    install_kick_handler();
    // SAFETY: KVM_CREATE_VCPU takes the vCPU id by value.
    UniqueFd fd(ioctl(vm.fd(), KVM_CREATE_VCPU, static_cast<unsigned long>(id)));
    if (!fd.valid()) return err(KvmError{"KVM_CREATE_VCPU", errno});
    const std::size_t size = vm.system().vcpu_mmap_size();
    // SAFETY: mapping the vCPU fd's kvm_run area, of the size KVM reported.
    void* p = mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd.get(), 0);
    if (p == MAP_FAILED) return err(KvmError{"mmap kvm_run", errno});
    Mapping run(p, size);
    const auto c = install_cpuid(vm.system().cpuid(), fd.get());
    if (!c) return err(c.error());
    return KvmVcpu(vm, std::move(fd), std::move(run));
}

Result<void, KvmError> KvmVcpu::set_agent_state(const AgentStart& start) {
    kvm_sregs s{};
    // SAFETY: KVM_GET_SREGS fills a kvm_sregs we own.
    if (ioctl(fd_.get(), KVM_GET_SREGS, &s) != 0) return err(KvmError{"KVM_GET_SREGS", errno});
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
    // SAFETY: KVM_SET_SREGS reads the kvm_sregs we filled.
    if (ioctl(fd_.get(), KVM_SET_SREGS, &s) != 0) return err(KvmError{"KVM_SET_SREGS", errno});
    backend::Regs r = start.regs;
    r.rflags = kRflags;
    const kvm_regs k = to_kvm(r);
    // SAFETY: KVM_SET_REGS reads the kvm_regs we filled.
    if (ioctl(fd_.get(), KVM_SET_REGS, &k) != 0) return err(KvmError{"KVM_SET_REGS", errno});
    return {};
}

Result<backend::VcpuExit, KvmError> KvmVcpu::run() {
    if (!bound_) {  // once per thread: kick() signals the thread running the vCPU
        std::lock_guard<std::mutex> g(thread_mu_);
        thread_ = pthread_self();
        has_thread_ = true;
        bound_ = true;
    }
    // SAFETY: KVM_RUN takes no argument; run_ stays mapped while we own the vCPU.
    const int r = ioctl(fd_.get(), KVM_RUN, 0);
    if (r != 0) {
        if (errno == EINTR || errno == EAGAIN) {
            __atomic_store_n(&run_->immediate_exit, 0, __ATOMIC_SEQ_CST);
            return backend::VcpuExit{backend::exits::Preempted{}};
        }
        return err(KvmError{"KVM_RUN", errno});
    }
    return translate();
}

backend::VcpuExit KvmVcpu::translate() {
    using namespace backend::exits;
    const auto rip = [&]() -> std::uint64_t {
        const auto g = regs();
        return g ? g.value().rip : 0;
    };
    switch (run_->exit_reason) {
        case KVM_EXIT_IO:
            if (run_->io.direction == KVM_EXIT_IO_OUT && run_->io.port == RVM_HC_PORT && run_->io.size == 4 &&
                run_->io.count == 1) {
                const auto g = regs();
                if (g) return Hypercall{g.value()};
                return Fault{0, 0, "registers unreadable at a hypercall"};
            }
            return Fault{rip(), run_->io.port, "port I/O to a port other than the hypercall port"};
        case KVM_EXIT_MMIO: return Fault{rip(), run_->mmio.phys_addr, "access to unmapped guest-physical memory"};
        case KVM_EXIT_HLT: return Halt{rip()};
        case KVM_EXIT_SHUTDOWN: return Shutdown{rip()};
        case KVM_EXIT_INTERNAL_ERROR:
            return Fault{rip(), run_->internal.suberror, "KVM internal error (instruction emulation failed)"};
        case KVM_EXIT_FAIL_ENTRY:
            return Fault{rip(), run_->fail_entry.hardware_entry_failure_reason, "VM entry failed"};
        case KVM_EXIT_INTR: return Preempted{};
        case KVM_EXIT_X86_RDMSR: return MsrRead{run_->msr.index};
        case KVM_EXIT_X86_WRMSR: return MsrWrite{run_->msr.index, run_->msr.data};
        default: return Fault{rip(), run_->exit_reason, "unexpected KVM exit"};
    }
}

Result<backend::Regs, KvmError> KvmVcpu::regs() const {
    if (sync_regs_) return from_kvm(run_->s.regs.regs);
    kvm_regs k{};
    // SAFETY: KVM_GET_REGS fills a kvm_regs we own.
    if (ioctl(fd_.get(), KVM_GET_REGS, &k) != 0) return err(KvmError{"KVM_GET_REGS", errno});
    return from_kvm(k);
}

Result<void, KvmError> KvmVcpu::set_result(std::uint64_t rax) {
    if (sync_regs_) {
        // KVM copies the synced registers back in on the next KVM_RUN.
        run_->s.regs.regs.rax = rax;
        run_->kvm_dirty_regs |= KVM_SYNC_X86_REGS;
        return {};
    }
    kvm_regs k{};
    // SAFETY: KVM_GET_REGS / KVM_SET_REGS on a kvm_regs we own.
    if (ioctl(fd_.get(), KVM_GET_REGS, &k) != 0) return err(KvmError{"KVM_GET_REGS", errno});
    k.rax = rax;
    if (ioctl(fd_.get(), KVM_SET_REGS, &k) != 0) return err(KvmError{"KVM_SET_REGS", errno});
    return {};
}

void KvmVcpu::complete_msr(std::uint64_t value, bool gp) {
    // KVM injects #GP on the next KVM_RUN when error is non-zero.
    run_->msr.error = gp ? 1 : 0;
    if (!gp && run_->exit_reason == KVM_EXIT_X86_RDMSR) run_->msr.data = value;
}

void KvmVcpu::kick() {
    if (run_ == nullptr) return;
    // immediate_exit covers a kick that lands before the thread enters
    // KVM_RUN; the signal covers one that lands while it is inside.
    __atomic_store_n(&run_->immediate_exit, 1, __ATOMIC_SEQ_CST);
    std::lock_guard<std::mutex> g(thread_mu_);
    if (has_thread_) (void)pthread_kill(thread_, kick_signal());
}

void KvmVcpu::thread_done() {
    std::lock_guard<std::mutex> g(thread_mu_);
    has_thread_ = false;
    bound_ = false;
}

}  // namespace rvm::kvm
