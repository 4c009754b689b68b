/* Logs, then asks the nucleus for a call it does not implement yet and for
 * one that does not exist, and checks the statuses. */
#include "common.h"

int main(void) {
    rvm_log_str("hello from an EL1 partition");
    const rvm_ret_t merge = rvm_hypercall0(RVM_HC_PARTITION_MERGE);
    const rvm_ret_t bogus = rvm_hypercall0(0x7777);
    rvm_logf("nucleus says: merge status=%u unknown-call status=%u", rvm_error_status(merge),
             rvm_error_status(bogus));
    if (rvm_error_status(merge) != RVM_E_NOT_SUPPORTED || rvm_error_status(bogus) != RVM_E_UNKNOWN_CALL) return 1;
    for (int i = 0; i < 3; ++i) rvm_yield();
    rvm_log_str("hello done");
    return 0;
}
