#include "backend/kvm/cpuid.hpp"

#include <linux/kvm.h>
#include <sys/ioctl.h>

#include <cerrno>
#include <cstddef>
#include <vector>

#include "abi/psi.h"
#include "abi/version.h"

namespace rvm::kvm {

class CpuidTable {
public:
    std::vector<kvm_cpuid_entry2> entries;
};

namespace {

constexpr std::uint32_t kHypervisorFirst = 0x40000000u;
constexpr std::uint32_t kHypervisorLast = 0x400000ffu;
constexpr std::uint32_t kKvmShift = RVM_CPUID_LEAF_KVM_BASE - RVM_CPUID_LEAF_BASE;
constexpr std::uint32_t kHypervisorBit = 1u << 31;  // CPUID.1:ECX

kvm_cpuid_entry2 entry(std::uint32_t function, std::uint32_t eax, std::uint32_t ebx, std::uint32_t ecx,
                       std::uint32_t edx) {
    kvm_cpuid_entry2 e{};
    e.function = function;
    e.eax = eax, e.ebx = ebx, e.ecx = ecx, e.edx = edx;
    return e;
}

// Header and entries in one allocation, as KVM_{GET_SUPPORTED,SET}_CPUID2 want.
struct Cpuid2Buffer {
    explicit Cpuid2Buffer(std::size_t n)
        : words((sizeof(kvm_cpuid2) + n * sizeof(kvm_cpuid_entry2) + 7) / 8, 0) {
        head()->nent = static_cast<std::uint32_t>(n);
    }
    kvm_cpuid2* head() { return reinterpret_cast<kvm_cpuid2*>(words.data()); }
    std::vector<std::uint64_t> words;  // 8-byte aligned storage
};

}  // namespace

Result<std::shared_ptr<const CpuidTable>, KvmError> build_cpuid(int kvm_fd) {
    for (std::size_t n = 64; n <= 4096; n *= 2) {
        Cpuid2Buffer b(n);
        // SAFETY: the buffer holds a kvm_cpuid2 header with room for `n` entries.
        if (ioctl(kvm_fd, KVM_GET_SUPPORTED_CPUID, b.head()) != 0) {
            if (errno == E2BIG) continue;
            return err(KvmError{"KVM_GET_SUPPORTED_CPUID", errno});
        }
        auto t = std::make_shared<CpuidTable>();
        const kvm_cpuid2* h = b.head();
        for (std::uint32_t i = 0; i < h->nent; ++i) {
            kvm_cpuid_entry2 e = h->entries[i];
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
            t->entries.push_back(e);
        }
        t->entries.push_back(entry(RVM_CPUID_LEAF_BASE, RVM_CPUID_LEAF_FEATURES, RVM_CPUID_SIGNATURE_EBX,
                                   RVM_CPUID_SIGNATURE_ECX, RVM_CPUID_SIGNATURE_EDX));
        t->entries.push_back(entry(RVM_CPUID_LEAF_FEATURES, RVM_ABI_VERSION,
                                   RVM_CPUID_FEATURE_PSI_MSR | RVM_CPUID_FEATURE_PSI_HYPERCALL |
                                       RVM_CPUID_FEATURE_PSI_PAGE,
                                   0, 0));
        return std::shared_ptr<const CpuidTable>(std::move(t));
    }
    return err(KvmError{"KVM_GET_SUPPORTED_CPUID: more than 4096 entries", E2BIG});
}

Result<void, KvmError> install_cpuid(const CpuidTable& t, int vcpu_fd) {
    Cpuid2Buffer b(t.entries.size());
    for (std::size_t i = 0; i < t.entries.size(); ++i) b.head()->entries[i] = t.entries[i];
    // SAFETY: the buffer holds a kvm_cpuid2 header and nent entries.
    if (ioctl(vcpu_fd, KVM_SET_CPUID2, b.head()) != 0) return err(KvmError{"KVM_SET_CPUID2", errno});
    return {};
}

bool find_cpuid(const CpuidTable& t, std::uint32_t function, std::uint32_t index, CpuidEntry& out) {
    for (const kvm_cpuid_entry2& e : t.entries) {
        const bool indexed = (e.flags & KVM_CPUID_FLAG_SIGNIFCANT_INDEX) != 0;
        if (e.function != function || (indexed && e.index != index)) continue;
        out = CpuidEntry{e.function, e.index, e.eax, e.ebx, e.ecx, e.edx};
        return true;
    }
    return false;
}

}  // namespace rvm::kvm
