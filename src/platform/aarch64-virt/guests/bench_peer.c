/* The other side of the partition-switch benchmark: yields x0 times. */
#include "common.h"

int main(uint64_t n) {
    for (uint64_t i = 0; i < n; ++i) rvm_yield();
    return 0;
}
