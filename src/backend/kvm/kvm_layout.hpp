// The C layouts of the KVM uapi structs that end in a flexible array, and the
// ioctl numbers built from them. Under C++, __DECLARE_FLEX_ARRAY adds an
// empty struct (1 byte), so sizeof -- and the ioctl numbers, which encode
// it -- come out wrong and KVM answers EINVAL (cpuid.cpp has the same
// problem with kvm_cpuid2). Internal to the KVM backend.
#pragma once

#include <linux/kvm.h>
#include <sys/ioctl.h>

#include <array>
#include <cstddef>
#include <cstdint>

namespace rvm::kvm {

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
inline constexpr unsigned long kGetMsrIndexList = _IOWR(KVMIO, 0x02, MsrListHeader);
inline constexpr unsigned long kGetMsrs = _IOWR(KVMIO, 0x88, MsrsHeader);
inline constexpr unsigned long kSetMsrs = _IOW(KVMIO, 0x89, MsrsHeader);
inline constexpr unsigned long kGetXsave = _IOR(KVMIO, 0xa4, XsaveArea);
inline constexpr unsigned long kSetXsave = _IOW(KVMIO, 0xa5, XsaveArea);
inline constexpr unsigned long kGetXsave2 = _IOR(KVMIO, 0xcf, XsaveArea);
// The values linux/kvm.h gives these in C.
static_assert(kGetMsrIndexList == 0xc004ae02 && kGetMsrs == 0xc008ae88 && kSetMsrs == 0x4008ae89);
static_assert(kGetXsave == 0x9000aea4 && kSetXsave == 0x5000aea5 && kGetXsave2 == 0x9000aecf);

// A kvm_msrs in the C layout with room for N entries.
template <std::size_t N>
struct MsrBlock {
    MsrsHeader header{};
    std::array<kvm_msr_entry, N> entries{};
};
static_assert(offsetof(MsrBlock<1>, entries) == sizeof(MsrsHeader));

}  // namespace rvm::kvm
