#include "backend/kvm/kvm_vcpu.hpp"

#include <linux/kvm.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/mman.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstddef>
#include <cstring>
#include <mutex>
#include <optional>

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

KvmVcpu::KvmVcpu(const KvmVm& vm, Handle h)
    : fd_(std::move(h.fd)), run_map_(std::move(h.run_map)), sync_regs_(vm.system().sync_regs()) {
    // SAFETY: the mapping is the vCPU's kvm_run structure, at least sizeof(kvm_run) bytes.
    kvm_run* run = static_cast<kvm_run*>(run_map_.get());
    if (sync_regs_) run->kvm_valid_regs = KVM_SYNC_X86_REGS;
    run_.store(run, std::memory_order_release);
}

KvmVcpu::KvmVcpu(KvmVcpu&& o) noexcept
    : fd_(std::move(o.fd_)),
      run_map_(std::move(o.run_map_)),
      run_(o.run_.exchange(nullptr)),
      sync_regs_(o.sync_regs_),
      retired_(std::move(o.retired_)) {}

KvmVcpu::~KvmVcpu() = default;

Result<KvmVcpu::Handle, KvmError> KvmVcpu::open_vcpu(const KvmVm& vm, std::uint32_t id) {
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
    return Handle{std::move(fd), std::move(run)};
}

Result<KvmVcpu, KvmError> KvmVcpu::create(const KvmVm& vm, std::uint32_t id) {
    install_kick_handler();
    auto h = open_vcpu(vm, id);
    if (!h) return err(h.error());
    return KvmVcpu(vm, std::move(h.value()));
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
    // KVM fills the synced copy only on the first exit; regs() reads it before.
    if (sync_regs_) area()->s.regs.regs = k;
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
            __atomic_store_n(&area()->immediate_exit, 0, __ATOMIC_SEQ_CST);
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
    const kvm_run* const run = area();
    switch (run->exit_reason) {
        case KVM_EXIT_IO:
            if (run->io.direction == KVM_EXIT_IO_OUT && run->io.port == RVM_HC_PORT && run->io.size == 4 &&
                run->io.count == 1) {
                const auto g = regs();
                if (g) return Hypercall{g.value()};
                return Fault{0, 0, "registers unreadable at a hypercall"};
            }
            return Fault{rip(), run->io.port, "port I/O to a port other than the hypercall port"};
        case KVM_EXIT_MMIO: return Fault{rip(), run->mmio.phys_addr, "access to unmapped guest-physical memory"};
        case KVM_EXIT_HLT: return Halt{rip()};
        case KVM_EXIT_SHUTDOWN: return Shutdown{rip()};
        case KVM_EXIT_INTERNAL_ERROR:
            return Fault{rip(), run->internal.suberror, "KVM internal error (instruction emulation failed)"};
        case KVM_EXIT_FAIL_ENTRY: return Fault{rip(), run->fail_entry.hardware_entry_failure_reason, "VM entry failed"};
        case KVM_EXIT_INTR: return Preempted{};
        case KVM_EXIT_X86_RDMSR: return MsrRead{run->msr.index};
        case KVM_EXIT_X86_WRMSR: return MsrWrite{run->msr.index, run->msr.data};
        default: return Fault{rip(), run->exit_reason, "unexpected KVM exit"};
    }
}

Result<backend::Regs, KvmError> KvmVcpu::regs() const {
    if (sync_regs_) return from_kvm(area()->s.regs.regs);
    kvm_regs k{};
    // SAFETY: KVM_GET_REGS fills a kvm_regs we own.
    if (ioctl(fd_.get(), KVM_GET_REGS, &k) != 0) return err(KvmError{"KVM_GET_REGS", errno});
    return from_kvm(k);
}

Result<void, KvmError> KvmVcpu::set_result(std::uint64_t rax) {
    if (sync_regs_) {
        // KVM copies the synced registers back in on the next KVM_RUN.
        kvm_run* run = area();
        run->s.regs.regs.rax = rax;
        run->kvm_dirty_regs |= KVM_SYNC_X86_REGS;
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
    kvm_run* run = area();
    run->msr.error = gp ? 1 : 0;
    if (!gp && run->exit_reason == KVM_EXIT_X86_RDMSR) run->msr.data = value;
}

void KvmVcpu::kick() {
    // A rehome may switch run_ meanwhile: the old area stays mapped (retired_).
    kvm_run* run = area();
    if (run == nullptr) return;
    // immediate_exit covers a kick that lands before the thread enters
    // KVM_RUN; the signal covers one that lands while it is inside.
    __atomic_store_n(&run->immediate_exit, 1, __ATOMIC_SEQ_CST);
    std::lock_guard<std::mutex> g(thread_mu_);
    if (has_thread_) (void)pthread_kill(thread_, kick_signal());
}

void KvmVcpu::thread_done() {
    std::lock_guard<std::mutex> g(thread_mu_);
    has_thread_ = false;
    bound_ = false;
}

}  // namespace rvm::kvm

