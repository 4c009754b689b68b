/* agent_hello: logs who it is and exits 0.
 * Exit codes: 0 ok; 2 the info page is wrong (bad magic or ABI major);
 * 3 RVM_HC_INFO failed or disagrees with the info page. */
#include <rvm/guest.h>

int main(const struct rvm_info* info, uint64_t task_index) {
    if (info != rvm_info_page() || info->magic != RVM_INFO_MAGIC ||
        (info->abi_version >> 16) != RVM_ABI_VERSION_MAJOR) {
        rvm_log_str("hello: bad info page\n");
        return 2;
    }
    struct rvm_info copy;
    const rvm_ret_t n = rvm_info(&copy);
    if (n != (rvm_ret_t)sizeof copy || copy.magic != info->magic || copy.partition != info->partition ||
        copy.self_cap != info->self_cap || copy.memory_size != info->memory_size) {
        rvm_logf("hello: RVM_HC_INFO returned %ld and a different copy\n", (long)n);
        return 3;
    }
    rvm_logf("hello from task %lu of partition 0x%lx (abi %u.%u, memory %lu KiB, heap 0x%lx-0x%lx, %lu tasks max)\n",
             task_index, info->partition, info->abi_version >> 16, info->abi_version & 0xffffu,
             info->memory_size >> 10, info->heap_start, info->heap_end, info->max_tasks);
    return 0;
}
