/* agent_null: the guest half of the null-hypercall round-trip benchmark
 * (bench/kvm_bench.cpp, BM_Hypercall*).
 *
 * Performs N RVM_HC_CLOCK calls in a loop and exits 0. N = task 0's start
 * argument, or NULL_DEFAULT_CALLS if it is 0. RVM_HC_CLOCK is the cheapest
 * call RVM serves (no nucleus lock, no guest memory access), so the loop
 * measures the exit, the dispatch and the re-entry and little else. The
 * first instruction that leaves the guest is the first of these calls, which
 * is what the spawn benchmark waits for. */
#include <rvm/guest.h>

#define NULL_DEFAULT_CALLS 10000ull

int main(const struct rvm_info* info, uint64_t task_index, uint64_t arg) {
    (void)info;
    (void)task_index;
    const uint64_t n = arg != 0 ? arg : NULL_DEFAULT_CALLS;
    for (uint64_t i = 0; i < n; ++i) (void)rvm_hypercall0(RVM_HC_CLOCK);
    return 0;
}
