#include "bare_kvm.hpp"

#include <sys/ioctl.h>
#include <sys/mman.h>

#include <cerrno>
#include <cstring>
#include <utility>

namespace rvm::bench {

namespace {

// Guest-physical == virtual layout, all in the first 2 MiB.
constexpr std::uint64_t kPml4 = 0x1000, kPdpt = 0x2000, kPd = 0x3000, kPt = 0x4000;
constexpr std::uint64_t kTss = 0x5000, kCode = 0x6000, kStack = 0x7000;
constexpr std::uint64_t kP = 1, kRw = 2, kUs = 4, kNx = 1ull << 63;

// The agent start state of kvm_vcpu.cpp, restated so that the baseline
// shares no code with RVM.
constexpr std::uint64_t kCr0 = (1u << 0) | (1u << 1) | (1u << 4) | (1u << 5) | (1u << 16) | (1u << 18) | (1u << 31);
constexpr std::uint64_t kCr4 = (1u << 5) | (1u << 7) | (1u << 9) | (1u << 10) | (1u << 16);
constexpr std::uint64_t kEfer = (1u << 0) | (1u << 8) | (1u << 10) | (1u << 11);
constexpr std::uint64_t kRflags = 0x3002;  // IOPL = 3, reserved bit 1

// 1: out %eax, $0x52; jmp 1b
constexpr std::uint8_t kCode64[] = {0xe7, BareVm::kPort, 0xeb, 0xfc};

// TSS: the I/O map base (offset 102) points at 104; the bitmap's bytes
// are zero (allowed) up to and including kPort's, then a 0xff terminator.
constexpr std::uint16_t kIoMapBase = 104;
constexpr std::uint32_t kTssLimit = kIoMapBase + (BareVm::kPort + 3u) / 8u + 1u;

kvm_segment segment(std::uint16_t selector, std::uint8_t type, bool code) {
    kvm_segment s{};
    s.limit = 0xffffffff;
    s.selector = selector;
    s.type = type;
    s.present = 1;
    s.dpl = 3;
    s.db = code ? 0 : 1;
    s.s = 1;
    s.l = code ? 1 : 0;
    s.g = 1;
    return s;
}

void put64(std::uint8_t* ram, std::uint64_t gpa, std::uint64_t v) { std::memcpy(ram + gpa, &v, sizeof v); }

// Writes the page tables, the TSS and the code into fresh (zeroed) memory.
void write_guest(std::uint8_t* ram) {
    put64(ram, kPml4, kPdpt | kP | kRw | kUs);
    put64(ram, kPdpt, kPd | kP | kRw | kUs);
    put64(ram, kPd, kPt | kP | kRw | kUs);
    put64(ram, kPt + (kTss >> 12) * 8, kTss | kP | kRw | kNx);  // supervisor-only
    put64(ram, kPt + (kCode >> 12) * 8, kCode | kP | kUs);
    put64(ram, kPt + (kStack >> 12) * 8, kStack | kP | kRw | kUs | kNx);
    std::memcpy(ram + kTss + 102, &kIoMapBase, sizeof kIoMapBase);
    ram[kTss + kTssLimit] = 0xff;
    std::memcpy(ram + kCode, kCode64, sizeof kCode64);
}

std::string failed(const char* op) { return std::string(op) + ": " + std::strerror(errno); }

Result<void, std::string> set_start_state(int vcpu) {
    kvm_sregs s{};
    // SAFETY: KVM_GET_SREGS / KVM_SET_SREGS / KVM_SET_REGS on structs we own.
    if (ioctl(vcpu, KVM_GET_SREGS, &s) != 0) return err(failed("KVM_GET_SREGS"));
    s.cs = segment(0x33, 11, true);
    s.ss = s.ds = s.es = s.fs = s.gs = segment(0x2b, 3, false);
    s.tr = kvm_segment{};
    s.tr.selector = 0x40;
    s.tr.type = 11;
    s.tr.present = 1;
    s.tr.base = kTss;
    s.tr.limit = kTssLimit;
    s.ldt = kvm_segment{};
    s.ldt.unusable = 1;
    s.gdt = kvm_dtable{};
    s.idt = kvm_dtable{};
    s.cr0 = kCr0;
    s.cr3 = kPml4;
    s.cr4 = kCr4;
    s.efer = kEfer;
    if (ioctl(vcpu, KVM_SET_SREGS, &s) != 0) return err(failed("KVM_SET_SREGS"));
    kvm_regs r{};
    r.rip = kCode;
    r.rsp = kStack + 0x1000;
    r.rflags = kRflags;
    if (ioctl(vcpu, KVM_SET_REGS, &r) != 0) return err(failed("KVM_SET_REGS"));
    return {};
}

}  // namespace

BareVm::BareVm(Mapping ram, UniqueFd vm, UniqueFd vcpu, Mapping run_map)
    : ram_(std::move(ram)), vm_(std::move(vm)), vcpu_(std::move(vcpu)), run_map_(std::move(run_map)) {
    // SAFETY: the mapping is the vCPU's kvm_run area, at least sizeof(kvm_run) bytes.
    run_ = static_cast<kvm_run*>(run_map_.get());
}

Result<BareVm, std::string> BareVm::create(int kvm_fd, std::size_t run_size, std::uint64_t memory) {
    if (memory < 0x10000 || memory % 0x1000 != 0) return err(std::string("bad guest memory size"));
    // SAFETY: a fresh private anonymous mapping, owned by `ram` below.
    void* mem = mmap(nullptr, memory, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (mem == MAP_FAILED) return err(failed("mmap guest memory"));
    Mapping ram(mem, memory);
    write_guest(ram.bytes().data());
    // SAFETY: KVM_CREATE_VM takes the machine type by value.
    UniqueFd vm(ioctl(kvm_fd, KVM_CREATE_VM, 0));
    if (!vm.valid()) return err(failed("KVM_CREATE_VM"));
    kvm_userspace_memory_region region{};
    region.memory_size = memory;
    // SAFETY: the address of a live mapping, handed to KVM as an integer; the
    // region is `ram`, which outlives the VM (member order).
    region.userspace_addr = reinterpret_cast<std::uintptr_t>(mem);
    if (ioctl(vm.get(), KVM_SET_USER_MEMORY_REGION, &region) != 0) return err(failed("KVM_SET_USER_MEMORY_REGION"));
    // SAFETY: KVM_CREATE_VCPU takes the vCPU id by value.
    UniqueFd vcpu(ioctl(vm.get(), KVM_CREATE_VCPU, 0ul));
    if (!vcpu.valid()) return err(failed("KVM_CREATE_VCPU"));
    // SAFETY: mapping the vCPU's kvm_run area of the size KVM reported.
    void* run = mmap(nullptr, run_size, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu.get(), 0);
    if (run == MAP_FAILED) return err(failed("mmap kvm_run"));
    Mapping run_map(run, run_size);
    const auto st = set_start_state(vcpu.get());
    if (!st) return err(st.error());
    return BareVm(std::move(ram), std::move(vm), std::move(vcpu), std::move(run_map));
}

bool BareVm::run_to_out() {
    // SAFETY: KVM_RUN takes no argument; run_ stays mapped while we own the vCPU.
    if (ioctl(vcpu_.get(), KVM_RUN, 0) != 0) return false;
    return run_->exit_reason == KVM_EXIT_IO && run_->io.port == kPort;
}

void BareVm::enable_sync_regs() { run_->kvm_valid_regs = KVM_SYNC_X86_REGS; }

}  // namespace rvm::bench
