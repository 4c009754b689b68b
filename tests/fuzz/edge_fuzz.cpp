// libFuzzer target: the CommEdge receive path against a hostile sender.
// The input is what the sender controls, laid out so that mutations land
// where the receiver looks:
//   [0, 8)    prod, the producer index in the tx page
//   [8, 16)   cons, where the receiver stands (its own index; 8-aligned here)
//   [16]      n, the number of script bytes that follow
//   [17, 17+n) the script: one receive call per byte, or a sender move
//   rest      the data area, written from cons's offset on, wrapping
// (The receive path never reads the rest of the tx page after attach.)
// Every call must return an error, 0, or a record that lies inside the ring
// and fits the caller's buffer; the consumer index only moves forward, by at
// most the capacity; nothing outside the window is read (ASan); every call
// returns.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>

#include <rvm/edge.h>

namespace {

constexpr std::uint64_t kCapacity = 4096;
constexpr std::size_t kWindow = RVM_EDGE_WINDOW_SIZE(kCapacity);
constexpr std::size_t kMaxCalls = 64;

void check(bool ok) {
    if (!ok) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    // Exactly sized, so ASan flags any read past the window.
    const auto words = std::make_unique<std::uint64_t[]>(kWindow / 8);
    check(rvm_edge_format(words.get(), kCapacity) == 0);
    rvm_edge rx{};
    check(rvm_edge_attach(&rx, words.get(), kCapacity, RVM_EDGE_RECEIVER, 0) == 0);

    // The sender scribbles over what it owns, after the receiver attached.
    if (size < 17) return 0;
    std::uint64_t cons = 0;
    std::memcpy(&rx.tx->prod, data, 8);
    std::memcpy(&cons, data + 8, 8);
    rx.cons = cons & ~7ull;
    rx.rx->cons = rx.cons;
    const std::size_t script = std::min<std::size_t>(data[16], size - 17);
    const std::uint8_t* ops = data + 17;
    auto* ring = reinterpret_cast<std::uint8_t*>(words.get()) + RVM_EDGE_DATA_OFFSET;
    for (std::size_t i = 17 + script, k = 0; i < size && k < kCapacity; ++i, ++k) {
        ring[(rx.cons + k) & (kCapacity - 1)] = data[i];
    }
    std::size_t at = 0;
    std::uint8_t buf[kCapacity + 16];
    for (std::size_t call = 0; call < kMaxCalls; ++call) {
        const std::uint8_t op = at < script ? ops[at++] : static_cast<std::uint8_t>(call);
        const std::uint64_t limit = 1 + (std::uint64_t{op} >> 3u) * 97u % kCapacity;
        const std::uint64_t cons_before = rx.cons;
        if ((op & 7) <= 1) std::memset(buf, 0xa5, sizeof buf);
        rvm_ret_t n = 0;
        rvm_edge_desc d{};
        std::uint32_t type = 0;
        switch (op & 7) {
            case 0:
            case 1: n = rvm_edge_recv(&rx, buf, limit); break;
            case 2: n = rvm_edge_recv_desc(&rx, &d); break;
            case 3: n = rvm_edge_discard(&rx); break;
            case 4: n = rvm_edge_peek(&rx, &type); break;
            case 5: n = rvm_edge_poll(&rx); break;
            case 6: rx.tx->prod += std::uint64_t{8} * (op >> 3u); continue;  // the sender publishes more
            default: {                                                       // the sender rewrites the next header
                const std::uint64_t h = (static_cast<std::uint64_t>(op >> 3) << 32) | (std::uint64_t{op} * 8u);
                std::memcpy(ring + (rx.cons & (kCapacity - 1)), &h, 8);
                continue;
            }
        }
        if (n < 0) {
            const std::uint32_t s = rvm_error_status(n);
            check(s == RVM_E_FAULT || s == RVM_E_WRONG_TYPE || s == RVM_E_INVALID);
        } else {
            check(static_cast<std::uint64_t>(n) <= kCapacity);
            if ((op & 7) <= 1 && n > 0) check(static_cast<std::uint64_t>(n) <= limit);
            if ((op & 7) == 2 && n > 0) check(n == sizeof d);
        }
        if ((op & 7) <= 1) {
            for (std::size_t i = limit; i < sizeof buf; ++i) check(buf[i] == 0xa5);
        }
        check(rx.cons - cons_before <= kCapacity && rx.cons % 8 == 0 && rx.rx->cons == rx.cons);
    }
    return 0;
}
