/* agent_edge_node: one node of a CommEdge test or benchmark topology
 * (tests/integration/edges_test.cpp, bench/edge_bench.cpp). The argument:
 *   bits 0..31   N, messages (or round trips)
 *   bits 32..39  role
 *   bit  40      blocking: wait with notify_wait instead of polling
 * Roles and their edges (in the order the host connected them):
 *   0 source   edge 0 out: sends N messages
 *   1 relay    edge 0 in, edge 1 out: forwards N messages unchanged
 *   2 sink     edge 0 in: receives N messages, checks order and contents
 *   3 ping     edge 0 out, edge 1 in: N round trips, checks each echo, times them
 *   4 pong     edge 0 in, edge 1 out: echoes N messages
 *   5 liar     edge 0 out: scribbles garbage over its own tx page and data
 *              (indices, lengths, padding) as a hostile sender would, then exits
 *   6 vandal   edge 0 in: writes into the sender's tx page (read-only here):
 *              must fault, failing only this partition
 *   7 zsource  edge 0 out (with a zero-copy region), edge 1 in: streams N
 *              chunks through the region's two halves, one descriptor each;
 *              reuses a half after the sink's acknowledgement
 *   8 zsink    edge 0 in, edge 1 out: checks each descriptor against the
 *              region, reads (and checks) every word in place, acknowledges;
 *              logs "zsink: N chunks of B bytes in X ns"
 *   9 zvandal  edge 0 in: writes into the region (read-only here): must fault
 *  10 switcher edge 0 out, edge 1 out: sends N messages on edge 0, then N on
 *              edge 1 -- a communication pattern that changes halfway
 * Chunk i, word j (of 8 bytes) holds i * 0x9e3779b97f4a7c15 + j.
 * Message i: 16-byte header {u64 seq = i, u64 len} and len - 16 bytes with
 * byte j = (i * 31 + j) & 0xff; len = 16 + (i * 7) % 241.
 * Exit codes: 0 done, 1 a message was wrong (logged), 2 the peer broke the
 * ring protocol (RVM_E_FAULT from the SDK, logged), 3 setup failed, 4 the
 * edge went away (RVM_E_STATE from the SDK or a notify call; a notify call
 * on a destroyed edge's revoked capability counts too), 5 blocking receive: nothing
 * arrived for 1 s (a silent or lying peer). */
#include <rvm/edges.h>

#define ROLE(arg) (((arg) >> 32) & 0xffu)
#define BLOCKING(arg) (((arg) >> 40) & 1u)
#define MAX_MSG 256u

static uint8_t buf[MAX_MSG] __attribute__((aligned(8)));
static uint8_t want[MAX_MSG] __attribute__((aligned(8)));

static uint64_t msg_len(uint64_t i) { return 16u + (i * 7u) % 241u; }

static void make_msg(uint8_t* m, uint64_t i) {
    const uint64_t len = msg_len(i);
    __builtin_memcpy(m, &i, 8);
    __builtin_memcpy(m + 8, &len, 8);
    for (uint64_t j = 16; j < len; ++j) m[j] = (uint8_t)((i * 31u + j) & 0xffu);
}

static int blocking;

/* The edge was destroyed: the SDK says RVM_E_STATE, a notify call on its
 * revoked capability RVM_E_BAD_HANDLE. */
static int gone(rvm_ret_t r) {
    return rvm_error_status(r) == RVM_E_STATE || rvm_error_status(r) == RVM_E_BAD_HANDLE;
}

/* Polling: spin on the ring, but give the CPU back (one exit) after this
 * many empty polls, so that an oversubscribed host still makes progress. */
#define SPINS_BEFORE_YIELD 4096u

/* Sends one message; spins (or waits for space) while the ring is full. */
static int send_msg(struct rvm_edge* e, const uint8_t* m, uint64_t len) {
    unsigned spins = 0;
    for (;;) {
        const rvm_ret_t r = rvm_edge_send(e, m, len);
        if (r >= 0) {
            if (blocking) rvm_edge_kick(e);
            return 0;
        }
        if (rvm_error_status(r) == RVM_E_FAULT) return 2;
        if (rvm_error_status(r) == RVM_E_STATE) return 4;
        if (rvm_error_status(r) != RVM_E_EXHAUSTED) return 3;
        if (!blocking && ++spins % SPINS_BEFORE_YIELD == 0) rvm_yield();
        if (blocking) {
            const rvm_ret_t w = rvm_edge_wait_space(e, len, 1000000000ull);
            if (w < 0) return gone(w) ? 4 : 3;
        }
    }
}

