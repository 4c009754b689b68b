// Hypervisor: what partitions share -- edge windows, their notifications,
// and device leases.
#include <cstddef>
#include <cstring>

#include "abi/edge.h"
#include "platform/aarch64-virt/console.hpp"
#include "platform/aarch64-virt/gic.hpp"
#include "platform/aarch64-virt/hw.hpp"
#include "platform/aarch64-virt/hypervisor.hpp"
#include "platform/aarch64-virt/timer.hpp"

namespace rvm::bm {

namespace {
constexpr std::uint64_t kEdgeCapacity = 4096;
constexpr std::uint64_t kTokenLifetimeNs = 5'000'000'000;
constexpr std::uint64_t kNotifyMaxWaitNs = 10'000'000'000;  // as on KVM (docs/abi.md)
}  // namespace

std::uint64_t Hypervisor::connect(int sender, int receiver) {
    Guest& s = guests_[static_cast<std::size_t>(sender)];
    Guest& r = guests_[static_cast<std::size_t>(receiver)];
    if (edge_count_ == edges_.size()) return 0;
    auto edge = k_.create_edge(s.partition, r.partition);
    if (!edge) return 0;
    const Rights rw{RVM_RIGHT_READ | RVM_RIGHT_WRITE};
    auto s_cap = k_.grant(s.partition, ObjectRef{RVM_OBJ_COMMEDGE, edge.value().raw()}, rw);
    auto r_cap = k_.grant(r.partition, ObjectRef{RVM_OBJ_COMMEDGE, edge.value().raw()}, rw);
    if (!s_cap || !r_cap) return 0;
    const std::uint64_t pa = kEdgePool + edge_count_ * kEdgeSlot;
    const std::uint64_t ipa = kGuestEdgeIpa + edge_count_ * kEdgeSlot;
    edges_[edge_count_++] =
        EdgeSlot{static_cast<std::size_t>(sender), static_cast<std::size_t>(receiver), pa, edge.value()};
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
    s.regs.x[0] = r.regs.x[0] = ipa;
    s.regs.x[1] = r.regs.x[1] = kEdgeCapacity;
    s.regs.x[2] = s_cap.value().raw();
    r.regs.x[2] = r_cap.value().raw();
    con() << "rvm-bm: edge " << s.name << " -> " << r.name << " window ipa=" << Hex{ipa} << '\n';
    return ipa;
}

namespace {

// The notification word a side owns (tx.notify or rx.notify).
std::uint64_t* notify_word(std::uint64_t window_pa, bool sender) {
    const std::uint64_t page = sender ? RVM_EDGE_TX_OFFSET : RVM_EDGE_RX_OFFSET(kEdgeCapacity);
    static_assert(offsetof(rvm_edge_tx_page, notify) == 0x80 && offsetof(rvm_edge_rx_page, notify) == 0x80);
    return phys<std::uint64_t>(window_pa + page + 0x80);
}

// Clears and returns the side's bits in `mask`.
std::uint64_t take_bits(std::uint64_t window_pa, bool sender, std::uint64_t mask) {
    return __atomic_fetch_and(notify_word(window_pa, sender), ~mask, __ATOMIC_ACQ_REL) & mask;
}

}  // namespace

Guest* Hypervisor::uart_holder() {
    for (std::size_t i = 0; i < count_; ++i)
        if (guests_[i].uart_leased) return &guests_[i];
    return nullptr;
}

// The physical interrupt stays active until the holder's EOI ends it (HW
// bit), so a level-triggered UART cannot storm while the holder is away.
Next Hypervisor::on_uart_irq(Guest& running) {
    Guest* h = uart_holder();
    if (h == nullptr) {
        gic_deactivate(kUartIntid);
        return Next::Resume;
    }
    if (h != &running) {
        h->uart_irq_pending = true;  // injected when it runs next (switch_to)
        return Next::Resume;
    }
    if (vgic_inject_hw(kUartIntid)) {
        ++running.virqs;
        ++running.psi_counters.irq_injections;
    } else {
        gic_deactivate(kUartIntid);
    }
    return Next::Resume;
}

void Hypervisor::end_uart_lease(Guest& g) {
    g.s2.unmap(kGuestUartIpa, 4096, g.vmid);
    g.uart_leased = false;
    gic_spi_enable(kUartIntid, false);
    mmio_write32(kUartBase + 0x38, 0);      // UARTIMSC: every interrupt masked
    mmio_write32(kUartBase + 0x44, 0x7ff);  // UARTICR: every interrupt cleared
    const auto index = static_cast<int>(&g - guests_.data());
    vgic_forget(kUartIntid, index == current_ ? nullptr : &g.vgic);
    g.uart_irq_pending = false;
    gic_deactivate(kUartIntid);  // if it was active in the holder
}

Next Hypervisor::notify_call(Guest& g) {
    const auto self = static_cast<std::size_t>(&g - guests_.data());
    const auto c =
        k_.state().caps.lookup(g.partition.index, CapHandle::from_raw(g.regs.x[1]), RVM_OBJ_COMMEDGE, Rights{});
    std::size_t slot = edge_count_;
    for (std::size_t i = 0; c && i < edge_count_; ++i)
        if (edges_[i].id.raw() == c.value().object.id && (edges_[i].sender == self || edges_[i].receiver == self))
            slot = i;
    const std::uint64_t mask = g.regs.x[2];
    rvm_ret_t status = 0;
    if (slot == edge_count_) {
        status = Status{RVM_E_BAD_HANDLE, 1}.to_ret();
    } else if (mask == 0 || (mask & ~std::uint64_t{RVM_EDGE_NOTIFY_VALID}) != 0) {
        status = Status{RVM_E_INVALID, 2}.to_ret();
    } else if (g.regs.x[0] == RVM_HC_NOTIFY_WAIT && g.regs.x[3] > kNotifyMaxWaitNs) {
        status = Status{RVM_E_INVALID, 3}.to_ret();
    }
    if (status != 0) {
        g.regs.x[0] = static_cast<std::uint64_t>(status);
        return Next::Resume;
    }
    const EdgeSlot& e = edges_[slot];
    const bool sender = e.sender == self;
    if (g.regs.x[0] == RVM_HC_NOTIFY_SIGNAL) {
        ++g.notify_signals;
        __atomic_fetch_or(notify_word(e.pa, !sender), mask, __ATOMIC_ACQ_REL);
        Guest& peer = guests_[sender ? e.receiver : e.sender];
        if (peer.wait.active && peer.wait.edge == slot && (peer.wait.mask & mask) != 0) {
            ++peer.notify_woken;
            end_wait(peer, take_bits(e.pa, !sender, peer.wait.mask));
        }
        g.regs.x[0] = 0;
        return Next::Resume;
    }
    if (const std::uint64_t bits = take_bits(e.pa, sender, mask); bits != 0) {
        g.regs.x[0] = bits;
        return Next::Resume;
    }
    const std::uint64_t now = k_.now_ns();
    g.wait = EdgeWait{true, slot, mask, g.regs.x[3] == 0 ? 0 : now + g.regs.x[3]};
    ++g.notify_waits;
    (void)sched_.block(0, static_cast<SchedTaskId>(self), now);
    return Next::Repick;
}

void Hypervisor::end_wait(Guest& g, std::uint64_t result) {
    g.wait.active = false;
    g.regs.x[0] = result;
    (void)sched_.wake(0, static_cast<SchedTaskId>(&g - guests_.data()), k_.now_ns());
}

void Hypervisor::expire_waits(std::uint64_t now) {
    for (std::size_t i = 0; i < count_; ++i) {
        Guest& g = guests_[i];
        if (!g.wait.active || g.wait.deadline_ns == 0 || now < g.wait.deadline_ns) continue;
        const EdgeSlot& e = edges_[g.wait.edge];
        end_wait(g, take_bits(e.pa, e.sender == i, g.wait.mask));  // 0 unless a bit came meanwhile
    }
}

void Hypervisor::end_edges_of(const Guest& g, bool failed) {
    const auto self = static_cast<std::size_t>(&g - guests_.data());
    for (std::size_t i = 0; i < edge_count_; ++i) {
        EdgeSlot& e = edges_[i];
        if ((e.sender != self && e.receiver != self) || e.closed) continue;
        Guest& peer = guests_[e.sender == self ? e.receiver : e.sender];
        if (failed) {
            // Each side's copy sits in the page the other side cannot write.
            static_assert(offsetof(rvm_edge_tx_page, closed) == 0x18 && offsetof(rvm_edge_rx_page, closed) == 0x18);
            __atomic_store_n(phys<std::uint64_t>(e.pa + RVM_EDGE_TX_OFFSET + 0x18), 1, __ATOMIC_RELEASE);
            __atomic_store_n(phys<std::uint64_t>(e.pa + RVM_EDGE_RX_OFFSET(kEdgeCapacity) + 0x18), 1, __ATOMIC_RELEASE);
            (void)k_.destroy_edge(e.id);
            e.closed = true;
            con() << "rvm-bm: edge " << guests_[e.sender].name << " -> " << guests_[e.receiver].name
                  << " closed: " << g.name << " failed\n";
        }
        if (peer.wait.active && peer.wait.edge == i)
            end_wait(peer, failed ? static_cast<std::uint64_t>(Status{RVM_E_STATE, 0}.to_ret()) : 0);
    }
}

bool Hypervisor::idle_until_deadline() {
    std::uint64_t earliest = 0;
    for (std::size_t i = 0; i < count_; ++i) {
        const EdgeWait& w = guests_[i].wait;
        if (w.active && w.deadline_ns != 0 && (earliest == 0 || w.deadline_ns < earliest)) earliest = w.deadline_ns;
    }
    if (earliest == 0) return false;
    const std::uint64_t now = k_.now_ns();
    hyp_timer_arm_ns(earliest > now ? earliest - now : 1);
    asm volatile("wfi" ::: "memory");  // wakes on the pending timer although EL2 masks IRQs
    if (const std::uint32_t intid = gic_ack(); intid != kSpuriousIntid) {
        gic_priority_drop(intid);
        gic_deactivate(intid);
    }
    hyp_timer_disarm();
    return true;
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
    gic_spi_enable(kUartIntid, true);  // its interrupt goes to the holder while the lease holds
    con() << "rvm-bm: lease UART -> " << g.name << " (acquired by hypercall): mapped in its stage 2\n";
}

// Expired or revoked (the holder may revoke its own lease): unmapped.
void Hypervisor::reap_leases() {
    if (!uart_registered_) return;
    const std::uint32_t expired = k_.expire_leases();
    for (Guest& g : guests_) {
        if (!g.uart_leased || k_.lease_valid(g.uart_lease)) continue;
        end_uart_lease(g);
        con() << "rvm-bm: lease of UART by " << g.name << (expired > 0 ? " expired" : " revoked")
              << ": unmapped from its stage 2\n";
    }
}

}  // namespace rvm::bm
