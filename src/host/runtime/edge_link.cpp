#include "host/runtime/edge_link.hpp"

#include <algorithm>
#include <chrono>
#include <cstddef>

#include "abi/edge.h"

namespace rvm::host {

namespace {
constexpr std::uint64_t kTxNotify = RVM_EDGE_TX_OFFSET + offsetof(rvm_edge_tx_page, notify);
constexpr std::uint64_t kTxBytes = RVM_EDGE_TX_OFFSET + offsetof(rvm_edge_tx_page, bytes_sent);
constexpr std::uint64_t kTxMsgs = RVM_EDGE_TX_OFFSET + offsetof(rvm_edge_tx_page, msgs_sent);
constexpr std::uint64_t kRxNotify = offsetof(rvm_edge_rx_page, notify);
constexpr std::uint64_t kRxBytes = offsetof(rvm_edge_rx_page, bytes_received);
}  // namespace

EdgeLink::EdgeLink(EdgeId i, PartitionId s, PartitionId d, std::uint64_t cap, kvm::GuestRam w)
    : id(i), source(s), dest(d), capacity(cap), window(std::move(w)) {
    // The header the host owns: written once, before either side runs.
    word(offsetof(rvm_edge_tx_page, magic)).store(RVM_EDGE_MAGIC);
    word(offsetof(rvm_edge_tx_page, version)).store(RVM_EDGE_VERSION);  // + reserved0 = 0
    word(offsetof(rvm_edge_tx_page, capacity)).store(capacity);
}

std::atomic_ref<std::uint64_t> EdgeLink::word(std::uint64_t offset) {
    // SAFETY: every offset used is 8-byte aligned inside the window (the
    // layout is fixed by abi/edge.h and the window is page-aligned).
    return std::atomic_ref<std::uint64_t>(*reinterpret_cast<std::uint64_t*>(window.bytes().data() + offset));
}

void EdgeLink::signal(bool to_sender, std::uint64_t bits) {
    const std::uint64_t at = to_sender ? kTxNotify : RVM_EDGE_RX_OFFSET(capacity) + kRxNotify;
    word(at).fetch_or(bits, std::memory_order_seq_cst);
    {
        std::lock_guard<std::mutex> g(mu_);  // a waiter between its check and its sleep sees the bits
    }
    cv_.notify_all();
}

std::uint64_t EdgeLink::wait(bool sender_side, std::uint64_t mask, std::uint64_t timeout_ns,
                             const std::atomic<bool>& stop) {
    const std::uint64_t at = sender_side ? kTxNotify : RVM_EDGE_RX_OFFSET(capacity) + kRxNotify;
    auto w = word(at);
    std::uint64_t bits = 0;
    const auto ready = [&] {
        bits = w.fetch_and(~mask, std::memory_order_seq_cst) & mask;
        return bits != 0 || closed_.load() || stop.load();
    };
    std::unique_lock<std::mutex> g(mu_);
    if (timeout_ns == 0) {
        cv_.wait(g, ready);
    } else {
        cv_.wait_for(g, std::chrono::nanoseconds(timeout_ns), ready);
    }
    return bits;
}

void EdgeLink::wake() {
    { std::lock_guard<std::mutex> g(mu_); }
    cv_.notify_all();
}

void EdgeLink::close() {
    closed_ = true;
    word(offsetof(rvm_edge_tx_page, closed)).store(1, std::memory_order_release);
    word(RVM_EDGE_RX_OFFSET(capacity) + offsetof(rvm_edge_rx_page, closed)).store(1, std::memory_order_release);
    wake();
}

std::uint64_t EdgeLink::bytes() { return word(kTxBytes).load(std::memory_order_relaxed); }
std::uint64_t EdgeLink::messages() { return word(kTxMsgs).load(std::memory_order_relaxed); }

void EdgeLink::update_weight() {
    // Both ends count: the sender what it sent, the receiver what it took.
    // Each side writes its own counter, so an epoch's traffic is the smaller
    // delta -- neither end alone can inflate the edge's weight.
    const std::uint64_t sent = word(kTxBytes).load(std::memory_order_relaxed);
    const std::uint64_t taken = word(kRxBytes + RVM_EDGE_RX_OFFSET(capacity)).load(std::memory_order_relaxed);
    const std::uint64_t ds = sent >= last_bytes_ ? sent - last_bytes_ : 0;
    const std::uint64_t dr = taken >= last_taken_ ? taken - last_taken_ : 0;
    last_moved_ = std::min(ds, dr);
    weight_ = kEdgeDecay * weight_ + static_cast<double>(last_moved_);
    last_bytes_ = sent;
    last_taken_ = taken;
}

}  // namespace rvm::host