/* Receives one message into buf; returns its length or a negative exit code. */
static int64_t recv_msg(struct rvm_edge* e) {
    unsigned spins = 0;
    uint64_t idle_since = 0;
    for (;;) {
        const rvm_ret_t r = rvm_edge_recv(e, buf, sizeof buf);
        if (r > 0) {
            if (blocking) rvm_edge_kick(e);
            return r;
        }
        if (r < 0) {
            rvm_logf("edge: ring error status %u arg %u\n", rvm_error_status(r), rvm_error_arg(r));
            if (rvm_error_status(r) == RVM_E_STATE) return -4;
            return rvm_error_status(r) == RVM_E_FAULT ? -2 : -3;
        }
        if (!blocking && ++spins % SPINS_BEFORE_YIELD == 0) rvm_yield();
        if (blocking) {
            const rvm_ret_t w = rvm_edge_wait_data(e, 1000000000ull);
            if (w < 0) return gone(w) ? -4 : (rvm_error_status(w) == RVM_E_FAULT ? -2 : -3);
            /* Still empty: a stale signal (the data it announced was read
             * already) or the timeout. Silence only counts after 1 s. */
            if (w == 0) {
                const uint64_t now = rvm_clock_ns();
                if (idle_since == 0) idle_since = now;
                if (now - idle_since >= 1000000000ull) return -5;
            }
        }
    }
}

static int check_msg(uint64_t i, int64_t n) {
    make_msg(want, i);
    if ((uint64_t)n != msg_len(i) || __builtin_memcmp(buf, want, (uint64_t)n) != 0) {
        uint64_t seq = 0;
        __builtin_memcpy(&seq, buf, 8);
        rvm_logf("edge: FAIL message %lu: got seq %lu length %ld, want length %lu\n", i, seq, (long)n, msg_len(i));
        return 1;
    }
    return 0;
}

#define ZK 0x9e3779b97f4a7c15ull
#define ZSCHEMA 0x7a65726f636f7079ull /* "zerocopy" */

static int open_edge(struct rvm_edge* e, uint64_t k);

static int zsource(struct rvm_edge* out, uint64_t n) {
    struct rvm_edge acks;
    int rc = open_edge(&acks, 1);
    if (rc != 0) return rc;
    const struct rvm_edge_entry* t = rvm_edge_entry(0);
    if (t == NULL || t->share == 0 || t->share_size < 16) return 3;
    const uint64_t half = t->share_size / 2u & ~7ull;
    for (uint64_t i = 0; i < n; ++i) {
        if (i >= 2) { /* the half is free once chunk i - 2 is acknowledged */
            const int64_t m = recv_msg(&acks);
            if (m < 0) return (int)-m;
        }
        volatile uint64_t* w = (volatile uint64_t*)(t->share + (i % 2u) * half);
        for (uint64_t j = 0; j < half / 8u; ++j) w[j] = i * ZK + j;
        struct rvm_edge_desc d = {t->share_region, (uint32_t)((i % 2u) * half), (uint32_t)half, ZSCHEMA};
        for (;;) {
            const rvm_ret_t r = rvm_edge_send_desc(out, &d);
            if (r >= 0) break;
            if (rvm_error_status(r) != RVM_E_EXHAUSTED) return gone(r) ? 4 : 2;
        }
        if (blocking) rvm_edge_kick(out);
    }
    return 0;
}

static int zsink(struct rvm_edge* in, uint64_t n) {
    struct rvm_edge acks;
    int rc = open_edge(&acks, 1);
    if (rc != 0) return rc;
    const struct rvm_edge_entry* t = rvm_edge_entry(0);
    if (t == NULL || t->share == 0) return 3;
    const uint64_t t0 = rvm_clock_ns();
    uint64_t bytes = 0;
    unsigned spins = 0;
    for (uint64_t i = 0; i < n;) {
        struct rvm_edge_desc d;
        const rvm_ret_t r = rvm_edge_recv_desc(in, &d);
        if (r == 0) {
            if (blocking) {
                const rvm_ret_t w = rvm_edge_wait_data(in, 1000000000ull);
                if (w < 0) return gone(w) ? 4 : 2;
            } else if (++spins % SPINS_BEFORE_YIELD == 0) {
                rvm_yield();
            }
            continue;
        }
        if (r < 0) return gone(r) ? 4 : 2;
        if (!rvm_edge_desc_valid(0, &d) || d.schema_hash != ZSCHEMA || (d.offset & 7u) != 0) {
            rvm_logf("edge: FAIL descriptor %lu outside the region or of another schema\n", i);
            return 2;
        }
        const volatile uint64_t* w = (const volatile uint64_t*)(t->share + d.offset);
        uint64_t bad = 0;
        for (uint64_t j = 0; j < d.length / 8u; ++j) bad |= w[j] ^ (i * ZK + j);
        if (bad != 0) {
            rvm_logf("edge: FAIL chunk %lu has wrong contents\n", i);
            return 1;
        }
        bytes += d.length;
        if ((rc = send_msg(&acks, (const uint8_t*)&i, 8)) != 0) return rc;
        ++i;
    }
    const uint64_t ns = rvm_clock_ns() - t0;
    rvm_logf("zsink: %lu chunks of %lu bytes in %lu ns (%lu MB/s)\n", n, n != 0 ? bytes / n : 0, ns,
             ns != 0 ? bytes * 1000u / ns : 0);
    return 0;
}

