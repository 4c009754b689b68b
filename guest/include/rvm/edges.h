/* RVM guest SDK: an agent's CommEdges (abi/agent.h edge table, abi/edge.h
 * ring, rvm/edge.h send / recv). Include this instead of rvm/edge.h in an
 * agent: it enables the notification hypercalls.
 *
 *   struct rvm_edge out;
 *   rvm_edge_open(&out, 0);            // edge 0 of this partition
 *   rvm_edge_send(&out, msg, len);     // no exit
 *   rvm_edge_kick(&out);               // a hypercall only if the peer sleeps
 */
#ifndef RVM_GUEST_EDGES_H
#define RVM_GUEST_EDGES_H

#include <rvm/guest.h>

#define RVM_EDGE_HAVE_HYPERCALLS 1
#include <rvm/edge.h>

/* Edges this partition has (the host connected them before it started). */
static inline uint64_t rvm_edge_count(void) { return rvm_info_page()->edge_count; }

/* Attaches `e` to edge `k` as the side the host made this partition:
 * RVM_E_INVALID arg 2 if there is no edge `k`; otherwise rvm_edge_attach's
 * result. */
static inline rvm_ret_t rvm_edge_open(struct rvm_edge* e, uint64_t k) {
    if (k >= rvm_edge_count() || k >= RVM_EDGE_MAX) return rvm_make_error(RVM_E_INVALID, 2);
    const struct rvm_edge_entry* t = RVM_RCAST(const struct rvm_edge_entry*, RVM_INFO_VA + RVM_INFO_EDGE_TABLE);
    const uint32_t role = t[k].role == RVM_EDGE_ROLE_SENDER ? RVM_EDGE_SENDER : RVM_EDGE_RECEIVER;
    return rvm_edge_attach(e, RVM_RCAST(void*, t[k].window), t[k].capacity, role, t[k].cap);
}

#endif
