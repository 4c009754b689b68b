/* Receiver of the demo edge: checks every message, then tries to write the
 * sender's page, which stage 2 maps read-only here: that write must fail
 * this partition (each side writes only what it owns). */
#include <rvm/edge.h>

#include "common.h"

#define MESSAGES 64u

int main(uint64_t window, uint64_t capacity) {
    struct rvm_edge e;
    if (rvm_edge_attach(&e, (void*)(uintptr_t)window, capacity, RVM_EDGE_RECEIVER, 0) != 0) return 2;
    uint32_t bad = 0;
    for (uint32_t i = 0; i < MESSAGES;) {
        uint32_t msg[16];
        const rvm_ret_t r = rvm_edge_recv(&e, msg, sizeof msg);
        if (r == (rvm_ret_t)sizeof msg) {
            for (uint32_t j = 0; j < 16; ++j) bad += msg[j] != i * 16u + j;
            ++i;
        } else if (r == 0 || rvm_error_status(r) == RVM_E_EXHAUSTED || rvm_error_status(r) == RVM_E_BUSY) {
            rvm_yield();
        } else {
            rvm_logf("edge_rx: recv failed ret=%d", (int)r);
            return 3;
        }
    }
    rvm_logf("edge_rx: received %u messages, %u bad", MESSAGES, bad);
    rvm_log_str("edge_rx: now writing the sender's tx page (read-only here)");
    e.tx->prod = 0;
    rvm_log_str("edge_rx: write to the peer's page went through (must not happen)");
    return bad == 0 ? 0 : 1;
}