static int open_edge(struct rvm_edge* e, uint64_t k) {
    const rvm_ret_t r = rvm_edge_open(e, k);
    if (r != 0) rvm_logf("edge: FAIL open edge %lu: status %u arg %u\n", k, rvm_error_status(r), rvm_error_arg(r));
    return r == 0 ? 0 : 3;
}

int main(const struct rvm_info* info, uint64_t task_index, uint64_t arg) {
    (void)info;
    (void)task_index;
    const uint64_t n = arg & 0xffffffffull;
    blocking = (int)BLOCKING(arg);
    struct rvm_edge a, b;
    int rc = open_edge(&a, 0);
    if (rc != 0) return rc;
    switch (ROLE(arg)) {
        case 0: /* source */
            for (uint64_t i = 0; i < n; ++i) {
                make_msg(want, i);
                if ((rc = send_msg(&a, want, msg_len(i))) != 0) return rc;
            }
            rvm_logf("edge: source sent %lu\n", n);
            return 0;
        case 10: /* switcher */
            if ((rc = open_edge(&b, 1)) != 0) return rc;
            for (uint64_t i = 0; i < 2 * n; ++i) {
                const uint64_t k = i < n ? i : i - n;
                make_msg(want, k);
                if ((rc = send_msg(i < n ? &a : &b, want, msg_len(k))) != 0) return rc;
                if (i + 1 == n) rvm_logf("edge: switcher sent %lu on edge 0, now edge 1\n", n);
            }
            rvm_logf("edge: switcher sent %lu on each edge\n", n);
            return 0;
        case 1: /* relay */
            if ((rc = open_edge(&b, 1)) != 0) return rc;
            for (uint64_t i = 0; i < n; ++i) {
                const int64_t m = recv_msg(&a);
                if (m < 0) return (int)-m;
                if ((rc = send_msg(&b, buf, (uint64_t)m)) != 0) return rc;
            }
            rvm_logf("edge: relay forwarded %lu\n", n);
            return 0;
        case 2: /* sink */
            for (uint64_t i = 0; i < n; ++i) {
                const int64_t m = recv_msg(&a);
                if (m < 0) return (int)-m;
                if (check_msg(i, m) != 0) return 1;
            }
            rvm_logf("edge: sink received %lu in order\n", n);
            return 0;
        case 3: { /* ping */
            if ((rc = open_edge(&b, 1)) != 0) return rc;
            const uint64_t t0 = rvm_clock_ns();
            for (uint64_t i = 0; i < n; ++i) {
                make_msg(want, i);
                if ((rc = send_msg(&a, want, msg_len(i))) != 0) return rc;
                const int64_t m = recv_msg(&b);
                if (m < 0) return (int)-m;
                if (check_msg(i, m) != 0) return 1;
            }
            const uint64_t ns = rvm_clock_ns() - t0;
            rvm_logf("edge: ping %lu round trips in %lu ns (%lu ns each)\n", n, ns, n != 0 ? ns / n : 0);
            return 0;
        }
        case 4: /* pong */
            if ((rc = open_edge(&b, 1)) != 0) return rc;
            for (uint64_t i = 0; i < n; ++i) {
                const int64_t m = recv_msg(&a);
                if (m < 0) return (int)-m;
                if ((rc = send_msg(&b, buf, (uint64_t)m)) != 0) return rc;
            }
            return 0;
        case 5: { /* liar: garbage over everything this side owns */
            volatile uint64_t* tx = (volatile uint64_t*)a.tx;
            volatile uint64_t* data = (volatile uint64_t*)a.data;
            uint64_t x = 0x9e3779b97f4a7c15ull ^ n;
            for (uint64_t round = 0; round < 64; ++round) {
                for (uint64_t w = 0; w < a.capacity / 8u; ++w) {
                    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
                    data[w] = (w & 3u) == 0 ? (x & 0xffffffffull) | ((x >> 61) << 32) : x;
                }
                x ^= x << 13, x ^= x >> 7, x ^= x << 17;
                tx[0x40 / 8] = round % 3u == 0 ? x : (round % 3u == 1 ? ~0ull : (x & 0xfff8u));
            }
            rvm_logf("edge: liar done\n");
            return 0;
        }
        case 6: /* vandal: the sender's page is read-only here */
            ((volatile uint64_t*)a.tx)[0x40 / 8] = 0;
            rvm_logf("edge: FAIL the write to the sender's page did not fault\n");
            return 1;
        case 7: return zsource(&a, n);
        case 8: return zsink(&a, n);
        case 9: { /* zvandal */
            const struct rvm_edge_entry* t = rvm_edge_entry(0);
            if (t == NULL || t->share == 0) return 3;
            *(volatile uint64_t*)t->share = 1;
            rvm_logf("edge: FAIL the write to the zero-copy region did not fault\n");
            return 1;
        }
        default: return 3;
    }
}
