// The shared Ψ page (host/psi_page.hpp): validation, the guest's seqlock as
// the host reads it (torn and hostile pages), the host's publication, and a
// two-thread round trip in which no torn value is ever accepted.
#include <gtest/gtest.h>

#include <array>
#include <atomic>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <initializer_list>
#include <thread>

#include "abi/psi.h"
#include "host/psi/psi_page.hpp"

namespace rvm::host {
namespace {

struct Page {
    Page() {
        p.magic = RVM_PSI_PAGE_MAGIC;
        p.version = RVM_PSI_PAGE_VERSION;
    }
    PsiPage span() { return PsiPage(reinterpret_cast<std::uint8_t*>(&p), 64); }
    rvm_psi_page p{};
};

TEST(PsiPage, MagicAndVersionMustMatch) {
    Page g;
    EXPECT_TRUE(psi_page_valid(g.span()));
    g.p.magic ^= 1;
    EXPECT_FALSE(psi_page_valid(g.span()));
    g.p.magic ^= 1;
    g.p.version = 2;
    EXPECT_FALSE(psi_page_valid(g.span()));
}

TEST(PsiPage, ReadsAConsistentGuestReport) {
    Page g;
    g.p.guest_ratio_ppm = 123'456;
    g.p.committed = 9;
    g.p.deferred = 4;
    g.p.guest_seq = 2;
    PsiGuestReport r;
    ASSERT_EQ(psi_page_read_guest(g.span(), r), PsiPageRead::Ok);
    EXPECT_EQ(r, (PsiGuestReport{123'456, 9, 4}));
}

TEST(PsiPage, AnOddCounterIsBusyAndChangesNothing) {
    Page g;
    g.p.guest_ratio_ppm = 1;
    g.p.guest_seq = 3;
    PsiGuestReport r{7, 7, 7};
    EXPECT_EQ(psi_page_read_guest(g.span(), r), PsiPageRead::Busy);
    EXPECT_EQ(r, (PsiGuestReport{7, 7, 7}));
}

TEST(PsiPage, HostileContentsAreInvalid) {
    Page g;
    PsiGuestReport r;
    for (const std::uint64_t bad :
         std::initializer_list<std::uint64_t>{std::uint64_t{RVM_PSI_RATIO_ONE} + 1, 1ull << 32, ~0ull}) {
        g.p.guest_ratio_ppm = bad;
        EXPECT_EQ(psi_page_read_guest(g.span(), r), PsiPageRead::Invalid) << bad;
    }
    g.p.guest_ratio_ppm = 5;
    g.p.magic = 0;
    EXPECT_EQ(psi_page_read_guest(g.span(), r), PsiPageRead::Invalid) << "magic overwritten after REGISTER";
}

TEST(PsiPage, PublishingKeepsTheHostCounterEvenAndAdvancing) {
    Page g;
    psi_page_publish_host(g.span(), 42, 1000);
    EXPECT_EQ(g.p.host_ratio_ppm, 42u);
    EXPECT_EQ(g.p.timestamp_ns, 1000u);
    EXPECT_EQ(g.p.host_seq, 2u);
    psi_page_publish_host(g.span(), 43, 2000);
    EXPECT_EQ(g.p.host_seq, 4u);
    g.p.host_seq = 7;  // a guest scribbled it
    psi_page_publish_host(g.span(), 44, 3000);
    EXPECT_EQ(g.p.host_seq % 2, 0u);
    EXPECT_EQ(g.p.host_ratio_ppm, 44u);
    EXPECT_EQ(g.p.magic, RVM_PSI_PAGE_MAGIC) << "the host writes only its own fields";
}

// A guest thread writes reports whose three fields always agree (ratio = n,
// committed = 2n, deferred = 3n) under its seqlock; the host thread reads
// concurrently. Every report the host accepts must be one the guest wrote.
TEST(PsiPage, ConcurrentWriterNeverYieldsATornReport) {
    Page g;
    std::atomic<bool> done{false};
    std::thread guest([&] {
        auto seq = std::atomic_ref<std::uint32_t>(g.p.guest_seq);
        for (std::uint64_t n = 1; n <= 200'000; ++n) {
            const std::uint32_t s = seq.load(std::memory_order_relaxed);
            seq.store(s + 1, std::memory_order_relaxed);
            std::atomic_thread_fence(std::memory_order_release);
            std::atomic_ref<std::uint64_t>(g.p.guest_ratio_ppm)
                .store(n % (RVM_PSI_RATIO_ONE + 1), std::memory_order_relaxed);
            std::atomic_ref<std::uint64_t>(g.p.committed).store(2 * n, std::memory_order_relaxed);
            std::atomic_ref<std::uint64_t>(g.p.deferred).store(3 * n, std::memory_order_relaxed);
            seq.store(s + 2, std::memory_order_release);
        }
        done = true;
    });
    std::uint64_t accepted = 0, busy = 0;
    while (!done) {
        PsiGuestReport r;
        const PsiPageRead res = psi_page_read_guest(g.span(), r);
        if (res == PsiPageRead::Busy) {
            ++busy;
            continue;
        }
        ASSERT_EQ(res, PsiPageRead::Ok);
        ASSERT_EQ(r.deferred, r.committed / 2 * 3) << "torn report accepted";
        ASSERT_EQ(r.ratio_ppm, (r.committed / 2) % (RVM_PSI_RATIO_ONE + 1)) << "torn report accepted";
        ++accepted;
    }
    guest.join();
    EXPECT_GT(accepted, 0u);
    std::printf("psi page: %llu consistent reads, %llu busy\n", static_cast<unsigned long long>(accepted),
                static_cast<unsigned long long>(busy));
}

}  // namespace
}  // namespace rvm::host
