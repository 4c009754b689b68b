/* RVM guest ABI: the CommEdge ring (single producer, single consumer).
 *
 * An edge's shared memory is one window of RVM_EDGE_WINDOW_SIZE(capacity)
 * bytes, mapped at the same offsets into both partitions:
 *
 *   [0, 4 KiB)                         tx page: struct rvm_edge_tx_page
 *   [4 KiB, 4 KiB + capacity)          data: the ring of records
 *   [4 KiB + capacity, 8 KiB + capacity) rx page: struct rvm_edge_rx_page
 *
 *   area                 sender        receiver      host
 *   tx page + data       read/write    read-only     read/write
 *   rx page              read-only     read/write    read/write
 *
 * so the sender-owned area is one contiguous range and each side can write
 * only what it owns. `capacity` is a power of two in
 * [RVM_EDGE_MIN_CAPACITY, RVM_EDGE_MAX_CAPACITY]; both sides learn it from
 * the host (edge table / create call), never from the shared pages, and every
 * value the other side writes is untrusted (docs/edges-and-scheduling.md).
 *
 * Indices. `prod` (tx page) and `cons` (rx page) are byte counts since the
 * edge was created: they only grow and wrap at 2^64. The record at index i
 * starts at data offset i & (capacity - 1). Invariant kept by a correct pair:
 * cons <= prod, prod - cons <= capacity, both multiples of 8.
 *
 * Records. 8-byte aligned; an 8-byte header (one little-endian u64: len in
 * bits 0..31, type in 32..47, flags in 48..63, flags = 0) and `len` payload
 * bytes, padded with zeros to RVM_EDGE_REC_SIZE(len). A record never wraps:
 * when it does not fit before the end of the data area the sender first
 * writes a PAD record whose payload fills the rest of the ring (a PAD starts
 * at a non-zero offset and ends exactly at `capacity`). DATA records carry
 * 1..RVM_EDGE_MAX_PAYLOAD(capacity) bytes (a record is at most capacity / 2,
 * so an empty ring always takes one); DESC records carry exactly one
 * struct rvm_edge_desc.
 *
 * Memory ordering. The sender writes a record, then stores `prod` with
 * release; the receiver loads `prod` with acquire, reads records, then stores
 * `cons` with release; the sender loads `cons` with acquire before reusing
 * space. Counters and notification words are accessed with atomic
 * operations; counters are relaxed.
 *
 * Closing. When the host destroys an edge it sets `closed` in both pages,
 * each side's copy in the page the peer cannot write; from then on the SDK
 * refuses every ring operation with RVM_E_STATE (the memory stays mapped
 * until the partitions end, so nothing faults).
 *
 * Notification words (seed 002 6.2). Each page holds one 64-bit word of
 * signal bits for the side that owns it: tx.notify for the sender, rx.notify
 * for the receiver. The host sets bits (atomic OR) when the *other* side calls
 * RVM_HC_NOTIFY_SIGNAL; the owner clears them (atomic AND, or NOTIFY_WAIT's
 * return). Bit 63 is reserved (results >= 0 are successes). `want` is the
 * owner's "I am about to wait" flag, so the peer can skip the hypercall when
 * nobody sleeps; the owner stores it, then issues a seq_cst fence and
 * re-checks the ring before it waits; the peer publishes its index, issues
 * a seq_cst fence, then reads `want`. */
#ifndef RVM_ABI_EDGE_H
#define RVM_ABI_EDGE_H

#include <stddef.h>
#include <stdint.h>

#define RVM_EDGE_MAGIC 0x454744454d5652ull /* "RVMEDGE\0" little-endian */
#define RVM_EDGE_VERSION 1u

#define RVM_EDGE_PAGE_SIZE 4096u
#define RVM_EDGE_MIN_CAPACITY 4096ull
#define RVM_EDGE_MAX_CAPACITY (1ull << 30)
#define RVM_EDGE_TX_OFFSET 0ull
#define RVM_EDGE_DATA_OFFSET 4096ull
#define RVM_EDGE_RX_OFFSET(capacity) (4096ull + (capacity))
#define RVM_EDGE_WINDOW_SIZE(capacity) (8192ull + (capacity))
/* The sender-owned area (tx page + data) is [0, RVM_EDGE_SENDER_SIZE). */
#define RVM_EDGE_SENDER_SIZE(capacity) (4096ull + (capacity))

/* Records. */
#define RVM_EDGE_REC_HDR 8u
#define RVM_EDGE_ALIGN 8u
#define RVM_EDGE_REC_SIZE(len) ((RVM_EDGE_REC_HDR + (uint64_t)(len) + 7u) & ~7ull)
#define RVM_EDGE_MAX_RECORD(capacity) ((capacity) / 2u)
#define RVM_EDGE_MAX_PAYLOAD(capacity) ((capacity) / 2u - RVM_EDGE_REC_HDR)

enum rvm_edge_rec_type {
    RVM_EDGE_REC_DATA = 1, /* len bytes of message */
    RVM_EDGE_REC_PAD = 2,  /* skip to the end of the ring */
    RVM_EDGE_REC_DESC = 3  /* one struct rvm_edge_desc (len = 24) */
};

/* Notification bits the SDK uses; bits 2..62 are the application's. */
#define RVM_EDGE_NOTIFY_DATA (1ull << 0)  /* sender -> receiver: records published */
#define RVM_EDGE_NOTIFY_SPACE (1ull << 1) /* receiver -> sender: space freed */
#define RVM_EDGE_NOTIFY_VALID ((1ull << 63) - 1u)

/* A zero-copy descriptor (seed 002 6.1): `length` bytes at `offset` in a
 * region shared (read-only) with the receiver. The receiver checks the range
 * against the region it has mapped before touching it. */
