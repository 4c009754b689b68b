/* agent_compute: a tight integer loop timed with rvm_clock_ns().
 *
 * N = task 0's start argument (rdx at entry), or 1e9 if it is 0. Two loops:
 *   1. `dec; jnz` N times (the DESIGN.md section 1 baseline: ~0.26 ns/iteration
 *      natively at CPL3),
 *   2. an LCG x = x * 6364136223846793005 + 1442695040888963407, N times,
 *      whose result is logged (so it cannot be optimized away).
 * Logs one line per loop:
 *   compute: loop=decjnz iterations=N ns=T ps_per_iteration=P
 * and exits 0. */
#include <rvm/guest.h>

#define DEFAULT_ITERATIONS 1000000000ull

static void report(const char* loop, uint64_t n, uint64_t ns) {
    const uint64_t ps = n != 0 ? ns * 1000u / n : 0;
    rvm_logf("compute: loop=%s iterations=%lu ns=%lu ps_per_iteration=%lu (%lu.%03lu ns/iteration)\n", loop, n, ns,
             ps, ps / 1000u, ps % 1000u);
}

int main(const struct rvm_info* info, uint64_t task_index, uint64_t arg) {
    (void)info;
    (void)task_index;
    const uint64_t n = arg != 0 ? arg : DEFAULT_ITERATIONS;

    uint64_t count = n;
    uint64_t t0 = rvm_clock_ns();
    __asm__ volatile("1:\n\tdec %0\n\tjnz 1b" : "+r"(count) : : "cc");
    uint64_t t1 = rvm_clock_ns();
    report("decjnz", n, t1 - t0);

    uint64_t x = 1;
    t0 = rvm_clock_ns();
    for (uint64_t i = 0; i < n; ++i) {
        x = x * 6364136223846793005ull + 1442695040888963407ull;
        __asm__ volatile("" : "+r"(x)); /* one multiply-add per iteration, no closed form */
    }
    t1 = rvm_clock_ns();
    report("lcg", n, t1 - t0);
    rvm_logf("compute: lcg result 0x%lx\n", x);
    return 0;
}
