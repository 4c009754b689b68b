/* RVM guest SDK: CommEdge rings (layout and rules in src/abi/edge.h and
 * docs/edges-and-scheduling.md).
 *
 * Freestanding C11 / C++20, static inline, no libc beyond what the compiler
 * may emit for __builtin_memcpy / __builtin_memset (the guest runtime provides
 * both). Usable from agents at CPL3 and from host C++ (tests, the host's own
 * view of a ring). Each side keeps a private struct rvm_edge; the ring is
 * single producer, single consumer: one task sends, one task receives.
 *
 * Trust. Everything the peer writes is hostile. The receiver re-reads `prod`
 * once per call and checks 0 <= prod - cons <= capacity; it reads each record
 * header once, checks type, flags, length and bounds before it copies, and
 * does O(1) record work per call (at most one PAD and one record). The sender
 * checks `cons` the same way, so a lying receiver can neither make it
 * overwrite unread data nor loop. A broken invariant is RVM_E_FAULT: the peer
 * misbehaved; the caller decides (drop the edge, report it).
 *
 * Results (rvm_ret_t, abi/status.h): >= 0 success; < 0 RVM error code with
 * the 1-based argument at fault:
 *   RVM_E_FAULT       the peer's index or a record is corrupt
 *   RVM_E_EXHAUSTED   send: not enough free space now (try again later)
 *   RVM_E_INVALID     bad argument (length 0 or too long, buffer too small)
 *   RVM_E_WRONG_TYPE  recv: the next record is a descriptor (or vice versa)
 *   RVM_E_RIGHTS      the call does not match the side this handle attached as
 *   RVM_E_STATE       the host destroyed the edge */
#ifndef RVM_GUEST_EDGE_H
#define RVM_GUEST_EDGE_H

#include <stddef.h>
#include <stdint.h>

#include "abi/edge.h"
#include "abi/hypercall.h"
#include "abi/status.h"

#if defined(__x86_64__) || defined(__aarch64__)
#include "guest.h" /* hypercall transport for the notification helpers */
#define RVM_EDGE_HAVE_HYPERCALLS 1
#endif

