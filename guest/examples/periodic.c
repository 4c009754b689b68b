/* agent_periodic: a periodic real-time task for the scheduler tests
 * (tests/integration/scheduler_test.cpp). The argument packs
 *   bits 0..15   N jobs
 *   bits 16..31  period (and relative deadline) in ms
 *   bits 32..47  work per job, in thousands of loop iterations
 * Job i is released at start + i * period; it runs its work (a fixed number
 * of iterations, so a job that is preempted takes longer in wall time) and
 * finishes late if that takes past the release + period. Between jobs it
 * waits for the next release by reading the clock. Logs
 *   periodic: N jobs, M missed, worst finish X us after release
 * and exits 0. */
#include <rvm/guest.h>

static uint64_t work(uint64_t iterations, uint64_t x) {
    for (uint64_t i = 0; i < iterations; ++i) x = x * 6364136223846793005ull + 1442695040888963407ull;
    return x;
}

static volatile uint64_t sink;

int main(const struct rvm_info* info, uint64_t task_index, uint64_t arg) {
    (void)info;
    (void)task_index;
    const uint64_t n = arg & 0xffffu;
    const uint64_t period = ((arg >> 16) & 0xffffu) * 1000000ull;
    const uint64_t iterations = ((arg >> 32) & 0xffffu) * 1000ull;
    const uint64_t t0 = rvm_clock_ns();
    uint64_t missed = 0, worst = 0, x = 1;
    for (uint64_t i = 0; i < n; ++i) {
        const uint64_t release = t0 + i * period;
        while (rvm_clock_ns() < release) {
        }
        x = work(iterations, x);
        const uint64_t finish = rvm_clock_ns() - release;
        if (finish > worst) worst = finish;
        if (finish > period) ++missed;
    }
    sink = x;
    rvm_logf("periodic: %lu jobs, %lu missed, worst finish %lu us after release\n", n, missed, worst / 1000u);
    return 0;
}
