// Cell: the isolation boundary on KVM -- one VM -- and the agent partitions
// whose address spaces live in it (nucleus Partition::cell). A partition
// starts alone in its cell; live reshaping (AgentRunner::merge / split /
// migrate) moves partitions between cells: their vCPUs are recreated in the
// target VM with their state (KvmVcpu::rehome) and their memory is mapped
// there at the same guest-physical addresses.
//
// That is possible because guest-physical addresses are host-wide: partition
// p's space (its RAM, zero-copy regions placed by its nucleus buddy) sits at
// partition_gpa_base(p) and every edge window at edge_gpa(e), so nothing a
// partition maps collides with what another maps, whichever cell they share.
// Guests never see guest-physical addresses: their page tables map the same
// virtual layout (abi/agent.h) wherever the memory is.
//
// Memslots: each member states what it maps (MemMap); the cell keeps the
// union, one memslot per range, read-only unless some member writes it (an
// edge whose two ends share a cell is writable by both in the VM; their page
// tables still let each side write only what it owns).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "backend/kvm/guest_ram.hpp"
#include "backend/kvm/kvm_vm.hpp"
#include "nucleus/config.hpp"
#include "nucleus/handle.hpp"
#include "nucleus/result.hpp"

namespace rvm::host {

// The host-wide guest-physical layout: a 4 GiB window per partition slot
// (a partition's space is at most 4 GiB: twice 1 GiB of RAM plus tables),
// then one 2 MiB window per edge slot. The top, about 260 GiB, is below
// every x86-64 MAXPHYADDR KVM supports (>= 36 bits is not enough; RVM needs
// 39 bits, checked in KvmSystem's caller).
inline constexpr std::uint64_t kPartitionGpaWindow = std::uint64_t{1} << 32;
[[nodiscard]] constexpr std::uint64_t partition_gpa_base(PartitionId p) {
    return (std::uint64_t{p.index} + 1) * kPartitionGpaWindow;
}
inline constexpr std::uint64_t kEdgeGpaBase = (std::uint64_t{kMaxPartitions} + 1) * kPartitionGpaWindow;
inline constexpr std::uint64_t kEdgeGpaWindow = std::uint64_t{2} << 20;
[[nodiscard]] constexpr std::uint64_t edge_gpa(EdgeId e) {
    return kEdgeGpaBase + std::uint64_t{e.index} * kEdgeGpaWindow;
}
inline constexpr std::uint64_t kGpaTop = kEdgeGpaBase + std::uint64_t{kMaxEdges} * kEdgeGpaWindow;

// One range a member maps: `size` bytes of `ram` from `offset` at `gpa`.
struct MemMap {
    std::uint64_t gpa = 0;
    const kvm::GuestRam* ram = nullptr;
    std::uint64_t offset = 0;
    std::uint64_t size = 0;
    bool write = false;
};

class Cell {
public:
    [[nodiscard]] static Result<std::shared_ptr<Cell>, std::string> create(const kvm::KvmSystem& sys);
    Cell(const Cell&) = delete;
    Cell& operator=(const Cell&) = delete;
    ~Cell();

    // Sets what member `who` (a partition's raw handle) maps and brings the
    // VM's memslots to the union of every member's maps. Adding is safe
    // while vCPUs run; removing or re-flagging a range another member uses
    // is not: the caller holds every member's vCPUs out of the guest then.
    // On failure the previous memslots are restored as far as KVM allows.
    [[nodiscard]] Result<void, std::string> set_maps(std::uint64_t who, std::vector<MemMap> maps);
    // `who` leaves: its maps go (those another member also maps stay).
    [[nodiscard]] Result<void, std::string> drop(std::uint64_t who);
    // What member `who` maps (empty: not a member).
    [[nodiscard]] std::vector<MemMap> maps_of(std::uint64_t who) const;
    [[nodiscard]] std::size_t members() const;

    kvm::KvmVm& vm() { return vm_; }
    // The vCPU id for a new or arriving vCPU (ids are never reused in a VM).
    [[nodiscard]] std::uint32_t next_vcpu_id();

private:
    explicit Cell(kvm::KvmVm vm) : vm_(std::move(vm)) {}
    struct Slot {
        std::uint32_t id = 0;
        MemMap map;
    };
    [[nodiscard]] Result<void, std::string> reconcile();
    [[nodiscard]] std::map<std::uint64_t, MemMap> wanted() const;

    mutable std::mutex mu_;
    kvm::KvmVm vm_;
    std::map<std::uint64_t, std::vector<MemMap>> wants_;  // by member
    std::map<std::uint64_t, Slot> slots_;                 // by gpa: what the VM has
};

}  // namespace rvm::host