#ifdef __cplusplus
#define RVM_EDGE_SCAST(T, x) static_cast<T>(x)
#define RVM_EDGE_RCAST(T, x) reinterpret_cast<T>(x)
extern "C" {
#else
#define RVM_EDGE_SCAST(T, x) ((T)(x))
#define RVM_EDGE_RCAST(T, x) ((T)(x))
#endif

enum rvm_edge_role { RVM_EDGE_SENDER = 0, RVM_EDGE_RECEIVER = 1 };

/* One side's private view of an edge. Keep it in private memory. */
struct rvm_edge {
    struct rvm_edge_tx_page* tx;
    uint64_t* data; /* capacity bytes, 8-byte words */
    struct rvm_edge_rx_page* rx;
    uint64_t capacity; /* from the host, never from the shared pages */
    uint64_t prod;     /* sender: next producer index */
    uint64_t cons;     /* receiver: next consumer index */
    uint64_t cap;      /* the edge capability (notification hypercalls) */
    uint32_t role;     /* enum rvm_edge_role */
    uint32_t reserved;
};

static inline rvm_ret_t rvm_edge__err(uint32_t status, uint32_t arg) {
    return -(RVM_EDGE_SCAST(rvm_ret_t, status) | (RVM_EDGE_SCAST(rvm_ret_t, arg) << 8));
}

static inline uint64_t rvm_edge__rec_size(uint64_t len) { return (RVM_EDGE_REC_HDR + len + 7u) & ~7ull; }

static inline uint64_t rvm_edge__header(uint64_t len, uint32_t type) {
    return len | (RVM_EDGE_SCAST(uint64_t, type) << 32);
}

/* 1 if `capacity` is a power of two in [RVM_EDGE_MIN_CAPACITY, RVM_EDGE_MAX_CAPACITY]. */
static inline int rvm_edge_capacity_valid(uint64_t capacity) {
    return capacity >= RVM_EDGE_MIN_CAPACITY && capacity <= RVM_EDGE_MAX_CAPACITY && (capacity & (capacity - 1u)) == 0;
}

/* Formats a fresh window of RVM_EDGE_WINDOW_SIZE(capacity) bytes (what the
 * host does when it creates the edge): zeroes both pages and writes magic,
 * version and capacity. The data area is left as it is. */
static inline rvm_ret_t rvm_edge_format(void* window, uint64_t capacity) {
    if (window == NULL || (RVM_EDGE_RCAST(uintptr_t, window) & (RVM_EDGE_ALIGN - 1u)) != 0)
        return rvm_edge__err(RVM_E_FAULT, 1);
    if (!rvm_edge_capacity_valid(capacity)) return rvm_edge__err(RVM_E_INVALID, 2);
    /* SAFETY: `window` is 8-byte aligned (checked) and spans the whole layout
     * (the caller's contract); the pages sit at fixed offsets inside it. */
    const uintptr_t base = RVM_EDGE_RCAST(uintptr_t, window);
    struct rvm_edge_tx_page* tx = RVM_EDGE_RCAST(struct rvm_edge_tx_page*, base + RVM_EDGE_TX_OFFSET);
    __builtin_memset(tx, 0, sizeof *tx);
    __builtin_memset(RVM_EDGE_RCAST(void*, base + RVM_EDGE_RX_OFFSET(capacity)), 0, sizeof(struct rvm_edge_rx_page));
    tx->magic = RVM_EDGE_MAGIC;
    tx->version = RVM_EDGE_VERSION;
    tx->capacity = capacity;
    return 0;
}

/* Attaches to a formatted window as `role`. `capacity` must be the value the
 * host gave (it is compared once against the header; later calls never read
 * the header again). The private index starts from the own page. */
static inline rvm_ret_t rvm_edge_attach(struct rvm_edge* e, void* window, uint64_t capacity, uint32_t role,
                                        uint64_t edge_cap) {
    if (window == NULL || (RVM_EDGE_RCAST(uintptr_t, window) & (RVM_EDGE_ALIGN - 1u)) != 0)
        return rvm_edge__err(RVM_E_FAULT, 2);
    if (!rvm_edge_capacity_valid(capacity)) return rvm_edge__err(RVM_E_INVALID, 3);
    if (role != RVM_EDGE_SENDER && role != RVM_EDGE_RECEIVER) return rvm_edge__err(RVM_E_INVALID, 4);
    /* SAFETY: as in rvm_edge_format. */
    const uintptr_t base = RVM_EDGE_RCAST(uintptr_t, window);
    e->tx = RVM_EDGE_RCAST(struct rvm_edge_tx_page*, base + RVM_EDGE_TX_OFFSET);
    e->data = RVM_EDGE_RCAST(uint64_t*, base + RVM_EDGE_DATA_OFFSET);
    e->rx = RVM_EDGE_RCAST(struct rvm_edge_rx_page*, base + RVM_EDGE_RX_OFFSET(capacity));
    e->capacity = capacity;
    e->cap = edge_cap;
    e->role = role;
    e->reserved = 0;
    if (__atomic_load_n(&e->tx->magic, __ATOMIC_RELAXED) != RVM_EDGE_MAGIC ||
        __atomic_load_n(&e->tx->version, __ATOMIC_RELAXED) != RVM_EDGE_VERSION ||
        __atomic_load_n(&e->tx->capacity, __ATOMIC_RELAXED) != capacity)
        return rvm_edge__err(RVM_E_INVALID, 2);
    e->prod = __atomic_load_n(&e->tx->prod, __ATOMIC_RELAXED);
    e->cons = __atomic_load_n(&e->rx->cons, __ATOMIC_RELAXED);
    if (role == RVM_EDGE_SENDER && (e->prod & (RVM_EDGE_ALIGN - 1u)) != 0) return rvm_edge__err(RVM_E_FAULT, 2);
    if (role == RVM_EDGE_RECEIVER && (e->cons & (RVM_EDGE_ALIGN - 1u)) != 0) return rvm_edge__err(RVM_E_FAULT, 2);
    return 0;
}

/* ---------------------------------------------------------------------------
 * Sender.
 * ------------------------------------------------------------------------- */

/* 1 once the host has destroyed the edge (read from the own page, which the
 * peer cannot write). */
static inline int rvm_edge_closed(const struct rvm_edge* e) {
    const uint64_t* c = e->role == RVM_EDGE_SENDER ? &e->tx->closed : &e->rx->closed;
    return __atomic_load_n(c, __ATOMIC_ACQUIRE) != 0;
}

/* Sender, role checked by the caller: free bytes, RVM_E_STATE (closed) or
 * RVM_E_FAULT (the receiver's index is corrupt). */
static inline rvm_ret_t rvm_edge__free(const struct rvm_edge* e) {
    if (rvm_edge_closed(e)) return rvm_edge__err(RVM_E_STATE, 0);
    const uint64_t used = e->prod - __atomic_load_n(&e->rx->cons, __ATOMIC_ACQUIRE);
    if (used > e->capacity) return rvm_edge__err(RVM_E_FAULT, 0);
    return RVM_EDGE_SCAST(rvm_ret_t, e->capacity - used);
}

/* 1 if a record of `rec` bytes fits in `avail` free bytes now: before the
 * end of the data area, or after a PAD that fills it. */
static inline int rvm_edge__fits(const struct rvm_edge* e, uint64_t rec, uint64_t avail) {
    const uint64_t tail = e->capacity - (e->prod & (e->capacity - 1u));
    return rec > tail ? tail + rec <= avail : rec <= avail;
}

/* Free bytes in the ring (records need RVM_EDGE_REC_SIZE(len), plus a PAD
 * when they would wrap), or RVM_E_FAULT if the receiver's index is corrupt. */
static inline rvm_ret_t rvm_edge_space(const struct rvm_edge* e) {
    if (e->role != RVM_EDGE_SENDER) return rvm_edge__err(RVM_E_RIGHTS, 1);
    return rvm_edge__free(e);
}

/* Finds room for a record of `rec` bytes, writing a PAD first if it would
 * wrap. Returns 0 and the data offset, RVM_E_EXHAUSTED or RVM_E_FAULT. */
static inline rvm_ret_t rvm_edge__reserve(struct rvm_edge* e, uint64_t rec, uint64_t* off_out) {
    const rvm_ret_t free_bytes = rvm_edge__free(e);
    if (free_bytes < 0) return free_bytes;
    if (!rvm_edge__fits(e, rec, RVM_EDGE_SCAST(uint64_t, free_bytes))) return rvm_edge__err(RVM_E_EXHAUSTED, 0);
    const uint64_t cap = e->capacity;
    uint64_t off = e->prod & (cap - 1u);
    const uint64_t tail = cap - off;
    if (rec > tail) {
        __atomic_store_n(&e->data[off / 8u], rvm_edge__header(tail - RVM_EDGE_REC_HDR, RVM_EDGE_REC_PAD),
                         __ATOMIC_RELAXED);
        e->prod += tail;
        off = 0;
    }
    *off_out = off;
    return 0;
}

/* Writes one record at `off` and publishes it (and any PAD before it). */
static inline void rvm_edge__commit(struct rvm_edge* e, uint64_t off, uint32_t type, const void* payload,
                                    uint64_t len) {
    const uint64_t rec = rvm_edge__rec_size(len);
    e->data[(off + rec) / 8u - 1u] = 0; /* zero the alignment tail; the payload overwrites its head */
    __builtin_memcpy(e->data + off / 8u + 1u, payload, len);
    __atomic_store_n(&e->data[off / 8u], rvm_edge__header(len, type), __ATOMIC_RELAXED);
    e->prod += rec;
    struct rvm_edge_tx_page* tx = e->tx;
    if (type == RVM_EDGE_REC_DATA) {
        __atomic_store_n(&tx->bytes_sent, __atomic_load_n(&tx->bytes_sent, __ATOMIC_RELAXED) + len, __ATOMIC_RELAXED);
    } else {
        __atomic_store_n(&tx->descs_sent, __atomic_load_n(&tx->descs_sent, __ATOMIC_RELAXED) + 1u, __ATOMIC_RELAXED);
    }
    __atomic_store_n(&tx->msgs_sent, __atomic_load_n(&tx->msgs_sent, __ATOMIC_RELAXED) + 1u, __ATOMIC_RELAXED);
    __atomic_store_n(&tx->prod, e->prod, __ATOMIC_RELEASE);
}

/* Sends `len` (1..RVM_EDGE_MAX_PAYLOAD(capacity)) bytes. Returns 0,
 * RVM_E_EXHAUSTED (arg 0) when the ring has no room now, RVM_E_INVALID arg 3
 * for a bad length, RVM_E_FAULT if the receiver's index is corrupt. */
static inline rvm_ret_t rvm_edge_send(struct rvm_edge* e, const void* msg, uint64_t len) {
    if (e->role != RVM_EDGE_SENDER) return rvm_edge__err(RVM_E_RIGHTS, 1);
    if (len == 0 || len > RVM_EDGE_MAX_PAYLOAD(e->capacity)) return rvm_edge__err(RVM_E_INVALID, 3);
    if (msg == NULL) return rvm_edge__err(RVM_E_FAULT, 2);
    uint64_t off = 0;
    const rvm_ret_t r = rvm_edge__reserve(e, rvm_edge__rec_size(len), &off);
    if (r < 0) return r;
    rvm_edge__commit(e, off, RVM_EDGE_REC_DATA, msg, len);
    return 0;
}

/* Sends a zero-copy descriptor (the region must already be shared with the
 * receiver). Same results as rvm_edge_send. */
static inline rvm_ret_t rvm_edge_send_desc(struct rvm_edge* e, const struct rvm_edge_desc* d) {
    if (e->role != RVM_EDGE_SENDER) return rvm_edge__err(RVM_E_RIGHTS, 1);
    if (d == NULL) return rvm_edge__err(RVM_E_FAULT, 2);
    uint64_t off = 0;
    const rvm_ret_t r = rvm_edge__reserve(e, rvm_edge__rec_size(sizeof *d), &off);
    if (r < 0) return r;
    rvm_edge__commit(e, off, RVM_EDGE_REC_DESC, d, sizeof *d);
    return 0;
}

/* ---------------------------------------------------------------------------
 * Receiver. Every value read from the tx page or the data area is checked.
 * ------------------------------------------------------------------------- */

static inline void rvm_edge__publish_cons(struct rvm_edge* e) {
    __atomic_store_n(&e->rx->cons, e->cons, __ATOMIC_RELEASE);
}

/* Bytes published and not yet consumed (PADs and headers included), or
 * RVM_E_FAULT if the sender's index is out of range. */
static inline rvm_ret_t rvm_edge__published(const struct rvm_edge* e) {
    if (rvm_edge_closed(e)) return rvm_edge__err(RVM_E_STATE, 0);
    const uint64_t avail = __atomic_load_n(&e->tx->prod, __ATOMIC_ACQUIRE) - e->cons;
    if (avail > e->capacity || (avail & (RVM_EDGE_ALIGN - 1u)) != 0) return rvm_edge__err(RVM_E_FAULT, 0);
    return RVM_EDGE_SCAST(rvm_ret_t, avail);
}

static inline rvm_ret_t rvm_edge_poll(const struct rvm_edge* e) {
    if (e->role != RVM_EDGE_RECEIVER) return rvm_edge__err(RVM_E_RIGHTS, 1);
    return rvm_edge__published(e);
}

/* The next record, validated, not consumed (a PAD in front of it is): its
 * payload length (> 0) with *type and *off (data offset of its header),
 * 0 if the ring is empty, or RVM_E_FAULT. Reads `prod` once, at most two
 * record headers, each once. */
static inline rvm_ret_t rvm_edge__next(struct rvm_edge* e, uint32_t* type, uint64_t* off_out) {
    const rvm_ret_t published = rvm_edge__published(e);
    if (published <= 0) return published;
    const uint64_t cap = e->capacity;
    uint64_t avail = RVM_EDGE_SCAST(uint64_t, published);
    uint64_t off = e->cons & (cap - 1u);
    uint64_t h = __atomic_load_n(&e->data[off / 8u], __ATOMIC_RELAXED);
    if (RVM_EDGE_SCAST(uint32_t, (h >> 32) & 0xffffu) == RVM_EDGE_REC_PAD && (h >> 48) == 0) {
        const uint64_t pad = rvm_edge__rec_size(h & 0xffffffffu);
        if (off == 0 || off + pad != cap || pad > avail) return rvm_edge__err(RVM_E_FAULT, 0);
        e->cons += pad;
        rvm_edge__publish_cons(e);
        avail -= pad;
        if (avail == 0) return 0;
        off = 0;
        h = __atomic_load_n(&e->data[0], __ATOMIC_RELAXED);
    }
    const uint64_t len = h & 0xffffffffu;
    const uint32_t t = RVM_EDGE_SCAST(uint32_t, (h >> 32) & 0xffffu);
    if ((h >> 48) != 0 || (t != RVM_EDGE_REC_DATA && t != RVM_EDGE_REC_DESC) || len == 0)
        return rvm_edge__err(RVM_E_FAULT, 0);
    if (t == RVM_EDGE_REC_DESC && len != sizeof(struct rvm_edge_desc)) return rvm_edge__err(RVM_E_FAULT, 0);
    const uint64_t rec = rvm_edge__rec_size(len);
    if (rec > avail || rec > RVM_EDGE_MAX_RECORD(cap) || off + rec > cap) return rvm_edge__err(RVM_E_FAULT, 0);
    *type = t;
    *off_out = off;
    return RVM_EDGE_SCAST(rvm_ret_t, len);
}

static inline void rvm_edge__consume(struct rvm_edge* e, uint64_t len, uint32_t type) {
    struct rvm_edge_rx_page* rx = e->rx;
    e->cons += rvm_edge__rec_size(len);
    if (type == RVM_EDGE_REC_DATA) {
        __atomic_store_n(&rx->bytes_received, __atomic_load_n(&rx->bytes_received, __ATOMIC_RELAXED) + len,
                         __ATOMIC_RELAXED);
    }
    __atomic_store_n(&rx->msgs_received, __atomic_load_n(&rx->msgs_received, __ATOMIC_RELAXED) + 1u, __ATOMIC_RELAXED);
    rvm_edge__publish_cons(e);
}

/* The next record's payload length (> 0) and type (enum rvm_edge_rec_type),
 * without consuming it; 0 if empty; RVM_E_FAULT. */
static inline rvm_ret_t rvm_edge_peek(struct rvm_edge* e, uint32_t* type) {
    if (e->role != RVM_EDGE_RECEIVER) return rvm_edge__err(RVM_E_RIGHTS, 1);
    uint32_t t = 0;
    uint64_t off = 0;
    const rvm_ret_t n = rvm_edge__next(e, &t, &off);
    if (n > 0 && type != NULL) *type = t;
    return n;
}

/* Copies the next DATA message into `buf` and consumes it. Returns its length
 * (> 0), 0 if the ring is empty, RVM_E_INVALID arg 3 if `buf_len` is too
 * small (the message stays; rvm_edge_peek tells its length),
 * RVM_E_WRONG_TYPE if the next record is a descriptor, or RVM_E_FAULT. The
 * payload is copied as the sender left it; only its bounds are guaranteed. */
static inline rvm_ret_t rvm_edge_recv(struct rvm_edge* e, void* buf, uint64_t buf_len) {
    if (e->role != RVM_EDGE_RECEIVER) return rvm_edge__err(RVM_E_RIGHTS, 1);
    uint32_t t = 0;
    uint64_t off = 0;
    const rvm_ret_t n = rvm_edge__next(e, &t, &off);
    if (n <= 0) return n;
    if (t != RVM_EDGE_REC_DATA) return rvm_edge__err(RVM_E_WRONG_TYPE, 0);
    const uint64_t len = RVM_EDGE_SCAST(uint64_t, n);
    if (buf == NULL) return rvm_edge__err(RVM_E_FAULT, 2);
    if (buf_len < len) return rvm_edge__err(RVM_E_INVALID, 3);
    __builtin_memcpy(buf, e->data + off / 8u + 1u, len);
    rvm_edge__consume(e, len, t);
    return n;
}

/* Copies the next descriptor into `out` and consumes it. Returns
 * sizeof(struct rvm_edge_desc), 0 if empty, RVM_E_WRONG_TYPE if the next
 * record is DATA, or RVM_E_FAULT. Check the range with
 * rvm_edge_desc_in_bounds before using it. */
static inline rvm_ret_t rvm_edge_recv_desc(struct rvm_edge* e, struct rvm_edge_desc* out) {
    if (e->role != RVM_EDGE_RECEIVER) return rvm_edge__err(RVM_E_RIGHTS, 1);
    uint32_t t = 0;
    uint64_t off = 0;
    const rvm_ret_t n = rvm_edge__next(e, &t, &off);
    if (n <= 0) return n;
    if (t != RVM_EDGE_REC_DESC) return rvm_edge__err(RVM_E_WRONG_TYPE, 0);
    if (out == NULL) return rvm_edge__err(RVM_E_FAULT, 2);
    __builtin_memcpy(out, e->data + off / 8u + 1u, sizeof *out);
    rvm_edge__consume(e, sizeof *out, t);
    return n;
}

/* Drops the next record of any type; returns its payload length, 0 if empty,
 * or RVM_E_FAULT. */
static inline rvm_ret_t rvm_edge_discard(struct rvm_edge* e) {
    if (e->role != RVM_EDGE_RECEIVER) return rvm_edge__err(RVM_E_RIGHTS, 1);
    uint32_t t = 0;
    uint64_t off = 0;
    const rvm_ret_t n = rvm_edge__next(e, &t, &off);
    if (n > 0) rvm_edge__consume(e, RVM_EDGE_SCAST(uint64_t, n), t);
    return n;
}

/* 1 if [offset, offset + length) lies inside a region of `region_bytes`. */
static inline int rvm_edge_desc_in_bounds(const struct rvm_edge_desc* d, uint64_t region_bytes) {
    return RVM_EDGE_SCAST(uint64_t, d->offset) <= region_bytes &&
           RVM_EDGE_SCAST(uint64_t, d->length) <= region_bytes - d->offset;
}

/* ---------------------------------------------------------------------------
 * Notification words (abi/edge.h). No hypercall in this part.
 * ------------------------------------------------------------------------- */

/* The own side's notification word. */
static inline uint64_t* rvm_edge__own_notify(const struct rvm_edge* e) {
    return e->role == RVM_EDGE_SENDER ? &e->tx->notify : &e->rx->notify;
}

/* Clears and returns the own signal bits selected by `mask`. */
static inline uint64_t rvm_edge_take_signals(const struct rvm_edge* e, uint64_t mask) {
    return __atomic_fetch_and(rvm_edge__own_notify(e), ~mask, __ATOMIC_ACQ_REL) & mask;
}

/* After publishing (send / recv): 1 if the peer announced that it is about to
 * wait, i.e. a RVM_HC_NOTIFY_SIGNAL is needed to wake it. */
static inline int rvm_edge_peer_waiting(const struct rvm_edge* e) {
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    const uint32_t* want = e->role == RVM_EDGE_SENDER ? &e->rx->want : &e->tx->want;
    return __atomic_load_n(want, __ATOMIC_RELAXED) != 0;
}

/* Announces (1) or withdraws (0) the own intent to wait. After announcing,
 * check the ring again before waiting (the peer may have published first). */
static inline void rvm_edge_set_waiting(const struct rvm_edge* e, uint32_t waiting) {
    uint32_t* want = e->role == RVM_EDGE_SENDER ? &e->tx->want : &e->rx->want;
    __atomic_store_n(want, waiting, __ATOMIC_RELAXED);
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
}

#if defined(RVM_EDGE_HAVE_HYPERCALLS)
/* Sets `mask` (bits 0..62) in the peer's notification word and wakes it if
 * it waits in rvm_edge_wait. */
static inline rvm_ret_t rvm_edge_signal(const struct rvm_edge* e, uint64_t mask) {
    return rvm_hypercall2(RVM_HC_NOTIFY_SIGNAL, e->cap, mask);
}

/* Waits until a bit of `mask` is set in the own notification word or
 * `timeout_ns` passes (0 = forever). Returns the bits it cleared (0 on
 * timeout). */
static inline rvm_ret_t rvm_edge_wait(const struct rvm_edge* e, uint64_t mask, uint64_t timeout_ns) {
    return rvm_hypercall3(RVM_HC_NOTIFY_WAIT, e->cap, mask, timeout_ns);
}

/* Sender after rvm_edge_send / receiver after a recv: wakes the peer if it
 * announced a wait. */
static inline rvm_ret_t rvm_edge_kick(const struct rvm_edge* e) {
    if (!rvm_edge_peer_waiting(e)) return 0;
    return rvm_edge_signal(e, e->role == RVM_EDGE_SENDER ? RVM_EDGE_NOTIFY_DATA : RVM_EDGE_NOTIFY_SPACE);
}

/* Sender: a send of `len` bytes found the ring full. Announces the wait,
 * checks again (the receiver may have freed space before it saw the
 * announcement), and sleeps until space is signalled or `timeout_ns` passes.
 * Returns 0 (retry the send) or the wait's error. */
static inline rvm_ret_t rvm_edge_wait_space(struct rvm_edge* e, uint64_t len, uint64_t timeout_ns) {
    rvm_edge_set_waiting(e, 1);
    const rvm_ret_t free_bytes = rvm_edge__free(e);
    rvm_ret_t r = 0;
    if (free_bytes >= 0 && !rvm_edge__fits(e, rvm_edge__rec_size(len), RVM_EDGE_SCAST(uint64_t, free_bytes))) {
        r = rvm_edge_wait(e, RVM_EDGE_NOTIFY_SPACE, timeout_ns);
    }
    rvm_edge_set_waiting(e, 0);
    return r < 0 ? r : 0;
}

/* Receiver: blocks until data is readable (or timeout); returns rvm_edge_poll. */
static inline rvm_ret_t rvm_edge_wait_data(struct rvm_edge* e, uint64_t timeout_ns) {
    rvm_edge_set_waiting(e, 1);
    rvm_ret_t r = rvm_edge_poll(e);
    if (r == 0) {
        const rvm_ret_t w = rvm_edge_wait(e, RVM_EDGE_NOTIFY_DATA, timeout_ns);
        r = w < 0 ? w : rvm_edge_poll(e);
    }
    rvm_edge_set_waiting(e, 0);
    return r;
}
#endif

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif
