/* Benchmarks (TCG: only ratios mean anything): a bare HVC the platform
 * answers at once, a null hypercall through the nucleus's dispatch (a call
 * it does not implement), and yields to bench_peer (one partition switch
 * each). x0 = iterations. */
#include "common.h"

static uint64_t bare_loop(uint64_t n) {
    const uint64_t t0 = bm_ticks();
    for (uint64_t i = 0; i < n; ++i) {
        register uint64_t x0 __asm__("x0") = 0;
        __asm__ volatile("hvc #2" : "+r"(x0)::"memory");
    }
    return bm_ticks_to_ns(bm_ticks() - t0);
}

static uint64_t null_loop(uint64_t n) {
    const uint64_t t0 = bm_ticks();
    for (uint64_t i = 0; i < n; ++i) (void)rvm_hypercall0(RVM_HC_PARTITION_MERGE);
    return bm_ticks_to_ns(bm_ticks() - t0);
}

static uint64_t switch_loop(uint64_t n) {
    const uint64_t t0 = bm_ticks();
    for (uint64_t i = 0; i < n; ++i) rvm_yield();
    return bm_ticks_to_ns(bm_ticks() - t0);
}

static void ratio(const char* what, uint64_t num, uint64_t den) {
    const uint64_t r = den == 0 ? 0 : num * 100u / den;
    rvm_logf("rvm-bench: %s = %u.%u%u (TCG)", what, (unsigned)(r / 100u), (unsigned)(r / 10u % 10u), (unsigned)(r % 10u));
}

static uint64_t min3(uint64_t (*loop)(uint64_t), uint64_t n) {
    uint64_t best = loop(n);
    for (int i = 0; i < 2; ++i) {
        const uint64_t t = loop(n);
        if (t < best) best = t;
    }
    return best;
}

/* Each loop runs three times (the fastest counts: TCG shares the host CPU). */
int main(uint64_t n) {
    const uint64_t bare = min3(bare_loop, n);
    const uint64_t null = min3(null_loop, n);
    /* Each yield runs bench_peer until it yields back: two switches. */
    const uint64_t sw = min3(switch_loop, n) / 2u;
    rvm_logf("rvm-bench: iterations=%u bare_hvc_ns=%u null_hypercall_ns=%u partition_switch_ns=%u", (unsigned)n,
             (unsigned)(bare / n), (unsigned)(null / n), (unsigned)(sw / n));
    ratio("null_hypercall/bare_hvc", null, bare);
    ratio("partition_switch/bare_hvc", sw, bare);
    return 0;
}
