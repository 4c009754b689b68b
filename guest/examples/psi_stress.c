/* agent_psi_stress: seed 001's stress test from CPL3 (10 guests x 10,000 Ψ
 * updates, "> 10,000 updates/s"; tests/integration/psi_stress_test.cpp).
 *
 * Registers, then performs N RVM_HC_PSI_UPDATE calls (N = task 0's start
 * argument, or PSI_STRESS_DEFAULT_UPDATES if it is 0), update i reporting
 *   ratio     = (seed + i * 7919) % (RVM_PSI_RATIO_ONE + 1)
 *   committed = i + 1
 *   deferred  = (seed + i) % 1000
 * with seed = the low 20 bits of the partition handle (info->partition), so
 * the host can predict every partition's last report and hence the weighted
 * aggregate. Keep psi_stress_report() in the test in step with this.
 * Times the loop with rvm_clock_ns() and logs
 *   psi_stress: N updates in X ns (Y/s)
 *
 * Page mode (bit 62 of the argument, N = the low 32 bits): the same N
 * reports written into a registered shared Ψ page instead (no exit each),
 * timed the same way; then the agent waits (yielding, at most 2 s) until the
 * host has published twice more, so the last report has been taken, and
 * logs the same line with "page updates". The page holds the latest report
 * (a state register, not a queue): the host samples it once per epoch.
 * then exits 0, or logs "psi_stress: FAIL ..." and exits 1 if REGISTER or any
 * UPDATE did not return 0.
 *
 * Latency mode (the bursty half of bench/psi_policy_bench.cpp): with bit 63
 * of the argument set, N = the low 32 bits, no Ψ calls. The agent makes N + 1
 * RVM_HC_CLOCK calls back to back; the difference between two consecutive
 * clock values is one full hypercall round trip (back to the guest, the loop,
 * out again, dispatch), so each call is timed without an extra hypercall and
 * a stretch held out of the guest (the Ψ policy's duty cycle) shows up in the
 * tail. Histogram of 1 us buckets up to 16 ms (longer ones in the last),
 * then logs
 *   psi_stress: latency calls=N total_ns=T p50_ns=A p99_ns=B max_ns=C
 * (percentiles as bucket upper bounds) and exits 0. */
#include <rvm/guest.h>

#define PSI_STRESS_DEFAULT_UPDATES 10000ull
#define PSI_STRESS_LATENCY_MODE (1ull << 63)
#define PSI_STRESS_PAGE_MODE (1ull << 62)
#define PSI_STRESS_BUCKET_NS 1000ull
#define PSI_STRESS_BUCKETS 16384u

static uint32_t histogram[PSI_STRESS_BUCKETS];

/* The upper bound (ns) of the bucket holding the q-th smallest sample (q >= 1). */
static uint64_t percentile_ns(uint64_t q) {
    uint64_t seen = 0;
    for (unsigned b = 0; b < PSI_STRESS_BUCKETS; ++b) {
        seen += histogram[b];
        if (seen >= q) return (b + 1ull) * PSI_STRESS_BUCKET_NS;
    }
    return PSI_STRESS_BUCKETS * PSI_STRESS_BUCKET_NS;
}

static int latency(uint64_t n) {
    if (n == 0) n = PSI_STRESS_DEFAULT_UPDATES;
    uint64_t max = 0;
    const uint64_t t0 = rvm_clock_ns();
    uint64_t prev = t0;
    for (uint64_t i = 0; i < n; ++i) {
        const uint64_t t = rvm_clock_ns();
        const uint64_t d = t - prev;
        prev = t;
        uint64_t b = d / PSI_STRESS_BUCKET_NS;
        if (b >= PSI_STRESS_BUCKETS) b = PSI_STRESS_BUCKETS - 1u;
        ++histogram[b];
        if (d > max) max = d;
    }
    rvm_logf("psi_stress: latency calls=%lu total_ns=%lu p50_ns=%lu p99_ns=%lu max_ns=%lu\n", n, prev - t0,
             percentile_ns((n + 1u) / 2u), percentile_ns((n * 99u + 99u) / 100u), max);
    return 0;
}

static struct rvm_psi_page page;

static int page_mode(uint64_t n, uint64_t seed) {
    if (n == 0) n = PSI_STRESS_DEFAULT_UPDATES;
    rvm_psi_page_init(&page);
    const rvm_ret_t reg = rvm_psi_register_page(&page);
    if (reg != 0) {
        rvm_logf("psi_stress: FAIL register with a page returned %ld\n", (long)reg);
        return 1;
    }
    const uint64_t t0 = rvm_clock_ns();
    for (uint64_t i = 0; i < n; ++i) {
        rvm_psi_page_report(&page, (seed + i * 7919u) % (RVM_PSI_RATIO_ONE + 1u), i + 1u, (seed + i) % 1000u);
    }
    const uint64_t t1 = rvm_clock_ns();
    uint64_t ratio = 0, ts = 0;
    uint32_t seq0 = 0, seq = 0;
    while (rvm_psi_page_host(&page, &ratio, &ts, &seq0, 64) != 0) rvm_yield();
    for (;;) {
        if (rvm_psi_page_host(&page, &ratio, &ts, &seq, 64) == 0 && seq - seq0 >= 4u) break;
        if (rvm_clock_ns() - t1 > 2000000000ull) {
            rvm_logf("psi_stress: FAIL the host did not publish within 2 s\n");
            return 1;
        }
        rvm_yield();
    }
    const uint64_t ns = t1 > t0 ? t1 - t0 : 1u;
    rvm_logf("psi_stress: %lu page updates in %lu ns (%lu/s)\n", n, ns, n * (uint64_t)1000000000u / ns);
    return 0;
}

int main(const struct rvm_info* info, uint64_t task_index, uint64_t arg) {
    (void)task_index;
    if ((arg & PSI_STRESS_LATENCY_MODE) != 0) return latency(arg & 0xffffffffull);
    if ((arg & PSI_STRESS_PAGE_MODE) != 0) return page_mode(arg & 0xffffffffull, info->partition & 0xfffffull);
    const uint64_t n = arg != 0 ? arg : PSI_STRESS_DEFAULT_UPDATES;
    const uint64_t seed = info->partition & 0xfffffull;

    const rvm_ret_t reg = rvm_psi_register();
    if (reg != 0) {
        rvm_logf("psi_stress: FAIL register returned %ld\n", (long)reg);
        return 1;
    }

    uint64_t failures = 0;
    rvm_ret_t first_error = 0;
    const uint64_t t0 = rvm_clock_ns();
    for (uint64_t i = 0; i < n; ++i) {
        const uint64_t ratio = (seed + i * 7919u) % (RVM_PSI_RATIO_ONE + 1u);
        const rvm_ret_t r = rvm_psi_update(ratio, i + 1u, (seed + i) % 1000u);
        if (r != 0) {
            if (failures == 0) first_error = r;
            ++failures;
        }
    }
    const uint64_t t1 = rvm_clock_ns();

    if (failures != 0) {
        rvm_logf("psi_stress: FAIL %lu of %lu updates refused (first: %ld)\n", failures, n, (long)first_error);
        return 1;
    }
    const uint64_t ns = t1 > t0 ? t1 - t0 : 1u;
    rvm_logf("psi_stress: %lu updates in %lu ns (%lu/s)\n", n, ns, n * (uint64_t)1000000000u / ns);
    return 0;
}
