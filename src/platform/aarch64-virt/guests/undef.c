/* Executes a permanently undefined instruction: the default EL1 vectors
 * report it and the partition fails. */
#include "common.h"

int main(void) {
    rvm_log_str("undef: executing udf #0");
    __asm__ volatile("udf #0");
    rvm_log_str("undef: still alive (must not happen)");
    return 0;
}
