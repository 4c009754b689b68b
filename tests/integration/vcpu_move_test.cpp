// Moving a live vCPU into another VM on KVM (label kvm; KvmVcpu::rehome):
// agent_spin increments a counter in guest memory forever; its vCPU is
// rehomed, while the partition is suspended, into a VM that maps the same
// memory at the same guest-physical addresses, and the counter must go on
// from where it stopped, with every register as it was.
#include <sys/syscall.h>

#include <array>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "abi/psi.h"
#include "backend/kvm/guest_ram.hpp"
#include "backend/kvm/kvm_vcpu.hpp"
#include "backend/kvm/kvm_vm.hpp"
#include "integration/spin_support.hpp"

namespace rvm::test {
namespace {

using host::Outcome;
using namespace std::chrono_literals;

class VcpuMove : public KvmTest {};

// The system call `tid` is blocked in (/proc), -1 if it is running or unknown.
long blocked_in(int tid) {
    std::ifstream in("/proc/self/task/" + std::to_string(tid) + "/syscall");
    std::string first;
    if (!(in >> first) || first == "running") return -1;
    return std::strtol(first.c_str(), nullptr, 10);
}

// Suspends the partition and waits until its task's thread sits in the
// host's suspension wait (a futex), out of KVM_RUN: rehome's precondition.
void suspend_and_park(Spin& s) {
    ASSERT_TRUE(s.w->runner.suspend(s.index).ok());
    const int tid = s.task().tid.load();
    ASSERT_NE(tid, 0);
    const auto deadline = std::chrono::steady_clock::now() + 2000ms;
    while (blocked_in(tid) != SYS_futex) {
        ASSERT_LT(std::chrono::steady_clock::now(), deadline) << "the task thread did not park";
        std::this_thread::sleep_for(1ms);
    }
    ASSERT_TRUE(s.still()) << "the counter advanced while suspended";
}

std::array<std::uint64_t, 18> fields(const backend::Regs& r) {
    return {r.rax, r.rbx, r.rcx, r.rdx, r.rsi, r.rdi, r.rsp, r.rbp, r.r8,
            r.r9,  r.r10, r.r11, r.r12, r.r13, r.r14, r.r15, r.rip, r.rflags};
}

backend::Regs regs_of(const kvm::KvmVcpu& v) {
    const auto r = v.regs();
    EXPECT_TRUE(r.ok()) << kvm::describe(r.error());
    return r.ok() ? r.value() : backend::Regs{};
}

// VMs the vCPUs move into; declared before the world, so they outlive it.
struct Targets {
    std::vector<std::unique_ptr<kvm::KvmVm>> vms;

