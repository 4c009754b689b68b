/* Sender of the demo edge: 200 numbered messages through the shared ring
 * (abi/edge.h, rvm/edge.h). When the ring is full it sleeps in notify_wait
 * until the receiver signals space; after each send it kicks the receiver
 * if that one announced a wait. x0 = window, x1 = capacity, x2 = edge cap. */
#include <rvm/edge.h>

#include "common.h"

#define MESSAGES 200u
#define WAIT_NS 1000000000u

int main(uint64_t window, uint64_t capacity, uint64_t cap) {
    struct rvm_edge e;
    if (rvm_edge_attach(&e, (void*)(uintptr_t)window, capacity, RVM_EDGE_SENDER, cap) != 0) return 2;
    uint32_t waits = 0;
    for (uint32_t i = 0; i < MESSAGES;) {
        uint32_t msg[16];
        for (uint32_t j = 0; j < 16; ++j) msg[j] = i * 16u + j;
        const rvm_ret_t r = rvm_edge_send(&e, msg, sizeof msg);
        if (r >= 0) {
            ++i;
            if (rvm_is_error(rvm_edge_kick(&e))) return 4;
        } else if (rvm_error_status(r) == RVM_E_EXHAUSTED) {
            ++waits;
            if (rvm_is_error(rvm_edge_wait_space(&e, sizeof msg, WAIT_NS))) return 5;
        } else {
            rvm_logf("edge_tx: send failed status=%u", rvm_error_status(r));
            return 3;
        }
    }
    rvm_logf("edge_tx: sent %u messages, waited for space %u times", MESSAGES, waits);
    return 0;
}
