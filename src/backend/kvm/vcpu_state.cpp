#include "backend/kvm/vcpu_state.hpp"

#include <sys/ioctl.h>

#include <algorithm>
#include <cerrno>
#include <cstddef>

namespace rvm::kvm {

namespace {

// One ioctl whose argument is a T we own; `op` names it in the error.
template <typename T>
Result<void, KvmError> xfer(int fd, unsigned long request, T* arg, const char* op) {
    // SAFETY: every caller pairs `request` with the type its argument has in
    // linux/kvm.h (or the C layout of kvm_layout.hpp); KVM reads or fills that object.
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

kvm_device_attr tsc_offset_attr(std::int64_t* offset) {
    kvm_device_attr a{};
    a.group = KVM_VCPU_TSC_CTRL;
    a.attr = KVM_VCPU_TSC_OFFSET;
    // SAFETY: the address of an int64 the caller keeps alive across the
    // ioctl; KVM reads or writes its 8 bytes during the call only.
    a.addr = reinterpret_cast<std::uintptr_t>(offset);
    return a;
}

}  // namespace

Result<VcpuState, KvmError> VcpuState::save(int fd, const KvmVm& caps) {
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
Result<void, KvmError> VcpuState::restore(int fd) {
    RVM_TRY_VOID(xfer(fd, KVM_SET_SREGS, &sregs, "KVM_SET_SREGS"));
    RVM_TRY_VOID(xfer(fd, KVM_SET_REGS, &regs, "KVM_SET_REGS"));
    if (!xsave.empty()) {
        RVM_TRY_VOID(xfer(fd, kSetXsave, xsave.data(), "KVM_SET_XSAVE"));
    } else {
        RVM_TRY_VOID(xfer(fd, KVM_SET_FPU, &fpu, "KVM_SET_FPU"));
    }
    if (xcrs) RVM_TRY_VOID(xfer(fd, KVM_SET_XCRS, &*xcrs, "KVM_SET_XCRS"));
    // SAFETY: KVM_SET_MSRS reads the entries of a kvm_msrs in the C layout.
    const int n = ioctl(fd, kSetMsrs, &msrs);
    if (n < 0) return err(KvmError{"KVM_SET_MSRS", errno});
    if (static_cast<std::uint32_t>(n) != msrs.header.nmsrs) return err(KvmError{"KVM_SET_MSRS: refused", EINVAL});
    if (tsc_offset) {
        kvm_device_attr a = tsc_offset_attr(&*tsc_offset);
        RVM_TRY_VOID(xfer(fd, KVM_SET_DEVICE_ATTR, &a, "KVM_SET_DEVICE_ATTR(TSC_OFFSET)"));
    }
    // A pending NMI is carried only when the flag says so.
    events.flags |= KVM_VCPUEVENT_VALID_NMI_PENDING;
    RVM_TRY_VOID(xfer(fd, KVM_SET_VCPU_EVENTS, &events, "KVM_SET_VCPU_EVENTS"));
    RVM_TRY_VOID(xfer(fd, KVM_SET_DEBUGREGS, &debugregs, "KVM_SET_DEBUGREGS"));
    return {};
}

Result<std::uint64_t, KvmError> read_tsc(int fd) {
    MsrBlock<1> m;
    m.header.nmsrs = 1;
    m.entries[0].index = kMsrTsc;
    // SAFETY: KVM_GET_MSRS fills the entry of a kvm_msrs in the C layout.
    const int n = ioctl(fd, kGetMsrs, &m);
    if (n != 1) return err(KvmError{"KVM_GET_MSRS(IA32_TSC)", n < 0 ? errno : EIO});
    return m.entries[0].data;
}

}  // namespace rvm::kvm
