/* Writes to a guest-physical address nothing is mapped at: a stage-2 data
 * abort that must fail this partition and nothing else. */
#include "common.h"

int main(void) {
    rvm_log_str("fault: writing to unmapped IPA 0x20000000");
    *(volatile uint64_t*)(uintptr_t)0x20000000u = 1;
    rvm_log_str("fault: still alive (must not happen)");
    return 0;
}
