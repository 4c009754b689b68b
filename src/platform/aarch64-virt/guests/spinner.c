/* Spins for 300 ms of counter time without a single hypercall: only the
 * hypervisor's timer can take the CPU away from it. */
#include "common.h"

int main(void) {
    const uint64_t start = bm_ticks();
    const uint64_t span = bm_ticks_hz() * 3 / 10;
    volatile uint64_t spins = 0;
    while (bm_ticks() - start < span) spins = spins + 1;
    rvm_logf("spinner done: spun %u ms without a hypercall", (unsigned)(bm_ticks_to_ns(bm_ticks() - start) / 1000000u));
    return 0;
}
