// The freestanding runtime the nucleus and the platform need to link
// (DESIGN.md 1): the C memory functions the compiler may call, the C++ ABI
// stubs for a program without a heap, exceptions or global destructors, and
// the nucleus's assertion hook.
#include <cstddef>
#include <cstdint>

#include "nucleus/assert.hpp"
#include "platform/aarch64-virt/console.hpp"
#include "platform/aarch64-virt/halt.hpp"

// The names below are fixed by the C library, libgcc and the Itanium C++
// ABI; the compiler and the nucleus call them.
// NOLINTBEGIN(bugprone-reserved-identifier): deviations.md#baremetal-runtime-names

// GCC may turn these loops into calls to themselves unless told not to.
#define RVM_RT_NO_LIBCALL __attribute__((optimize("no-tree-loop-distribute-patterns")))

extern "C" {

RVM_RT_NO_LIBCALL void* memcpy(void* dst, const void* src, std::size_t n) {
    auto* d = static_cast<unsigned char*>(dst);
    const auto* s = static_cast<const unsigned char*>(src);
    for (std::size_t i = 0; i < n; ++i) d[i] = s[i];
    return dst;
}

RVM_RT_NO_LIBCALL void* memmove(void* dst, const void* src, std::size_t n) {
    auto* d = static_cast<unsigned char*>(dst);
    const auto* s = static_cast<const unsigned char*>(src);
    if (d < s) {
        for (std::size_t i = 0; i < n; ++i) d[i] = s[i];
    } else {
        for (std::size_t i = n; i > 0; --i) d[i - 1] = s[i - 1];
    }
    return dst;
}

RVM_RT_NO_LIBCALL void* memset(void* dst, int c, std::size_t n) {
    auto* d = static_cast<unsigned char*>(dst);
    for (std::size_t i = 0; i < n; ++i) d[i] = static_cast<unsigned char>(c);
    return dst;
}

RVM_RT_NO_LIBCALL int memcmp(const void* a, const void* b, std::size_t n) {
    const auto* x = static_cast<const unsigned char*>(a);
    const auto* y = static_cast<const unsigned char*>(b);
    for (std::size_t i = 0; i < n; ++i)
        if (x[i] != y[i]) return x[i] < y[i] ? -1 : 1;
    return 0;
}

RVM_RT_NO_LIBCALL std::size_t strlen(const char* s) {
    std::size_t n = 0;
    while (s[n] != '\0') ++n;
    return n;
}

// libgcc's version uses SIMD (cnt), which traps at EL2 (CPTR_EL2.TFP) and
// would need FP state saved across partitions; std::popcount calls it.
RVM_RT_NO_LIBCALL int __popcountdi2(unsigned long x) {
    int n = 0;
    for (; x != 0; x &= x - 1) ++n;
    return n;
}

// A pure virtual call or an abort is our bug: halt loudly.
void __cxa_pure_virtual() { rvm::bm::halt("pure virtual call"); }
void abort() { rvm::bm::halt("abort"); }

// Statics are never destroyed: the image ends by powering off.
void* __dso_handle = nullptr;
int __cxa_atexit(void (*)(void*), void*, void*) { return 0; }

// EL2 exceptions taken from EL2 itself (boot.S el2_fault).
[[noreturn]] void el2_panic(std::uint64_t slot, std::uint64_t esr, std::uint64_t elr, std::uint64_t far) {
    rvm::bm::con() << "rvm-bm: EL2 exception slot " << rvm::bm::Dec{slot} << " esr=" << rvm::bm::Hex{esr}
                   << " elr=" << rvm::bm::Hex{elr} << " far=" << rvm::bm::Hex{far} << '\n';
    rvm::bm::halt("EL2 exception");
}

}  // extern "C"

// NOLINTEND(bugprone-reserved-identifier)

// Deleting destructors of classes with virtual destructors refer to these;
// nothing in the image allocates, so they are never called.
void operator delete(void*) noexcept { rvm::bm::halt("operator delete"); }
void operator delete(void*, std::size_t) noexcept { rvm::bm::halt("operator delete"); }

namespace rvm {

void assertion_failed(const char* expr, const char* file, int line) {
    bm::con() << "rvm-bm: internal invariant broken: " << expr << " at " << file << ':'
              << bm::Dec{static_cast<std::uint64_t>(line)} << '\n';
    bm::halt("assertion");
}

}  // namespace rvm
