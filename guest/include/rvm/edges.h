/* RVM guest SDK: an agent's CommEdges (abi/agent.h edge table, abi/edge.h
 * ring, rvm/edge.h send / recv / notifications): finds them in the info
 * page.
 *
 *   struct rvm_edge out;
 *   rvm_edge_open(&out, 0);            // edge 0 of this partition
 *   rvm_edge_send(&out, msg, len);     // no exit
 *   rvm_edge_kick(&out);               // a hypercall only if the peer sleeps
 */
#ifndef RVM_GUEST_EDGES_H
#define RVM_GUEST_EDGES_H

#include <rvm/edge.h>
#include <rvm/guest.h>

/* Edges this partition has (the host connected them before it started). */
static inline uint64_t rvm_edge_count(void) { return rvm_info_page()->edge_count; }

/* The info page's entry for edge `k` (NULL if there is none): its window,
 * capacity, role and zero-copy region (share, share_size, share_region). */
static inline const struct rvm_edge_entry* rvm_edge_entry(uint64_t k) {
    if (k >= rvm_edge_count() || k >= RVM_EDGE_MAX) return NULL;
    return RVM_RCAST(const struct rvm_edge_entry*, RVM_INFO_VA + RVM_INFO_EDGE_TABLE) + k;
}

/* Attaches `e` to edge `k` as the side the host made this partition:
 * RVM_E_INVALID arg 2 if there is no edge `k`; otherwise rvm_edge_attach's
 * result. */
static inline rvm_ret_t rvm_edge_open(struct rvm_edge* e, uint64_t k) {
    const struct rvm_edge_entry* t = rvm_edge_entry(k);
    if (t == NULL) return rvm_make_error(RVM_E_INVALID, 2);
    const uint32_t role = t->role == RVM_EDGE_ROLE_SENDER ? RVM_EDGE_SENDER : RVM_EDGE_RECEIVER;
    return rvm_edge_attach(e, RVM_RCAST(void*, t->window), t->capacity, role, t->cap);
}

/* Receiver: 1 if descriptor `d` names edge `k`'s zero-copy region and lies
 * inside it -- check before touching the bytes it points at. */
static inline int rvm_edge_desc_valid(uint64_t k, const struct rvm_edge_desc* d) {
    const struct rvm_edge_entry* t = rvm_edge_entry(k);
    return t != NULL && t->share != 0 && d->region == t->share_region && rvm_edge_desc_in_bounds(d, t->share_size);
}

#endif
