/* agent_exitcode: ends task 0 with exit code 7 (main's return value, passed
 * to RVM_HC_EXIT by _start). */
#include <rvm/guest.h>

int main(const struct rvm_info* info, uint64_t task_index) {
    (void)info;
    (void)task_index;
    rvm_log_str("exitcode: exiting with 7\n");
    return 7;
}
