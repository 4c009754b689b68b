/* agent_spin: logs where its counter lives, then increments it forever with
 * no hypercall in the loop. The host reads the counter from guest memory to
 * see whether the partition is running: it must advance while running, stop
 * while suspended, and the partition only ends when the host stops it (or its
 * wall time runs out).
 * Log line (once, before the loop):
 *   spin: counter at 0x<address>
 * Never exits. */
#include <rvm/guest.h>

static volatile uint64_t counter; /* in .bss: R+W, inside the image */

int main(const struct rvm_info* info, uint64_t task_index) {
    (void)info;
    (void)task_index;
    rvm_logf("spin: counter at 0x%lx\n", (uint64_t)(uintptr_t)&counter);
    for (;;) counter = counter + 1;
}
