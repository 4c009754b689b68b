/* agent_loop: the guest half of the compute benchmark (bench/kvm_bench.cpp,
 * BM_Compute_*; the host-native half is BM_Native_* there, with the same
 * inline assembly: keep the two in step).
 *
 * N = task 0's start argument, or LOOP_DEFAULT_ITERATIONS if it is 0. Two
 * loops, each timed with rvm_clock_ns() around it:
 *   1. `dec; jnz` N times,
 *   2. an LCG x = x * a + c, N / 4 times (imul, add, dec, jnz per iteration).
 * Logs one line per loop, which the benchmark parses:
 *   loop: kind=decjnz iterations=N ns=T
 *   loop: kind=lcg iterations=M ns=T result=X
 * and exits 0. */
#include <rvm/guest.h>

#define LOOP_DEFAULT_ITERATIONS (1ull << 28)

/* n >= 1. */
static uint64_t loop_decjnz(uint64_t n) {
    __asm__ volatile(".p2align 4\n1:\n\tdec %0\n\tjnz 1b" : "+r"(n) : : "cc");
    return n;
}

/* n >= 1. */
static uint64_t loop_lcg(uint64_t n, uint64_t x) {
    const uint64_t a = 6364136223846793005ull;
    const uint64_t c = 1442695040888963407ull;
    __asm__ volatile(".p2align 4\n1:\n\timul %[a], %[x]\n\tadd %[c], %[x]\n\tdec %[n]\n\tjnz 1b"
                     : [x] "+r"(x), [n] "+r"(n)
                     : [a] "r"(a), [c] "r"(c)
                     : "cc");
    return x;
}

int main(const struct rvm_info* info, uint64_t task_index, uint64_t arg) {
    (void)info;
    (void)task_index;
    const uint64_t n = arg != 0 ? arg : LOOP_DEFAULT_ITERATIONS;

    uint64_t t0 = rvm_clock_ns();
    (void)loop_decjnz(n);
    uint64_t t1 = rvm_clock_ns();
    rvm_logf("loop: kind=decjnz iterations=%lu ns=%lu\n", n, t1 - t0);

    const uint64_t m = n / 4 != 0 ? n / 4 : 1;
    t0 = rvm_clock_ns();
    const uint64_t x = loop_lcg(m, 1);
    t1 = rvm_clock_ns();
    rvm_logf("loop: kind=lcg iterations=%lu ns=%lu result=0x%lx\n", m, t1 - t0, x);
    return 0;
}
