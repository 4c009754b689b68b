// Hypervisor: what partitions share -- edge windows and device leases.
#include <cstring>

#include "abi/edge.h"
#include "platform/aarch64-virt/console.hpp"
#include "platform/aarch64-virt/hw.hpp"
#include "platform/aarch64-virt/hypervisor.hpp"

namespace rvm::bm {

namespace {
constexpr std::uint64_t kEdgeCapacity = 4096;
constexpr std::uint64_t kTokenLifetimeNs = 5'000'000'000;
}  // namespace

std::uint64_t Hypervisor::connect(int sender, int receiver) {
    Guest& s = guests_[static_cast<std::size_t>(sender)];
    Guest& r = guests_[static_cast<std::size_t>(receiver)];
    if (!k_.create_edge(s.partition, r.partition)) return 0;
    const std::uint64_t pa = kEdgePool + edges_ * kEdgeSlot;
    const std::uint64_t ipa = kGuestEdgeIpa + edges_ * kEdgeSlot;
    ++edges_;
    // SAFETY: the edge's slot of the edge pool, identity-mapped RAM.
    auto* window = phys<std::uint8_t>(pa);
    std::memset(window, 0, RVM_EDGE_WINDOW_SIZE(kEdgeCapacity));
    rvm_edge_tx_page tx{};
    tx.magic = RVM_EDGE_MAGIC;
    tx.version = RVM_EDGE_VERSION;
    tx.capacity = kEdgeCapacity;
    std::memcpy(window + RVM_EDGE_TX_OFFSET, &tx, sizeof tx);
    const std::uint64_t own = RVM_EDGE_SENDER_SIZE(kEdgeCapacity);  // tx page + data
    const std::uint64_t rx = RVM_EDGE_RX_OFFSET(kEdgeCapacity);
    if (!s.s2.map(ipa, pa, own, S2Access::ReadWrite) || !s.s2.map(ipa + rx, pa + rx, 4096, S2Access::ReadOnly) ||
        !r.s2.map(ipa, pa, own, S2Access::ReadOnly) || !r.s2.map(ipa + rx, pa + rx, 4096, S2Access::ReadWrite))
        return 0;
    con() << "rvm-bm: edge " << s.name << " -> " << r.name << " window ipa=" << Hex{ipa} << '\n';
    return ipa;
}

bool Hypervisor::offer_uart_lease(int index, std::uint64_t duration_ns) {
    Guest& g = guests_[static_cast<std::size_t>(index)];
    if (!uart_registered_) {
        auto d = k_.register_device(kUartBase);
        if (!d) return false;
        uart_device_ = d.value();
        uart_registered_ = true;
    }
    auto cap =
        k_.grant(g.partition, ObjectRef{RVM_OBJ_DEVICE, uart_device_.raw()}, Rights{RVM_RIGHT_LEASE | RVM_RIGHT_PROVE});
    if (!cap) return false;
    const CallArgs args{cap.value().raw(), duration_ns, 0, 0, 0};
    // Standard tokens must expire (ProofPolicy bounds their lifetime).
    auto token = k_.mint_proof(g.partition, cap.value(), RVM_PROOF_STANDARD, RVM_HC_DEVICE_LEASE_ACQUIRE, args,
                               k_.now_ns() + kTokenLifetimeNs);
    if (!token) return false;
    // SAFETY: kGuestTokenIpa lies in the guest's RAM slot (memory_map.hpp),
    // above any image add_guest accepts.
    std::memcpy(phys<void>(g.ram_pa + (kGuestTokenIpa - kGuestRamIpa)), &token.value().raw, sizeof token.value().raw);
    set_args(index, cap.value().raw(), kGuestTokenIpa);
    con() << "rvm-bm: UART offered to " << g.name << ": device capability and one proof token for a "
          << Dec{duration_ns / 1'000'000} << " ms lease\n";
    return true;
}

// After a successful lease_acquire: the caller's live lease of the UART.
void Hypervisor::map_new_lease(Guest& g) {
    if (!uart_registered_ || g.uart_leased) return;
    bool found = false;
    LeaseId id;
    k_.state().leases.for_each([&](LeaseId l, const DeviceLease& lease) {
        if (lease.holder == g.partition && lease.device == uart_device_ && k_.lease_valid(l)) {
            id = l;
            found = true;
        }
    });
    if (!found || !g.s2.map(kGuestUartIpa, kUartBase, 4096, S2Access::Device)) return;
    g.uart_lease = id;
    g.uart_leased = true;
    con() << "rvm-bm: lease UART -> " << g.name << " (acquired by hypercall): mapped in its stage 2\n";
}

// Expired or revoked (the holder may revoke its own lease): unmapped.
void Hypervisor::reap_leases() {
    if (!uart_registered_) return;
    const std::uint32_t expired = k_.expire_leases();
    for (Guest& g : guests_) {
        if (!g.uart_leased || k_.lease_valid(g.uart_lease)) continue;
        g.s2.unmap(kGuestUartIpa, 4096, g.vmid);
        g.uart_leased = false;
        con() << "rvm-bm: lease of UART by " << g.name << (expired > 0 ? " expired" : " revoked")
              << ": unmapped from its stage 2\n";
    }
}

}  // namespace rvm::bm
