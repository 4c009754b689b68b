// CommEdge rings (abi/edge.h, guest/include/rvm/edge.h): layout, in-order
// delivery across wraps, full/empty, descriptors, two threads, and hostile
// peers on either side. Seeds: RVM_SEED or the fixed default, printed.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstring>
#include <memory>
#include <random>
#include <thread>
#include <vector>

// The guest SDK's ring header is freestanding and works on the host as well.
#include <rvm/edge.h>

#include "support/seed.hpp"

namespace {

using rvm::test::seed_from_env;

std::uint32_t status_of(rvm_ret_t r) { return rvm_error_status(r); }

// A formatted window of RVM_EDGE_WINDOW_SIZE(capacity) bytes, exactly sized
// (so ASan sees any access past its end), with one handle per side.
struct Ring {
    std::uint64_t capacity;
    std::unique_ptr<std::uint64_t[]> words;
    rvm_edge tx{};
    rvm_edge rx{};

    explicit Ring(std::uint64_t cap)
        : capacity(cap), words(std::make_unique<std::uint64_t[]>(RVM_EDGE_WINDOW_SIZE(cap) / 8)) {
        EXPECT_EQ(rvm_edge_format(words.get(), cap), 0);
        EXPECT_EQ(rvm_edge_attach(&tx, words.get(), cap, RVM_EDGE_SENDER, 1), 0);
        EXPECT_EQ(rvm_edge_attach(&rx, words.get(), cap, RVM_EDGE_RECEIVER, 2), 0);
    }
    [[nodiscard]] std::uint8_t* bytes() const { return reinterpret_cast<std::uint8_t*>(words.get()); }
    [[nodiscard]] std::size_t sender_size() const { return RVM_EDGE_SENDER_SIZE(capacity); }
    [[nodiscard]] std::size_t window_size() const { return RVM_EDGE_WINDOW_SIZE(capacity); }
};

// Message `seq` of length `len`: bytes derived from both, so a swapped,
// torn or shifted message is detected.
void fill(std::vector<std::uint8_t>& buf, std::uint64_t seq, std::size_t len) {
    buf.resize(len);
    std::uint64_t x = seq * 0x9e3779b97f4a7c15ull + len;
    for (std::size_t i = 0; i < len; ++i) {
        x ^= x >> 29;
        x *= 0xbf58476d1ce4e5b9ull;
        buf[i] = static_cast<std::uint8_t>(x >> 56);
    }
}

TEST(EdgeRingAbi, LayoutIsPageGranular) {
    static_assert(sizeof(rvm_edge_tx_page) == 4096);
    static_assert(sizeof(rvm_edge_rx_page) == 4096);
    static_assert(sizeof(rvm_edge_desc) == 24);
    static_assert(std::has_unique_object_representations_v<rvm_edge_tx_page>);
    static_assert(std::has_unique_object_representations_v<rvm_edge_rx_page>);
    static_assert(std::has_unique_object_representations_v<rvm_edge_desc>);
    for (std::uint64_t cap = RVM_EDGE_MIN_CAPACITY; cap <= (1u << 20); cap <<= 1) {
        EXPECT_EQ(RVM_EDGE_DATA_OFFSET % RVM_EDGE_PAGE_SIZE, 0u);
        EXPECT_EQ(RVM_EDGE_RX_OFFSET(cap) % RVM_EDGE_PAGE_SIZE, 0u);
        EXPECT_EQ(RVM_EDGE_SENDER_SIZE(cap), RVM_EDGE_RX_OFFSET(cap));  // tx page + data, contiguous
        EXPECT_EQ(RVM_EDGE_WINDOW_SIZE(cap), RVM_EDGE_RX_OFFSET(cap) + RVM_EDGE_PAGE_SIZE);
        EXPECT_EQ(RVM_EDGE_MAX_PAYLOAD(cap) + RVM_EDGE_REC_HDR, cap / 2);
    }
    const std::uint64_t magic = RVM_EDGE_MAGIC;
    EXPECT_EQ(std::memcmp("RVMEDGE", &magic, 8), 0);  // the literal's NUL is the 8th byte
}

TEST(EdgeRing, AttachChecksGeometryOnce) {
    Ring r(4096);
    rvm_edge e{};
    EXPECT_EQ(status_of(rvm_edge_attach(&e, r.words.get(), 8192, RVM_EDGE_RECEIVER, 0)), RVM_E_INVALID);
    EXPECT_EQ(status_of(rvm_edge_attach(&e, r.words.get(), 3000, RVM_EDGE_RECEIVER, 0)), RVM_E_INVALID);
    EXPECT_EQ(status_of(rvm_edge_attach(&e, r.words.get(), 4096, 7, 0)), RVM_E_INVALID);
    EXPECT_EQ(status_of(rvm_edge_attach(&e, r.bytes() + 1, 4096, RVM_EDGE_RECEIVER, 0)), RVM_E_FAULT);
    EXPECT_EQ(status_of(rvm_edge_format(r.words.get(), 4096 + 8)), RVM_E_INVALID);
    r.tx.tx->magic = 0;
    EXPECT_EQ(status_of(rvm_edge_attach(&e, r.words.get(), 4096, RVM_EDGE_RECEIVER, 0)), RVM_E_INVALID);
    EXPECT_FALSE(rvm_edge_capacity_valid(2048));
    EXPECT_FALSE(rvm_edge_capacity_valid(RVM_EDGE_MAX_CAPACITY * 2));
    EXPECT_TRUE(rvm_edge_capacity_valid(RVM_EDGE_MAX_CAPACITY));
}

TEST(EdgeRing, InOrderAcrossManyWraps) {
    const std::uint64_t seed = seed_from_env(0xed6e);
    SCOPED_TRACE(::testing::Message() << "seed " << seed << " (rerun with RVM_SEED=" << seed << ")");
    std::printf("EdgeRing.InOrderAcrossManyWraps seed %llu\n", static_cast<unsigned long long>(seed));
    std::mt19937_64 rng(seed);
    for (const std::uint64_t cap : {4096ull, 16384ull}) {
        Ring r(cap);
        const std::uint64_t max = RVM_EDGE_MAX_PAYLOAD(cap);
        std::uint64_t sent = 0;
        std::uint64_t received = 0;
        std::uint64_t payload = 0;
        std::vector<std::uint8_t> msg;
        std::vector<std::uint8_t> want;
        std::vector<std::uint8_t> got(max);
        while (r.tx.prod < 300 * cap) {
            const int burst = static_cast<int>(rng() % 8);
            for (int i = 0; i < burst; ++i) {
                // Mostly small, sometimes up to the maximum.
                const std::uint64_t len = rng() % 4 == 0 ? 1 + rng() % max : 1 + rng() % 64;
                fill(msg, sent, len);
                const rvm_ret_t s = rvm_edge_send(&r.tx, msg.data(), len);
                if (s == 0) {
                    ++sent;
                    payload += len;
                } else {
                    ASSERT_EQ(status_of(s), RVM_E_EXHAUSTED);
                    break;
                }
            }
            const int drain = static_cast<int>(rng() % 8);
            for (int i = 0; i < drain; ++i) {
                const rvm_ret_t n = rvm_edge_recv(&r.rx, got.data(), got.size());
                ASSERT_GE(n, 0);
                if (n == 0) {
                    ASSERT_EQ(received, sent);
                    break;
                }
                fill(want, received, static_cast<std::size_t>(n));
                ASSERT_EQ(std::memcmp(got.data(), want.data(), want.size()), 0) << "message " << received;
                ++received;
            }
        }
        while (received < sent) {
            const rvm_ret_t n = rvm_edge_recv(&r.rx, got.data(), got.size());
            ASSERT_GT(n, 0);
            fill(want, received, static_cast<std::size_t>(n));
            ASSERT_EQ(std::memcmp(got.data(), want.data(), want.size()), 0);
            ++received;
        }
        EXPECT_EQ(rvm_edge_recv(&r.rx, got.data(), got.size()), 0);
        EXPECT_EQ(r.tx.tx->msgs_sent, sent);
        EXPECT_EQ(r.tx.tx->bytes_sent, payload);
        EXPECT_EQ(r.rx.rx->msgs_received, sent);
        EXPECT_EQ(r.rx.rx->bytes_received, payload);
        EXPECT_EQ(r.rx.rx->cons, r.tx.tx->prod);
        EXPECT_GE(r.tx.prod / cap, 300u);  // wraps
    }
}

TEST(EdgeRing, FullAndEmpty) {
    Ring r(4096);
    std::uint8_t buf[4096] = {};
    EXPECT_EQ(rvm_edge_recv(&r.rx, buf, sizeof buf), 0);
    EXPECT_EQ(rvm_edge_poll(&r.rx), 0);
    EXPECT_EQ(rvm_edge_space(&r.tx), 4096);
    // 120-byte payloads are 128-byte records: 32 fill the ring exactly.
    int n = 0;
    while (rvm_edge_send(&r.tx, buf, 120) == 0) ++n;
    EXPECT_EQ(n, 32);
    EXPECT_EQ(rvm_edge_space(&r.tx), 0);
    EXPECT_EQ(status_of(rvm_edge_send(&r.tx, buf, 1)), RVM_E_EXHAUSTED);
    EXPECT_EQ(rvm_edge_poll(&r.rx), 4096);
    // Too small a buffer leaves the message where it is.
    EXPECT_EQ(rvm_edge_recv(&r.rx, buf, 119), rvm_make_error(RVM_E_INVALID, 3));
    std::uint32_t type = 0;
    EXPECT_EQ(rvm_edge_peek(&r.rx, &type), 120);
    EXPECT_EQ(type, static_cast<std::uint32_t>(RVM_EDGE_REC_DATA));
    EXPECT_EQ(rvm_edge_recv(&r.rx, buf, sizeof buf), 120);
    EXPECT_EQ(rvm_edge_space(&r.tx), 128);
    EXPECT_EQ(rvm_edge_send(&r.tx, buf, 120), 0);
    EXPECT_EQ(rvm_edge_discard(&r.rx), 120);
    // Lengths: 0 and above the maximum are refused; the maximum fits an empty ring from any offset.
    EXPECT_EQ(rvm_edge_send(&r.tx, buf, 0), rvm_make_error(RVM_E_INVALID, 3));
    EXPECT_EQ(rvm_edge_send(&r.tx, buf, RVM_EDGE_MAX_PAYLOAD(4096) + 1), rvm_make_error(RVM_E_INVALID, 3));
    while (rvm_edge_recv(&r.rx, buf, sizeof buf) > 0) {
    }
    for (int i = 0; i < 64; ++i) {
        ASSERT_EQ(rvm_edge_send(&r.tx, buf, RVM_EDGE_MAX_PAYLOAD(4096)), 0) << i;
        ASSERT_EQ(rvm_edge_recv(&r.rx, buf, sizeof buf), static_cast<rvm_ret_t>(RVM_EDGE_MAX_PAYLOAD(4096)));
        ASSERT_EQ(rvm_edge_send(&r.tx, buf, 8 * static_cast<std::uint64_t>(i % 5) + 3), 0);
        ASSERT_GT(rvm_edge_recv(&r.rx, buf, sizeof buf), 0);
    }
    // Each side refuses the other's calls.
    EXPECT_EQ(rvm_edge_send(&r.rx, buf, 1), rvm_make_error(RVM_E_RIGHTS, 1));
    EXPECT_EQ(rvm_edge_recv(&r.tx, buf, 1), rvm_make_error(RVM_E_RIGHTS, 1));
    EXPECT_EQ(rvm_edge_poll(&r.tx), rvm_make_error(RVM_E_RIGHTS, 1));
    EXPECT_EQ(rvm_edge_space(&r.rx), rvm_make_error(RVM_E_RIGHTS, 1));
}

TEST(EdgeRing, DescriptorsRoundTrip) {
    Ring r(4096);
    std::uint8_t buf[64] = {};
    for (std::uint32_t i = 0; i < 500; ++i) {
        const rvm_edge_desc d{0x100000000ull | i, i * 16, 4096 - i, 0xfeedface00000000ull + i};
        ASSERT_EQ(rvm_edge_send_desc(&r.tx, &d), 0);
        ASSERT_EQ(rvm_edge_send(&r.tx, &i, sizeof i), 0);
        EXPECT_EQ(rvm_edge_recv(&r.rx, buf, sizeof buf), rvm_make_error(RVM_E_WRONG_TYPE, 0));
        rvm_edge_desc out{};
        ASSERT_EQ(rvm_edge_recv_desc(&r.rx, &out), static_cast<rvm_ret_t>(sizeof out));
        EXPECT_EQ(std::memcmp(&out, &d, sizeof d), 0);
        EXPECT_EQ(rvm_edge_recv_desc(&r.rx, &out), rvm_make_error(RVM_E_WRONG_TYPE, 0));
        ASSERT_EQ(rvm_edge_recv(&r.rx, buf, sizeof buf), 4);
        std::uint32_t v = 0;
        std::memcpy(&v, buf, 4);
        EXPECT_EQ(v, i);
    }
    EXPECT_EQ(r.tx.tx->descs_sent, 500u);
    EXPECT_EQ(r.tx.tx->msgs_sent, 1000u);
    EXPECT_EQ(r.tx.tx->bytes_sent, 2000u);  // DATA payload only
    const rvm_edge_desc d{1, 4000, 96, 0};
    EXPECT_TRUE(rvm_edge_desc_in_bounds(&d, 4096));
    EXPECT_FALSE(rvm_edge_desc_in_bounds(&d, 4095));
    const rvm_edge_desc wrap{1, 0xffffffffu, 0xffffffffu, 0};
    EXPECT_FALSE(rvm_edge_desc_in_bounds(&wrap, 0xffffffffull + 1));
}

TEST(EdgeRing, NotificationWordsAndWaitFlags) {
    Ring r(4096);
    EXPECT_FALSE(rvm_edge_peer_waiting(&r.tx));
    rvm_edge_set_waiting(&r.rx, 1);
    EXPECT_TRUE(rvm_edge_peer_waiting(&r.tx));
    EXPECT_FALSE(rvm_edge_peer_waiting(&r.rx));
    rvm_edge_set_waiting(&r.rx, 0);
    // The host ORs bits into the waiter's own word; the owner takes them.
    __atomic_fetch_or(&r.rx.rx->notify, RVM_EDGE_NOTIFY_DATA | 4u, __ATOMIC_RELEASE);
    EXPECT_EQ(rvm_edge_take_signals(&r.rx, RVM_EDGE_NOTIFY_DATA), RVM_EDGE_NOTIFY_DATA);
    EXPECT_EQ(rvm_edge_take_signals(&r.rx, RVM_EDGE_NOTIFY_VALID), 4u);
    EXPECT_EQ(r.rx.rx->notify, 0u);
    EXPECT_EQ(rvm_edge_take_signals(&r.tx, RVM_EDGE_NOTIFY_VALID), 0u);
}

TEST(EdgeRing, TwoThreadsMillionMessages) {
    constexpr std::uint64_t kMessages = 1'000'000;
    Ring r(1 << 16);
    std::uint64_t sent_sum = 0;
    std::uint64_t recv_sum = 0;
    std::uint64_t recv_count = 0;
    bool order_ok = true;
    auto checksum = [](std::uint64_t acc, const std::uint8_t* p, std::size_t n) {
        for (std::size_t i = 0; i < n; ++i) acc = (acc ^ p[i]) * 0x100000001b3ull;
        return acc;
    };
    std::thread producer([&] {
        std::mt19937_64 rng(7);
        std::uint8_t buf[256];
        for (std::uint64_t seq = 0; seq < kMessages; ++seq) {
            const std::size_t len = 8 + rng() % (sizeof buf - 8);
            std::memcpy(buf, &seq, 8);
            for (std::size_t i = 8; i < len; ++i) buf[i] = static_cast<std::uint8_t>(rng());
            sent_sum = checksum(sent_sum, buf, len);
            while (rvm_edge_send(&r.tx, buf, len) != 0) std::this_thread::yield();
        }
    });
    std::thread consumer([&] {
        std::uint8_t buf[256];
        while (recv_count < kMessages) {
            const rvm_ret_t n = rvm_edge_recv(&r.rx, buf, sizeof buf);
            if (n == 0) {
                std::this_thread::yield();
                continue;
            }
            if (n < 8) {
                order_ok = false;
                return;
            }
            std::uint64_t seq = 0;
            std::memcpy(&seq, buf, 8);
            if (seq != recv_count) order_ok = false;
            recv_sum = checksum(recv_sum, buf, static_cast<std::size_t>(n));
            ++recv_count;
        }
    });
    producer.join();
    consumer.join();
    EXPECT_TRUE(order_ok);
    EXPECT_EQ(recv_count, kMessages);
    EXPECT_EQ(recv_sum, sent_sum);
    EXPECT_EQ(rvm_edge_poll(&r.rx), 0);
}

// Random sender-side scribbles: a few valid messages, then garbage in
// indices, record headers (lengths, types, flags, PADs) and payload bytes.
void scribble(Ring& r, std::mt19937_64& rng) {
    std::uint8_t* b = r.bytes();
    const std::uint64_t cap = r.capacity;
    const std::uint64_t cons = r.rx.cons;
    switch (rng() % 6) {
        case 0: r.tx.tx->prod = rng(); break;
        case 1: r.tx.tx->prod = cons + (rng() % (cap + 64)); break;  // near the valid range
        case 2: r.tx.tx->prod = cons - (rng() % 64); break;          // behind the consumer
        case 3: {                                                    // a header at a record boundary
            const std::uint64_t off = (cons + 8 * (rng() % 8)) & (cap - 1);
            const std::uint64_t types[] = {RVM_EDGE_REC_DATA, RVM_EDGE_REC_PAD, RVM_EDGE_REC_DESC, rng() & 0xffff};
            const std::uint64_t lens[] = {0, 24, cap - off - 8, cap / 2, cap, rng() & 0xffffffff, rng() % 128};
            const std::uint64_t h = lens[rng() % 7] | (types[rng() % 4] << 32) | (rng() % 8 == 0 ? rng() << 48 : 0);
            std::memcpy(b + RVM_EDGE_DATA_OFFSET + off, &h, 8);
            break;
        }
        case 4: b[rng() % r.sender_size()] = static_cast<std::uint8_t>(rng()); break;  // anywhere it owns
        default: {
            std::uint8_t msg[300];
            for (auto& x : msg) x = static_cast<std::uint8_t>(rng());
            (void)rvm_edge_send(&r.tx, msg, 1 + rng() % sizeof msg);
        }
    }
}

TEST(EdgeRing, HostileSenderGetsErrorsOrInBoundsData) {
    const std::uint64_t seed = seed_from_env(0x4057113);
    SCOPED_TRACE(::testing::Message() << "seed " << seed << " (rerun with RVM_SEED=" << seed << ")");
    std::printf("EdgeRing.HostileSender seed %llu\n", static_cast<unsigned long long>(seed));
    std::mt19937_64 rng(seed);
    constexpr std::size_t kBuf = 4096;
    std::vector<std::uint8_t> buf(kBuf + 64);
    std::uint64_t faults = 0;
    std::uint64_t delivered = 0;
    for (int iter = 0; iter < 2500; ++iter) {
        Ring r(4096);
        for (int step = 0; step < 40; ++step) {
            scribble(r, rng);
            const std::uint64_t cons_before = r.rx.cons;
            std::fill(buf.begin(), buf.end(), 0xa5);
            const std::uint64_t limit = 1 + rng() % kBuf;
            rvm_ret_t n = 0;
            rvm_edge_desc d{};
            std::uint32_t type = 0;
            switch (rng() % 5) {
                case 0: n = rvm_edge_recv(&r.rx, buf.data(), limit); break;
                case 1: n = rvm_edge_recv_desc(&r.rx, &d); break;
                case 2: n = rvm_edge_discard(&r.rx); break;
                case 3: n = rvm_edge_peek(&r.rx, &type); break;
                default: n = rvm_edge_poll(&r.rx); break;
            }
            if (n < 0) {
                const std::uint32_t s = status_of(n);
                ASSERT_TRUE(s == RVM_E_FAULT || s == RVM_E_WRONG_TYPE || s == RVM_E_INVALID) << s;
                faults += s == RVM_E_FAULT;
            } else {
                ASSERT_LE(static_cast<std::uint64_t>(n), r.capacity);
                delivered += n > 0;
            }
            // Never past the caller's limit; the consumer index only moves forward, within capacity.
            ASSERT_TRUE(std::all_of(buf.begin() + static_cast<std::ptrdiff_t>(limit), buf.end(),
                                    [](std::uint8_t x) { return x == 0xa5; }));
            ASSERT_LE(r.rx.cons - cons_before, r.capacity);
            ASSERT_EQ(r.rx.cons % 8, 0u);
            ASSERT_EQ(r.rx.rx->cons, r.rx.cons);
        }
    }
    EXPECT_GT(faults, 1000u);
    EXPECT_GT(delivered, 1000u);
}

TEST(EdgeRing, HostileReceiverCannotMakeSenderOverwrite) {
    const std::uint64_t seed = seed_from_env(0x4ecd);
    SCOPED_TRACE(::testing::Message() << "seed " << seed << " (rerun with RVM_SEED=" << seed << ")");
    std::printf("EdgeRing.HostileReceiver seed %llu\n", static_cast<unsigned long long>(seed));
    std::mt19937_64 rng(seed);
    std::uint64_t faults = 0;
    for (int iter = 0; iter < 2000; ++iter) {
        Ring r(4096);
        std::vector<std::uint8_t> before;
        std::uint8_t msg[600];
        for (int step = 0; step < 30; ++step) {
            // The receiver consumes honestly, or writes anything into its page.
            const std::uint64_t prod = r.tx.prod;
            switch (rng() % 4) {
                case 0: r.rx.rx->cons = rng(); break;
                case 1: r.rx.rx->cons = prod - rng() % (2 * r.capacity); break;
                case 2: r.rx.rx->cons = prod + rng() % 64; break;
                default: (void)rvm_edge_discard(&r.rx); break;
            }
            const std::uint64_t cons = r.rx.rx->cons;
            const std::vector<std::uint8_t> rx_page(r.bytes() + RVM_EDGE_RX_OFFSET(r.capacity),
                                                    r.bytes() + r.window_size());
            before.assign(r.bytes(), r.bytes() + r.window_size());
            const std::uint64_t len = 1 + rng() % sizeof msg;
            std::memset(msg, static_cast<int>(step), sizeof msg);
            const rvm_ret_t s = rvm_edge_send(&r.tx, msg, len);
            ASSERT_TRUE(s == 0 || status_of(s) == RVM_E_EXHAUSTED || status_of(s) == RVM_E_FAULT) << s;
            faults += s < 0 && status_of(s) == RVM_E_FAULT;
            // The sender never writes the receiver's page ...
            ASSERT_TRUE(std::equal(rx_page.begin(), rx_page.end(), r.bytes() + RVM_EDGE_RX_OFFSET(r.capacity)));
            // ... and, when cons is in range, never touches the unread bytes [cons, prod).
            if (prod - cons <= r.capacity) {
                for (std::uint64_t i = cons; i != prod; ++i) {
                    const std::size_t at = RVM_EDGE_DATA_OFFSET + (i & (r.capacity - 1));
                    ASSERT_EQ(r.bytes()[at], before[at]) << "unread byte " << i << " overwritten";
                }
            }
            if (s != 0) {
                ASSERT_EQ(r.tx.prod, prod);
            }
            ASSERT_LE(r.tx.prod - prod, r.capacity);
            r.rx.cons = r.rx.rx->cons;  // the honest receiver handle follows whatever was written
            if (r.rx.cons % 8 != 0) r.rx.cons = r.rx.rx->cons = r.tx.prod;
        }
    }
    EXPECT_GT(faults, 100u);
}

}  // namespace