    // A VM that maps what partition `p` maps, at the same guest-physical
    // addresses, with the Ψ MSRs routed as in the partition's own VM.
    kvm::KvmVm* mirror(const kvm::KvmSystem& sys, host::AgentPartition& p) {
        auto vm = kvm::KvmVm::create(sys);
        EXPECT_TRUE(vm.ok()) << kvm::describe(vm.error());
        if (!vm.ok()) return nullptr;
        std::vector<host::MemMap> maps;
        {
            std::lock_guard<std::mutex> g(p.mu);
            maps = p.cell->maps_of(p.id.raw());
        }
        EXPECT_FALSE(maps.empty());
        std::uint32_t slot = 0;
        for (const host::MemMap& m : maps) {
            const auto r = vm.value().add_memslot(slot++, m.gpa, *m.ram, m.offset, m.size, !m.write);
            EXPECT_TRUE(r.ok()) << kvm::describe(r.error());
        }
        if (sys.msr_exits()) {
            const auto r = vm.value().route_msrs(RVM_PSI_STATE_MSR, RVM_PSI_CTRL_MSR - RVM_PSI_STATE_MSR + 1);
            EXPECT_TRUE(r.ok()) << kvm::describe(r.error());
        }
        vms.push_back(std::make_unique<kvm::KvmVm>(std::move(vm.value())));
        return vms.back().get();
    }
};

// Rehomes `v` into `target`, expects success and the same registers, and
// prints how long it took.
void move(kvm::KvmVcpu& v, kvm::KvmVm& target, std::uint32_t id, const char* what) {
    const auto before = regs_of(v);
    const auto tsc0 = v.tsc();
    ASSERT_TRUE(tsc0.ok()) << kvm::describe(tsc0.error());
    const int old_fd = v.fd();
    const auto t0 = std::chrono::steady_clock::now();
    const auto r = v.rehome(target, id);
    const auto us = std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - t0);
    ASSERT_TRUE(r.ok()) << what << ": " << kvm::describe(r.error());
    std::printf("rehome %s: %lld us\n", what, static_cast<long long>(us.count()));
    EXPECT_NE(v.fd(), old_fd) << "the vCPU fd did not change";
    EXPECT_EQ(fields(regs_of(v)), fields(before)) << "registers changed in the move";
    const auto tsc1 = v.tsc();
    ASSERT_TRUE(tsc1.ok()) << kvm::describe(tsc1.error());
    EXPECT_GE(tsc1.value(), tsc0.value()) << "the guest's TSC went back";
}

void stop_and_expect_timed_out(Spin& s) {
    s.w->runner.stop(s.index);
    s.w->runner.wait();
    EXPECT_EQ(s.w->runner.reports()[s.index].outcome, Outcome::TimedOut) << s.w->runner.reports()[s.index].fault;
    EXPECT_TRUE(s.task().done.load());
    EXPECT_FALSE(s.task().thread.joinable());
    EXPECT_EQ(s.w->lines_of("spin").size(), 1u) << "spin made hypercalls in its loop";
}

TEST_F(VcpuMove, SpinCounterContinuesInAnotherVm) {
    Targets targets;
    Spin s;
    ASSERT_NO_FATAL_FAILURE(start_spin(sys(), s));
    ASSERT_TRUE(s.advances_past(s.counter())) << "the spin loop does not run";
    ASSERT_NO_FATAL_FAILURE(suspend_and_park(s));
    const std::uint64_t c0 = s.counter();

    kvm::KvmVm* b = targets.mirror(sys(), s.w->runner.partition(s.index));
    ASSERT_NE(b, nullptr);
    ASSERT_NO_FATAL_FAILURE(move(*s.task().vcpu, *b, b->next_vcpu_id(), "A -> B"));
    EXPECT_EQ(s.counter(), c0) << "the guest ran during the move";

    ASSERT_TRUE(s.w->runner.resume(s.index).ok());
    EXPECT_TRUE(s.advances_past(c0)) << "after the move";
    EXPECT_TRUE(s.advances_past(s.counter())) << "after the move, again";
    stop_and_expect_timed_out(s);
}

// A -> B, a refused move back (id 0 of A is the task's original vCPU, which
// KVM keeps), then A again under a fresh id: the counter goes on each time.
TEST_F(VcpuMove, RoundTripAndARefusedMoveKeepTheVcpu) {
    Targets targets;
    Spin s;
    ASSERT_NO_FATAL_FAILURE(start_spin(sys(), s));
    host::AgentPartition& part = s.w->runner.partition(s.index);
    kvm::KvmVcpu& v = *s.task().vcpu;
    ASSERT_NO_FATAL_FAILURE(suspend_and_park(s));

    kvm::KvmVm* b = targets.mirror(sys(), part);
    ASSERT_NE(b, nullptr);
    ASSERT_NO_FATAL_FAILURE(move(v, *b, b->next_vcpu_id(), "A -> B"));
    const std::uint64_t c1 = s.counter();
    ASSERT_TRUE(s.w->runner.resume(s.index).ok());
    EXPECT_TRUE(s.advances_past(c1)) << "in B";
    ASSERT_NO_FATAL_FAILURE(suspend_and_park(s));

    const std::uint64_t c2 = s.counter();
    const auto before = regs_of(v);
    const int fd_in_b = v.fd();
    const auto refused = v.rehome(part.cell->vm(), 0);
    ASSERT_FALSE(refused.ok()) << "KVM accepted a vCPU id twice";
    EXPECT_STREQ(refused.error().op, "KVM_CREATE_VCPU");
    EXPECT_EQ(refused.error().err, EEXIST);
    EXPECT_EQ(v.fd(), fd_in_b) << "a refused move switched the vCPU";
    EXPECT_EQ(fields(regs_of(v)), fields(before));
    EXPECT_EQ(s.counter(), c2);
    ASSERT_TRUE(s.w->runner.resume(s.index).ok());
    EXPECT_TRUE(s.advances_past(c2)) << "in B after the refused move";
    ASSERT_NO_FATAL_FAILURE(suspend_and_park(s));

    const std::uint64_t c3 = s.counter();
    ASSERT_NO_FATAL_FAILURE(move(v, part.cell->vm(), part.cell->next_vcpu_id(), "B -> A"));
    ASSERT_TRUE(s.w->runner.resume(s.index).ok());
    EXPECT_TRUE(s.advances_past(c3)) << "back in A";
    stop_and_expect_timed_out(s);
}

// Without a runner: ids, memslot removal, and a vCPU that never ran, moved
// while another thread kicks it without pause (the retired kvm_run areas
// stay mapped: ASan would see a write to unmapped memory).
TEST_F(VcpuMove, IdsSlotsAndKicksRacingMoves) {
    auto a = kvm::KvmVm::create(sys());
    ASSERT_TRUE(a.ok()) << kvm::describe(a.error());
    kvm::KvmVm& vm = a.value();
    EXPECT_EQ(vm.next_vcpu_id(), 0u);
    EXPECT_EQ(vm.next_vcpu_id(), 1u);
    EXPECT_GE(vm.max_vcpus(), 2u);

    auto ram = kvm::GuestRam::create(1u << 20, "vcpu-move");
    ASSERT_TRUE(ram.ok()) << kvm::describe(ram.error());
    ASSERT_TRUE(vm.add_memslot(3, 0x100000, ram.value()).ok());
    EXPECT_FALSE(vm.add_memslot(4, 0x100000, ram.value()).ok()) << "overlapping memslots";
    EXPECT_TRUE(vm.remove_memslot(3).ok());
    const auto again = vm.remove_memslot(3);
    EXPECT_FALSE(again.ok()) << "a removed slot removed twice";
    EXPECT_TRUE(vm.add_memslot(4, 0x100000, ram.value()).ok()) << "the removed slot's range is still taken";

    auto created = kvm::KvmVcpu::create(vm, vm.next_vcpu_id());
    ASSERT_TRUE(created.ok()) << kvm::describe(created.error());
    kvm::KvmVcpu& v = created.value();
    kvm::AgentStart start;
    start.cr3 = 0x100000;
    start.regs.rip = 0x401000;
    start.regs.rsp = 0x7ff000;
    start.regs.rdi = 0x1111, start.regs.rsi = 0x2222, start.regs.rdx = 0x3333, start.regs.r15 = 0x4444;
    ASSERT_TRUE(v.set_agent_state(start).ok());
    const auto before = fields(regs_of(v));

    std::vector<std::unique_ptr<kvm::KvmVm>> targets;
    std::atomic<bool> done{false};
    std::thread kicker([&] {
        while (!done.load()) v.kick();
    });
    for (int i = 0; i < 20; ++i) {
        auto t = kvm::KvmVm::create(sys());
        if (!t.ok()) {
            ADD_FAILURE() << kvm::describe(t.error());
            break;
        }
        targets.push_back(std::make_unique<kvm::KvmVm>(std::move(t.value())));
        const auto r = v.rehome(*targets.back(), targets.back()->next_vcpu_id());
        EXPECT_TRUE(r.ok()) << i << ": " << kvm::describe(r.error());
    }
    done = true;
    kicker.join();
    EXPECT_EQ(fields(regs_of(v)), before);
}

}  // namespace
}  // namespace rvm::test
