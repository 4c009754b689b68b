/* Receiver of the demo edge: sleeps in notify_wait while the ring is empty,
 * checks every message, kicks the sender when it waits for space. Then it
 * tries to write the sender's page, which stage 2 maps read-only here: that
 * write must fail this partition (each side writes only what it owns). */
#include <rvm/edge.h>

#include "common.h"

#define MESSAGES 200u
#define WAIT_NS 1000000000u

int main(uint64_t window, uint64_t capacity, uint64_t cap) {
    struct rvm_edge e;
    if (rvm_edge_attach(&e, (void*)(uintptr_t)window, capacity, RVM_EDGE_RECEIVER, cap) != 0) return 2;
    uint32_t bad = 0, waits = 0;
    for (uint32_t i = 0; i < MESSAGES;) {
        uint32_t msg[16];
        const rvm_ret_t r = rvm_edge_recv(&e, msg, sizeof msg);
        if (r == (rvm_ret_t)sizeof msg) {
            for (uint32_t j = 0; j < 16; ++j) bad += msg[j] != i * 16u + j;
            ++i;
            if (rvm_is_error(rvm_edge_kick(&e))) return 4;
        } else if (r == 0) {
            ++waits;
            const rvm_ret_t w = rvm_edge_wait_data(&e, WAIT_NS);
            if (rvm_is_error(w)) return 5;
        } else {
            rvm_logf("edge_rx: recv failed ret=%d", (int)r);
            return 3;
        }
    }
    rvm_logf("edge_rx: received %u messages, %u bad, waited for data %u times", MESSAGES, bad, waits);
    rvm_log_str("edge_rx: now writing the sender's tx page (read-only here)");
    e.tx->prod = 0;
    rvm_log_str("edge_rx: write to the peer's page went through (must not happen)");
    return bad == 0 ? 0 : 1;
}
