// BareVm: the baseline of the KVM benchmarks (kvm_bench.cpp): the shortest
// raw ioctl sequence that runs CPL3 64-bit code on KVM, with none of RVM's
// layers. Anonymous memory, one memslot, four page-table pages mapping three
// pages (TSS, code, stack), one vCPU in the agent start state (the same
// selectors, control registers and I/O-bitmap TSS as kvm_vcpu.cpp, because
// PVM checks CPL3 port I/O against the TSS bitmap), and the guest code
// `1: out %eax, $0x52; jmp 1b`: every KVM_RUN returns one KVM_EXIT_IO.
#pragma once

#include <linux/kvm.h>

#include <cstdint>
#include <string>

#include "backend/mapping.hpp"
#include "backend/unique_fd.hpp"
#include "nucleus/result.hpp"

namespace rvm::bench {

class BareVm {
public:
    static constexpr std::uint16_t kPort = 0x52;

    // `kvm_fd` is an open /dev/kvm, `run_size` its KVM_GET_VCPU_MMAP_SIZE;
    // `memory` bytes of guest RAM (>= 64 KiB, a multiple of 4 KiB) are
    // reserved, of which six pages are touched.
    [[nodiscard]] static Result<BareVm, std::string> create(int kvm_fd, std::size_t run_size, std::uint64_t memory);

    // One KVM_RUN; true if it ended in the guest's `out` to kPort.
    [[nodiscard]] bool run_to_out();
    // Asks KVM to copy the general-purpose registers into kvm_run on every exit.
    void enable_sync_regs();
    [[nodiscard]] int vcpu_fd() const { return vcpu_.get(); }
    [[nodiscard]] int vm_fd() const { return vm_.get(); }
    [[nodiscard]] kvm_run& shared() const { return *run_; }

private:
    BareVm(Mapping ram, UniqueFd vm, UniqueFd vcpu, Mapping run_map);

    // Destroyed in reverse: the vCPU's mapping and fd, the VM, then its memory.
    Mapping ram_;
    UniqueFd vm_;
    UniqueFd vcpu_;
    Mapping run_map_;
    kvm_run* run_;
};

}  // namespace rvm::bench