// Rehome: the state a vCPU carries into another VM.
namespace rvm::kvm {

namespace {

// C layouts of the uapi structs that end in a flexible array. Under C++,
// __DECLARE_FLEX_ARRAY adds an empty struct (1 byte), so sizeof -- and the
// ioctl numbers, which encode it -- come out wrong and KVM answers EINVAL
// (cpuid.cpp has the same problem with kvm_cpuid2).
struct MsrsHeader {  // struct kvm_msrs before its entries
    std::uint32_t nmsrs;
    std::uint32_t pad;
};
struct MsrListHeader {  // struct kvm_msr_list before its indices
    std::uint32_t nmsrs;
};
struct XsaveArea {  // struct kvm_xsave without `extra` (KVM_CAP_XSAVE2 may ask for more)
    std::array<std::uint32_t, 1024> region;
};
constexpr unsigned long kGetMsrIndexList = _IOWR(KVMIO, 0x02, MsrListHeader);
constexpr unsigned long kGetMsrs = _IOWR(KVMIO, 0x88, MsrsHeader);
constexpr unsigned long kSetMsrs = _IOW(KVMIO, 0x89, MsrsHeader);
constexpr unsigned long kGetXsave = _IOR(KVMIO, 0xa4, XsaveArea);
constexpr unsigned long kSetXsave = _IOW(KVMIO, 0xa5, XsaveArea);
constexpr unsigned long kGetXsave2 = _IOR(KVMIO, 0xcf, XsaveArea);
// The values linux/kvm.h gives these in C.
static_assert(kGetMsrIndexList == 0xc004ae02 && kGetMsrs == 0xc008ae88 && kSetMsrs == 0x4008ae89);
static_assert(kGetXsave == 0x9000aea4 && kSetXsave == 0x5000aea5 && kGetXsave2 == 0x9000aecf);

// The MSRs rehome carries, where KVM_GET_MSR_INDEX_LIST has them: the TSC
// (the guest's clock must not restart) and TSC_ADJUST, and what a
// kernel-profile guest programs that sregs do not hold (SYSENTER and SYSCALL
// entry, the swapgs base, TSC_AUX, PAT). An agent at CPL3 changes none but
// the TSC; the rest a new vCPU would have at reset values.
constexpr std::array<std::uint32_t, 12> kMovedMsrs{
    0x10,                                            // IA32_TSC
    0x3b,                                            // IA32_TSC_ADJUST
    0x174,      0x175,      0x176,                   // SYSENTER_CS / _ESP / _EIP
    0x277,                                           // IA32_PAT
    0xc0000081, 0xc0000082, 0xc0000083, 0xc0000084,  // STAR, LSTAR, CSTAR, SFMASK
    0xc0000102,                                      // KERNEL_GS_BASE
    0xc0000103,                                      // TSC_AUX
};

// A kvm_msrs in the C layout with room for N entries.
template <std::size_t N>
struct MsrBlock {
    MsrsHeader header{};
    std::array<kvm_msr_entry, N> entries{};
};
static_assert(offsetof(MsrBlock<1>, entries) == sizeof(MsrsHeader));
using MovedMsrs = MsrBlock<kMovedMsrs.size()>;

// One ioctl whose argument is a T we own; `op` names it in the error.
template <typename T>
Result<void, KvmError> xfer(int fd, unsigned long request, T* arg, const char* op) {
    // SAFETY: every caller pairs `request` with the type its argument has in
    // linux/kvm.h (or the C layout above); KVM reads or fills that object.
    if (ioctl(fd, request, arg) != 0) return err(KvmError{op, errno});
    return {};
}

// KVM_CHECK_EXTENSION on the VM (0: absent).
int check(const KvmVm& vm, long cap) {
    // SAFETY: KVM_CHECK_EXTENSION takes the capability number by value.
    const int r = ioctl(vm.fd(), KVM_CHECK_EXTENSION, cap);
    return r > 0 ? r : 0;
}

// Which of kMovedMsrs this KVM supports, as a block ready for KVM_GET_MSRS.
Result<MovedMsrs, KvmError> moved_msrs(const KvmSystem& sys) {
    std::vector<std::uint32_t> list(1 + 256);  // the header's nmsrs, then indices
    for (int attempt = 0; attempt < 2; ++attempt) {
        list[0] = static_cast<std::uint32_t>(list.size() - 1);
        // SAFETY: a kvm_msr_list in the C layout with room for list[0] indices.
        if (ioctl(sys.fd(), kGetMsrIndexList, list.data()) == 0) {
            MovedMsrs m;
            const auto first = list.begin() + 1;
            const auto last = first + static_cast<std::ptrdiff_t>(std::min<std::size_t>(list[0], list.size() - 1));
            for (const std::uint32_t index : kMovedMsrs) {
                if (std::find(first, last, index) != last) m.entries[m.header.nmsrs++].index = index;
            }
            return m;
        }
        if (errno != E2BIG) break;
        list.resize(1 + std::size_t{list[0]});  // KVM said how many there are
    }
    return err(KvmError{"KVM_GET_MSR_INDEX_LIST", errno});
}

// Everything rehome carries from the old vCPU to the new one.
struct VcpuState {
    kvm_regs regs{};
    kvm_sregs sregs{};
    std::vector<std::uint32_t> xsave;  // a kvm_xsave of KVM_CAP_XSAVE2's size; empty: `fpu` instead
    kvm_fpu fpu{};
    std::optional<kvm_xcrs> xcrs;  // where KVM_CAP_XCRS
    kvm_vcpu_events events{};
    kvm_debugregs debugregs{};
    MovedMsrs msrs;
    // KVM_VCPU_TSC_OFFSET where KVM has it: the same offset makes the new
    // vCPU's TSC the old one's exactly (MSR_IA32_TSC alone stops the clock
    // for the length of the move).
    std::optional<std::int64_t> tsc_offset;
};

kvm_device_attr tsc_offset_attr(std::int64_t* offset) {
    kvm_device_attr a{};
    a.group = KVM_VCPU_TSC_CTRL;
    a.attr = KVM_VCPU_TSC_OFFSET;
    // SAFETY: the address of an int64 the caller keeps alive across the
    // ioctl; KVM reads or writes its 8 bytes during the call only.
    a.addr = reinterpret_cast<std::uintptr_t>(offset);
    return a;
}

// `caps`: a VM of the same KvmSystem, for the capability checks.
Result<VcpuState, KvmError> save_state(int fd, const KvmVm& caps) {
    VcpuState s;
    RVM_TRY_VOID(xfer(fd, KVM_GET_REGS, &s.regs, "KVM_GET_REGS"));
    RVM_TRY_VOID(xfer(fd, KVM_GET_SREGS, &s.sregs, "KVM_GET_SREGS"));
    if (check(caps, KVM_CAP_XSAVE) != 0) {
        const int size = check(caps, KVM_CAP_XSAVE2);  // >= 4096 where KVM has it
        s.xsave.resize(std::max<std::size_t>(sizeof(XsaveArea), static_cast<std::size_t>(size)) / 4);
        RVM_TRY_VOID(xfer(fd, size != 0 ? kGetXsave2 : kGetXsave, s.xsave.data(), "KVM_GET_XSAVE"));
    } else {
        RVM_TRY_VOID(xfer(fd, KVM_GET_FPU, &s.fpu, "KVM_GET_FPU"));
    }
    if (check(caps, KVM_CAP_XCRS) != 0) {
        s.xcrs.emplace();
        RVM_TRY_VOID(xfer(fd, KVM_GET_XCRS, &*s.xcrs, "KVM_GET_XCRS"));
    }
    RVM_TRY_VOID(xfer(fd, KVM_GET_VCPU_EVENTS, &s.events, "KVM_GET_VCPU_EVENTS"));
    RVM_TRY_VOID(xfer(fd, KVM_GET_DEBUGREGS, &s.debugregs, "KVM_GET_DEBUGREGS"));
    auto msrs = moved_msrs(caps.system());
    if (!msrs) return err(msrs.error());
    s.msrs = msrs.value();
    // SAFETY: KVM_GET_MSRS fills the entries of a kvm_msrs in the C layout.
    const int n = ioctl(fd, kGetMsrs, &s.msrs);
    if (n < 0) return err(KvmError{"KVM_GET_MSRS", errno});
    if (static_cast<std::uint32_t>(n) != s.msrs.header.nmsrs) return err(KvmError{"KVM_GET_MSRS: short read", EIO});
    std::int64_t offset = 0;
    kvm_device_attr a = tsc_offset_attr(&offset);
    // SAFETY: KVM_HAS_DEVICE_ATTR / KVM_GET_DEVICE_ATTR read `a`; the latter writes `offset`.
    if (ioctl(fd, KVM_HAS_DEVICE_ATTR, &a) == 0 && ioctl(fd, KVM_GET_DEVICE_ATTR, &a) == 0) s.tsc_offset = offset;
    return s;
}

// QEMU's order (kvm_arch_put_registers): sregs first (paging and EFER decide
// what the rest means), then registers, FPU, XCRs, MSRs, events, debug.
Result<void, KvmError> restore_state(int fd, VcpuState& s) {
    RVM_TRY_VOID(xfer(fd, KVM_SET_SREGS, &s.sregs, "KVM_SET_SREGS"));
    RVM_TRY_VOID(xfer(fd, KVM_SET_REGS, &s.regs, "KVM_SET_REGS"));
    if (!s.xsave.empty()) {
        RVM_TRY_VOID(xfer(fd, kSetXsave, s.xsave.data(), "KVM_SET_XSAVE"));
    } else {
        RVM_TRY_VOID(xfer(fd, KVM_SET_FPU, &s.fpu, "KVM_SET_FPU"));
    }
    if (s.xcrs) RVM_TRY_VOID(xfer(fd, KVM_SET_XCRS, &*s.xcrs, "KVM_SET_XCRS"));
    // SAFETY: KVM_SET_MSRS reads the entries of a kvm_msrs in the C layout.
    const int n = ioctl(fd, kSetMsrs, &s.msrs);
    if (n < 0) return err(KvmError{"KVM_SET_MSRS", errno});
    if (static_cast<std::uint32_t>(n) != s.msrs.header.nmsrs) return err(KvmError{"KVM_SET_MSRS: refused", EINVAL});
    if (s.tsc_offset) {
        kvm_device_attr a = tsc_offset_attr(&*s.tsc_offset);
        RVM_TRY_VOID(xfer(fd, KVM_SET_DEVICE_ATTR, &a, "KVM_SET_DEVICE_ATTR(TSC_OFFSET)"));
    }
    // A pending NMI is carried only when the flag says so.
    s.events.flags |= KVM_VCPUEVENT_VALID_NMI_PENDING;
    RVM_TRY_VOID(xfer(fd, KVM_SET_VCPU_EVENTS, &s.events, "KVM_SET_VCPU_EVENTS"));
    RVM_TRY_VOID(xfer(fd, KVM_SET_DEBUGREGS, &s.debugregs, "KVM_SET_DEBUGREGS"));
    return {};
}

}  // namespace

Result<std::uint64_t, KvmError> KvmVcpu::tsc() const {
    MsrBlock<1> m;
    m.header.nmsrs = 1;
    m.entries[0].index = kMovedMsrs[0];
    // SAFETY: KVM_GET_MSRS fills the entry of a kvm_msrs in the C layout.
    const int n = ioctl(fd_.get(), kGetMsrs, &m);
    if (n != 1) return err(KvmError{"KVM_GET_MSRS(IA32_TSC)", n < 0 ? errno : EIO});
    return m.entries[0].data;
}

Result<void, KvmError> KvmVcpu::settle() {
    kvm_run* run = area();
    __atomic_store_n(&run->immediate_exit, 1, __ATOMIC_SEQ_CST);
    // SAFETY: KVM_RUN takes no argument; with immediate_exit set KVM completes
    // the pending exit and returns EINTR before entering the guest.
    const int r = ioctl(fd_.get(), KVM_RUN, 0);
    const int e = errno;
    __atomic_store_n(&run->immediate_exit, 0, __ATOMIC_SEQ_CST);
    // A completion that causes another exit (a string I/O instruction that
    // goes on, say; never the hypercall's single `out`) ran guest code, and
    // that exit is not one the task loop will see: refuse the move.
    if (r == 0) return err(KvmError{"KVM_RUN (immediate exit): completing the last exit caused another", 0});
    if (e != EINTR) return err(KvmError{"KVM_RUN (immediate exit)", e});
    return {};
}

Result<void, KvmError> KvmVcpu::rehome(const KvmVm& target, std::uint32_t id) {
    auto moved = [&]() -> Result<Handle, KvmError> {
        RVM_TRY_VOID(settle());
        auto state = save_state(fd_.get(), target);
        if (!state) return err(state.error());
        auto h = open_vcpu(target, id);
        if (!h) return err(h.error());
        RVM_TRY_VOID(restore_state(h.value().fd.get(), state.value()));
        // SAFETY: the mapping is the new vCPU's kvm_run, at least sizeof(kvm_run) bytes.
        kvm_run* run = static_cast<kvm_run*>(h.value().run_map.get());
        if (sync_regs_) {  // regs() and set_result() read the synced copy before the first run
            run->kvm_valid_regs = KVM_SYNC_X86_REGS;
            run->s.regs.regs = state.value().regs;
        }
        return h;
    }();
    if (moved) {
        Handle& h = moved.value();
        retired_.push_back(Handle{std::move(fd_), std::move(run_map_)});
        fd_ = std::move(h.fd);
        run_map_ = std::move(h.run_map);
        run_.store(static_cast<kvm_run*>(run_map_.get()), std::memory_order_release);
    }
    // settle() owned immediate_exit for a while: a kick meanwhile may be lost,
    // so the next run() leaves at once and the task loop rechecks its flags.
    __atomic_store_n(&area()->immediate_exit, 1, __ATOMIC_SEQ_CST);
    if (!moved) return err(moved.error());
    return {};
}

}  // namespace rvm::kvm
