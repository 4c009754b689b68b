#include "backend/kvm/kvm_vcpu.hpp"

#include <linux/kvm.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/mman.h>

#include <cerrno>
#include <mutex>

#include "abi/agent.h"
#include "backend/kvm/vcpu_start.hpp"
#include "backend/kvm/vcpu_state.hpp"

namespace rvm::kvm {

namespace {

int kick_signal() { return SIGRTMIN + 1; }

void on_kick(int) {}  // only interrupts KVM_RUN (no SA_RESTART)

}  // namespace

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

Result<KvmVcpu, KvmError> KvmVm::create_vcpu(std::uint32_t id) { return KvmVcpu::create(*this, id); }

Result<void, KvmError> KvmVcpu::set_agent_state(const AgentStart& start) {
    kvm_sregs s{};
    // SAFETY: KVM_GET_SREGS fills a kvm_sregs we own.
    if (ioctl(fd_.get(), KVM_GET_SREGS, &s) != 0) return err(KvmError{"KVM_GET_SREGS", errno});
    apply_start_sregs(s, start);
    // SAFETY: KVM_SET_SREGS reads the kvm_sregs we filled.
    if (ioctl(fd_.get(), KVM_SET_SREGS, &s) != 0) return err(KvmError{"KVM_SET_SREGS", errno});
    const kvm_regs k = start_regs(start);
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

Result<std::uint64_t, KvmError> KvmVcpu::tsc() const { return read_tsc(fd_.get()); }

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
        auto state = VcpuState::save(fd_.get(), target);
        if (!state) return err(state.error());
        auto h = open_vcpu(target, id);
        if (!h) return err(h.error());
        RVM_TRY_VOID(state.value().restore(h.value().fd.get()));
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