struct rvm_edge_desc {
    uint64_t region;      /* 0: region handle */
    uint32_t offset;      /* 8: byte offset in the region */
    uint32_t length;      /* 12: bytes */
    uint64_t schema_hash; /* 16: type of the payload, agreed by the peers */
};

/* Sender-owned page. Written by the host at creation (magic .. capacity,
 * everything else zero); afterwards by the sender (prod, counters, want) and
 * the host (notify). */
struct rvm_edge_tx_page {
    uint64_t magic;          /* 0x000: RVM_EDGE_MAGIC */
    uint32_t version;        /* 0x008: RVM_EDGE_VERSION */
    uint32_t reserved0;      /* 0x00C: zero */
    uint64_t capacity;       /* 0x010: data bytes (informational; peers use the host's value) */
    uint64_t closed;         /* 0x018: host-written: 1 once the edge is destroyed (the sender's copy) */
    uint64_t reserved1[4];   /* 0x020: zero */
    uint64_t prod;           /* 0x040: producer index (own cache line) */
    uint64_t bytes_sent;     /* 0x048: payload bytes of DATA records (the host reads it per epoch) */
    uint64_t msgs_sent;      /* 0x050: DATA and DESC records */
    uint64_t descs_sent;     /* 0x058: DESC records */
    uint64_t reserved2[4];   /* 0x060: zero */
    uint64_t notify;         /* 0x080: the sender's signal bits (set by the host, cleared by the sender) */
    uint32_t want;           /* 0x088: 1 = the sender is about to wait for space */
    uint32_t reserved3;      /* 0x08C: zero */
    uint64_t reserved4[494]; /* 0x090: zero, to the end of the page */
};

/* Receiver-owned page. Written by the receiver (cons, counters, want) and the
 * host (notify). */
struct rvm_edge_rx_page {
    uint64_t cons;           /* 0x000: consumer index */
    uint64_t bytes_received; /* 0x008: payload bytes of DATA records */
    uint64_t msgs_received;  /* 0x010: DATA and DESC records */
    uint64_t closed;         /* 0x018: host-written: 1 once the edge is destroyed (the receiver's copy) */
    uint64_t reserved0[12];  /* 0x020: zero */
    uint64_t notify;         /* 0x080: the receiver's signal bits (set by the host, cleared by the receiver) */
    uint32_t want;           /* 0x088: 1 = the receiver is about to wait for data */
    uint32_t reserved1;      /* 0x08C: zero */
    uint64_t reserved2[494]; /* 0x090: zero, to the end of the page */
};

#ifdef __cplusplus
#define RVM_EDGE_STATIC_ASSERT(cond, msg) static_assert(cond, msg)
#else
#define RVM_EDGE_STATIC_ASSERT(cond, msg) _Static_assert(cond, msg)
#endif

RVM_EDGE_STATIC_ASSERT(sizeof(struct rvm_edge_desc) == 24, "rvm_edge_desc size");
RVM_EDGE_STATIC_ASSERT(offsetof(struct rvm_edge_desc, offset) == 8, "rvm_edge_desc.offset");
RVM_EDGE_STATIC_ASSERT(offsetof(struct rvm_edge_desc, length) == 12, "rvm_edge_desc.length");
RVM_EDGE_STATIC_ASSERT(offsetof(struct rvm_edge_desc, schema_hash) == 16, "rvm_edge_desc.schema_hash");
RVM_EDGE_STATIC_ASSERT(sizeof(struct rvm_edge_tx_page) == RVM_EDGE_PAGE_SIZE, "rvm_edge_tx_page size");
RVM_EDGE_STATIC_ASSERT(offsetof(struct rvm_edge_tx_page, capacity) == 0x10, "tx.capacity");
RVM_EDGE_STATIC_ASSERT(offsetof(struct rvm_edge_tx_page, closed) == 0x18, "tx.closed");
RVM_EDGE_STATIC_ASSERT(offsetof(struct rvm_edge_rx_page, closed) == 0x18, "rx.closed");
RVM_EDGE_STATIC_ASSERT(offsetof(struct rvm_edge_tx_page, prod) == 0x40, "tx.prod");
RVM_EDGE_STATIC_ASSERT(offsetof(struct rvm_edge_tx_page, bytes_sent) == 0x48, "tx.bytes_sent");
RVM_EDGE_STATIC_ASSERT(offsetof(struct rvm_edge_tx_page, msgs_sent) == 0x50, "tx.msgs_sent");
RVM_EDGE_STATIC_ASSERT(offsetof(struct rvm_edge_tx_page, descs_sent) == 0x58, "tx.descs_sent");
RVM_EDGE_STATIC_ASSERT(offsetof(struct rvm_edge_tx_page, notify) == 0x80, "tx.notify");
RVM_EDGE_STATIC_ASSERT(offsetof(struct rvm_edge_tx_page, want) == 0x88, "tx.want");
RVM_EDGE_STATIC_ASSERT(sizeof(struct rvm_edge_rx_page) == RVM_EDGE_PAGE_SIZE, "rvm_edge_rx_page size");
RVM_EDGE_STATIC_ASSERT(offsetof(struct rvm_edge_rx_page, bytes_received) == 0x08, "rx.bytes_received");
RVM_EDGE_STATIC_ASSERT(offsetof(struct rvm_edge_rx_page, msgs_received) == 0x10, "rx.msgs_received");
RVM_EDGE_STATIC_ASSERT(offsetof(struct rvm_edge_rx_page, notify) == 0x80, "rx.notify");
RVM_EDGE_STATIC_ASSERT(offsetof(struct rvm_edge_rx_page, want) == 0x88, "rx.want");

#endif
