#include "backend/kvm/cpuid.hpp"

#include <linux/kvm.h>
#include <sys/ioctl.h>

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <cstring>
#include <vector>

#include "abi/psi.h"
#include "abi/version.h"

namespace rvm::kvm {

namespace {

constexpr std::uint32_t kHypervisorFirst = 0x40000000u;
constexpr std::uint32_t kHypervisorLast = 0x400000ffu;
constexpr std::uint32_t kKvmShift = RVM_CPUID_LEAF_KVM_BASE - RVM_CPUID_LEAF_BASE;
constexpr std::uint32_t kHypervisorBit = 1u << 31;  // CPUID.1:ECX

// struct kvm_cpuid2 is {u32 nent; u32 padding; entries[]}: 8 bytes of header
// in C. Under C++ this uapi header's __DECLARE_FLEX_ARRAY puts an empty
// struct (1 byte) before `entries`, making the struct 12 bytes with entries
// at offset 12 -- and the ioctl numbers, which encode the size, wrong
// (KVM answers -EINVAL). So the C layout is built by hand here.
constexpr std::size_t kCpuid2HeaderSize = 8;
constexpr unsigned long kGetSupportedCpuid = _IOC(_IOC_READ | _IOC_WRITE, KVMIO, 0x05, kCpuid2HeaderSize);
constexpr unsigned long kSetCpuid2 = _IOC(_IOC_WRITE, KVMIO, 0x90, kCpuid2HeaderSize);

kvm_cpuid_entry2 entry(std::uint32_t function, std::uint32_t eax, std::uint32_t ebx, std::uint32_t ecx,
                       std::uint32_t edx) {
    kvm_cpuid_entry2 e{};
    e.function = function;
    e.eax = eax, e.ebx = ebx, e.ecx = ecx, e.edx = edx;
    return e;
}

// Header (nent, padding) and entries in one buffer, in the C layout.
struct Cpuid2Buffer {
    explicit Cpuid2Buffer(std::size_t n) : bytes(kCpuid2HeaderSize + n * sizeof(kvm_cpuid_entry2), 0) {
        set_nent(static_cast<std::uint32_t>(n));
    }
    [[nodiscard]] std::uint32_t nent() const {
        std::uint32_t n = 0;
        std::memcpy(&n, bytes.data(), sizeof n);
        return n;
    }
    void set_nent(std::uint32_t n) { std::memcpy(bytes.data(), &n, sizeof n); }
    [[nodiscard]] kvm_cpuid_entry2 get(std::size_t i) const {
        kvm_cpuid_entry2 e{};
        std::memcpy(&e, bytes.data() + kCpuid2HeaderSize + i * sizeof e, sizeof e);
        return e;
    }
    void put(std::size_t i, const kvm_cpuid_entry2& e) {
        std::memcpy(bytes.data() + kCpuid2HeaderSize + i * sizeof e, &e, sizeof e);
    }
    void* data() { return bytes.data(); }
    std::vector<std::uint8_t> bytes;
};

}  // namespace

// The reshaped table, already in the layout KVM_SET_CPUID2 reads: built once
// per system, handed to every vCPU as it is.
class CpuidTable {
public:
    explicit CpuidTable(Cpuid2Buffer b) : buffer(std::move(b)) {}
    Cpuid2Buffer buffer;
};

Result<std::shared_ptr<const CpuidTable>, KvmError> build_cpuid(int kvm_fd) {
    for (std::size_t n = 64; n <= 4096; n *= 2) {
        Cpuid2Buffer b(n);
        // SAFETY: the buffer holds a kvm_cpuid2 header with room for `n` entries.
        if (ioctl(kvm_fd, kGetSupportedCpuid, b.data()) != 0) {
            if (errno == E2BIG) continue;
            return err(KvmError{"KVM_GET_SUPPORTED_CPUID", errno});
        }
        std::vector<kvm_cpuid_entry2> entries;
        const std::uint32_t nent = std::min<std::uint32_t>(b.nent(), static_cast<std::uint32_t>(n));
        for (std::uint32_t i = 0; i < nent; ++i) {
            kvm_cpuid_entry2 e = b.get(i);
            if (e.function >= kHypervisorFirst && e.function <= kHypervisorLast) {
                // KVM's leaves move up; its base leaf's "highest leaf" moves with them.
                if (e.function == kHypervisorFirst && e.eax >= kHypervisorFirst && e.eax <= kHypervisorLast) {
                    e.eax += kKvmShift;
                }
                e.function += kKvmShift;
            } else if (e.function >= RVM_CPUID_LEAF_KVM_BASE && e.function <= RVM_CPUID_LEAF_KVM_BASE + 0xffu) {
                continue;  // would collide with the moved KVM leaves
            }
            if (e.function == 1) e.ecx |= kHypervisorBit;
            entries.push_back(e);
        }
        entries.push_back(entry(RVM_CPUID_LEAF_BASE, RVM_CPUID_LEAF_FEATURES, RVM_CPUID_SIGNATURE_EBX,
                                RVM_CPUID_SIGNATURE_ECX, RVM_CPUID_SIGNATURE_EDX));
        entries.push_back(
            entry(RVM_CPUID_LEAF_FEATURES, RVM_ABI_VERSION,
                  RVM_CPUID_FEATURE_PSI_MSR | RVM_CPUID_FEATURE_PSI_HYPERCALL | RVM_CPUID_FEATURE_PSI_PAGE, 0, 0));
        Cpuid2Buffer out(entries.size());
        for (std::size_t i = 0; i < entries.size(); ++i) out.put(i, entries[i]);
        return std::shared_ptr<const CpuidTable>(std::make_shared<CpuidTable>(std::move(out)));
    }
    return err(KvmError{"KVM_GET_SUPPORTED_CPUID: more than 4096 entries", E2BIG});
}

Result<void, KvmError> install_cpuid(const CpuidTable& t, int vcpu_fd) {
    // SAFETY: the buffer holds a kvm_cpuid2 header and nent entries;
    // KVM_SET_CPUID2 only reads it (the cast is for ioctl's signature).
    if (ioctl(vcpu_fd, kSetCpuid2, const_cast<std::uint8_t*>(t.buffer.bytes.data())) != 0) {
        return err(KvmError{"KVM_SET_CPUID2", errno});
    }
    return {};
}

}  // namespace rvm::kvm
