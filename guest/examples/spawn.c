/* agent_spawn: task 0 spawns a second task and waits for it through memory.
 *
 * Task 0 calls rvm_task_spawn(self_cap, worker, 0x5eed). The worker (task 1)
 * logs, then stores arg ^ 0xc0ffee into a shared global and returns (exit 0).
 * Task 0 yields until it sees the value, logs it and exits 0.
 * Log lines, in order:
 *   spawn: task 0 spawned task cap 0x...
 *   spawn: task 1 got arg 0x5eed, writing 0xc0a103
 *   spawn: task 0 saw 0xc0a103 after N yields
 * Exit codes of task 0: 0 ok; 1 task_spawn failed; 2 no value within 10 s;
 * 3 wrong value. */
#include <rvm/guest.h>

#define SPAWN_ARG 0x5eedull
#define EXPECTED (SPAWN_ARG ^ 0xc0ffeeull)
#define TIMEOUT_NS 10000000000ull

static uint64_t shared_value; /* written by task 1, read by task 0 */

static void worker(const struct rvm_info* info, uint64_t task_index, uint64_t arg) {
    (void)info;
    const uint64_t v = arg ^ 0xc0ffeeull;
    rvm_logf("spawn: task %lu got arg 0x%lx, writing 0x%lx\n", task_index, arg, v);
    __atomic_store_n(&shared_value, v, __ATOMIC_RELEASE);
    /* returning ends this task with exit code 0 (SDK trampoline) */
}

int main(const struct rvm_info* info, uint64_t task_index) {
    (void)task_index;
    const rvm_ret_t cap = rvm_task_spawn(info->self_cap, worker, SPAWN_ARG);
    if (rvm_is_error(cap)) {
        rvm_logf("spawn: task_spawn failed: status %u arg %u\n", rvm_error_status(cap), rvm_error_arg(cap));
        return 1;
    }
    rvm_logf("spawn: task 0 spawned task cap 0x%lx\n", (uint64_t)cap);

    const uint64_t start = rvm_clock_ns();
    uint64_t yields = 0;
    uint64_t v;
    while ((v = __atomic_load_n(&shared_value, __ATOMIC_ACQUIRE)) == 0) {
        if (rvm_clock_ns() - start > TIMEOUT_NS) {
            rvm_logf("spawn: task 0 timed out after %lu yields\n", yields);
            return 2;
        }
        rvm_yield();
        ++yields;
    }
    rvm_logf("spawn: task 0 saw 0x%lx after %lu yields\n", v, yields);
    return v == EXPECTED ? 0 : 3;
}
