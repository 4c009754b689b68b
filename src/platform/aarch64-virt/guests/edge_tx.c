/* Sender of the demo edge: 64 numbered messages through the shared ring
 * (abi/edge.h, rvm/edge.h), yielding while the ring is full. */
#include <rvm/edge.h>

#include "common.h"

#define MESSAGES 64u

int main(uint64_t window, uint64_t capacity) {
    struct rvm_edge e;
    if (rvm_edge_attach(&e, (void*)(uintptr_t)window, capacity, RVM_EDGE_SENDER, 0) != 0) return 2;
    for (uint32_t i = 0; i < MESSAGES;) {
        uint32_t msg[16];
        for (uint32_t j = 0; j < 16; ++j) msg[j] = i * 16u + j;
        const rvm_ret_t r = rvm_edge_send(&e, msg, sizeof msg);
        if (r >= 0) {
            ++i;
        } else if (rvm_error_status(r) == RVM_E_EXHAUSTED || rvm_error_status(r) == RVM_E_BUSY) {
            rvm_yield();
        } else {
            rvm_logf("edge_tx: send failed status=%u", rvm_error_status(r));
            return 3;
        }
    }
    rvm_logf("edge_tx: sent %u messages", MESSAGES);
    return 0;
}
