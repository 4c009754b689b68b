// EdgeLink: the host's side of one CommEdge on KVM (DESIGN.md 3, abi/edge.h):
// the memfd window both partitions map (each writable only where it owns
// it), the notification words the host sets for notify_signal, the sleepers
// of notify_wait, and the per-epoch edge weight read from the sender's
// counters (no cost on the data path). Everything in the window is written
// by guests and is hostile: the host only reads the counters and ORs bits.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <optional>

#include "backend/kvm/guest_ram.hpp"
#include "nucleus/handle.hpp"

namespace rvm::host {

// Data capacities served on KVM: a window (8 KiB + capacity) fits one
// RVM_EDGE_SLOT_SIZE slot.
inline constexpr std::uint64_t kEdgeMinCapacity = 4096;
inline constexpr std::uint64_t kEdgeMaxCapacity = 1u << 20;
inline constexpr double kEdgeDecay = 0.95;  // weight per epoch (seed 002)

class EdgeLink {
public:
    EdgeLink(EdgeId id, PartitionId source, PartitionId dest, std::uint64_t capacity, kvm::GuestRam window);

    // Sets `bits` in the notification word of the sender's (to_sender) or the
    // receiver's page and wakes a sleeper of that side.
    void signal(bool to_sender, std::uint64_t bits);
    // Waits until a bit of `mask` is set in the side's word, the edge closes,
    // `stop` says so, or `timeout_ns` passes (0: no timeout); clears and
    // returns those bits (0 on timeout, close or stop). `stop` is checked on
    // every wake-up; wake() wakes every sleeper to check.
    [[nodiscard]] std::uint64_t wait(bool sender_side, std::uint64_t mask, std::uint64_t timeout_ns,
                                     const std::atomic<bool>& stop);
    void wake();

    // The edge is gone (destroyed or a side failed): notify_wait returns.
    void close();
    [[nodiscard]] bool closed() const { return closed_.load(); }

    // Once per epoch: weight = decay * weight + payload bytes moved since
    // last time (the smaller of what the sender sent and the receiver took).
    void update_weight();
    [[nodiscard]] double weight() const { return weight_; }
    [[nodiscard]] std::uint64_t last_moved() const { return last_moved_; }  // in the last epoch
    // The sender's counters now (payload bytes of DATA records, records).
    [[nodiscard]] std::uint64_t bytes();
    [[nodiscard]] std::uint64_t messages();

    const EdgeId id;
    const PartitionId source, dest;
    const std::uint64_t capacity;
    kvm::GuestRam window;
    // The zero-copy region (seed 002 6.1), if the edge has one: the nucleus
    // region (owned by the sender, shared read-only with the receiver) and
    // the memory behind it.
    std::optional<kvm::GuestRam> share;
    RegionId share_region;

private:
    std::atomic_ref<std::uint64_t> word(std::uint64_t offset);
    std::mutex mu_;
    std::condition_variable cv_;
    std::atomic<bool> closed_{false};
    double weight_ = 0;
    std::uint64_t last_bytes_ = 0, last_taken_ = 0, last_moved_ = 0;
};

}  // namespace rvm::host
