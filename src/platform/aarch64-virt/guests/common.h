/* Helpers shared by the demo partitions of the bare-metal platform. */
#ifndef RVM_BM_GUEST_COMMON_H
#define RVM_BM_GUEST_COMMON_H

#include <rvm/guest.h>

static inline uint64_t bm_ticks(void) {
    uint64_t v;
    __asm__ volatile("isb\n mrs %0, cntvct_el0" : "=r"(v)::"memory");
    return v;
}

static inline uint64_t bm_ticks_hz(void) {
    uint64_t v;
    __asm__ volatile("mrs %0, cntfrq_el0" : "=r"(v));
    return v;
}

static inline uint64_t bm_ticks_to_ns(uint64_t t) {
    return t / bm_ticks_hz() * 1000000000ull + t % bm_ticks_hz() * 1000000000ull / bm_ticks_hz();
}

#endif
