#include "host/psi/psi_page.hpp"

#include <atomic>
#include <cstddef>

#include "abi/psi.h"

namespace rvm::host {

namespace {

// The layout is checked once, in nucleus/psi.hpp.

// The page lives in guest RAM mapped into this process; the guest writes it
// concurrently, so every access is atomic (plain loads would be a data race).
template <typename T>
std::atomic_ref<T> field(PsiPage page, std::size_t offset) {
    // SAFETY: the page is 64-byte aligned guest RAM (checked at REGISTER) and
    // every offset used is a multiple of sizeof(T).
    return std::atomic_ref<T>(*reinterpret_cast<T*>(page.data() + offset));
}

std::uint64_t load64(PsiPage page, std::size_t offset) {
    return field<std::uint64_t>(page, offset).load(std::memory_order_relaxed);
}

}  // namespace

bool psi_page_valid(PsiPage page) {
    return load64(page, offsetof(rvm_psi_page, magic)) == RVM_PSI_PAGE_MAGIC &&
           load64(page, offsetof(rvm_psi_page, version)) == RVM_PSI_PAGE_VERSION;
}

PsiPageRead psi_page_read_guest(PsiPage page, PsiGuestReport& out, unsigned tries) {
    auto seq = field<std::uint32_t>(page, offsetof(rvm_psi_page, guest_seq));
    for (unsigned i = 0; i < tries; ++i) {
        const std::uint32_t before = seq.load(std::memory_order_acquire);
        if ((before & 1u) != 0) continue;  // the guest is writing
        const bool valid = psi_page_valid(page);
        const std::uint64_t ratio = load64(page, offsetof(rvm_psi_page, guest_ratio_ppm));
        const std::uint64_t committed = load64(page, offsetof(rvm_psi_page, committed));
        const std::uint64_t deferred = load64(page, offsetof(rvm_psi_page, deferred));
        std::atomic_thread_fence(std::memory_order_acquire);
        if (seq.load(std::memory_order_relaxed) != before) continue;
        if (!valid || ratio > RVM_PSI_RATIO_ONE) return PsiPageRead::Invalid;
        out = PsiGuestReport{static_cast<std::uint32_t>(ratio), committed, deferred};
        return PsiPageRead::Ok;
    }
    return PsiPageRead::Busy;
}

void psi_page_publish_host(PsiPage page, std::uint32_t host_ratio_ppm, std::uint64_t timestamp_ns) {
    auto seq = field<std::uint32_t>(page, offsetof(rvm_psi_page, host_seq));
    const std::uint32_t s = seq.load(std::memory_order_relaxed) | 1u;  // odd: writing
    seq.store(s, std::memory_order_relaxed);
    std::atomic_thread_fence(std::memory_order_release);
    field<std::uint64_t>(page, offsetof(rvm_psi_page, host_ratio_ppm)).store(host_ratio_ppm, std::memory_order_relaxed);
    field<std::uint64_t>(page, offsetof(rvm_psi_page, timestamp_ns)).store(timestamp_ns, std::memory_order_relaxed);
    seq.store(s + 1u, std::memory_order_release);  // even: done
}

}  // namespace rvm::host
