// platform_main: boot of the RVM nucleus at EL2 on QEMU virt, then the demo
// (docs/baremetal.md): partitions that log, spin, fault and talk over an
// edge, a benchmark phase, and the witness log out over the UART.
#include <cstdint>
#include <new>

#include "nucleus/kernel.hpp"
#include "nucleus/scheduler.hpp"
#include "nucleus/syscalls.hpp"
#include "nucleus/witness_log.hpp"
#include "platform/aarch64-virt/bench.hpp"
#include "platform/aarch64-virt/console.hpp"
#include "platform/aarch64-virt/gic.hpp"
#include "platform/aarch64-virt/guest_images.hpp"
#include "platform/aarch64-virt/halt.hpp"
#include "platform/aarch64-virt/hypervisor.hpp"
#include "platform/aarch64-virt/mmu.hpp"
#include "platform/aarch64-virt/pl011.hpp"
#include "platform/aarch64-virt/siphash.hpp"
#include "platform/aarch64-virt/stage2.hpp"
#include "platform/aarch64-virt/timer.hpp"
#include "platform/aarch64-virt/uart_witness_sink.hpp"
#include "platform/aarch64-virt/vgic.hpp"

// The constructor table bounds link.ld defines.
// NOLINTBEGIN(bugprone-reserved-identifier): deviations.md#baremetal-runtime-names
extern "C" void (*const __init_array_start[])();
extern "C" void (*const __init_array_end[])();
// NOLINTEND(bugprone-reserved-identifier)

namespace rvm::bm {

namespace {

// Nucleus objects are large (fixed tables) and live in .bss; they are built
// in place once the MMU is on.
template <typename T>
struct Slot {
    alignas(T) unsigned char bytes[sizeof(T)];
    template <typename... A>
    T& make(A&&... a) {
        return *::new (static_cast<void*>(bytes)) T(static_cast<A&&>(a)...);
    }
};

SipHash24 hash;
CounterClock clock;
UartWitnessSink sink;
Scheduler sched;
Slot<WitnessLog> log_slot;
Slot<Kernel> kernel_slot;
Slot<Syscalls> syscalls_slot;
Slot<Hypervisor> hv_slot;

// QEMU virt has no entropy source we could trust without a virtio-rng; the
// demo keys come from the counter at boot. They are chain keys, not
// secrets the host needs: sealed segments disclose theirs (witness-format.md).
MacKey boot_key(std::uint64_t salt) {
    MacKey k{};
    const std::uint64_t c = counter();
    for (std::size_t i = 0; i < 16; ++i) k.bytes[i] = static_cast<std::uint8_t>((c ^ salt) >> (8 * (i % 8)) ^ i);
    MacKey out{};
    const std::uint64_t a = hash.mac(k, {reinterpret_cast<const std::uint8_t*>(&c), sizeof c});
    const std::uint64_t b = hash.mac(k, {reinterpret_cast<const std::uint8_t*>(&salt), sizeof salt});
    for (std::size_t i = 0; i < 8; ++i) {
        out.bytes[i] = static_cast<std::uint8_t>(a >> (8 * i));
        out.bytes[8 + i] = static_cast<std::uint8_t>(b >> (8 * i));
    }
    return out;
}

void run_demo(Hypervisor& hv) {
    const int hello = hv.add_guest({"hello", image_hello()});
    const int spinner = hv.add_guest({"spinner", image_spinner()});
    const int fault = hv.add_guest({"fault", image_fault()});
    const int undef = hv.add_guest({"undef", image_undef()});
    const int tx = hv.add_guest({"edge_tx", image_edge_tx()});
    const int rx = hv.add_guest({"edge_rx", image_edge_rx()});
    const int lease = hv.add_guest({"uart_lease", image_uart_lease()});
    const int vtimer = hv.add_guest({"vtimer", image_vtimer()});
    if (hello < 0 || spinner < 0 || fault < 0 || undef < 0 || tx < 0 || rx < 0 || lease < 0 || vtimer < 0)
        halt("cannot create the partitions");
    if (!hv.offer_uart_lease(lease, 200'000'000)) halt("cannot offer the UART");
    const std::uint64_t window = hv.connect(tx, rx);
    if (window == 0) halt("cannot connect the edge");
    hv.run();
}

}  // namespace

extern "C" [[noreturn]] void platform_main() {
    mmu_enable();  // before any atomic or unaligned access
    for (auto f = __init_array_start; f != __init_array_end; ++f) (*f)();
    Pl011{kUartBase}.init();
    con() << "rvm-bm: RVM nucleus at EL2 on QEMU virt (counter " << Dec{counter_hz()} << " Hz)\n";

    gic_init();
    gic_enable_ppi(kHypTimerIntid);
    gic_enable_ppi(kVirtTimerIntid);
    vgic_init();
    stage2_global_init();
    hypervisor_global_init();

    const MacKey chain_master = boot_key(1);
    WitnessLog& log = log_slot.make(hash, clock, chain_master, &sink);
    Kernel& kernel = kernel_slot.make(KernelEnv{hash, clock, boot_key(2), ProofPolicy{}, &log});
    Syscalls& sys = syscalls_slot.make(kernel);
    SchedConfig sc;
    sc.quantum_ns = 2'000'000;
    sc.recovery_max_partitions = 8;
    if (!sched.configure(sc)) halt("scheduler configuration refused");
    Hypervisor& hv = hv_slot.make(kernel, sys, log, sched);

    run_demo(hv);
    con() << "rvm-bm: demo done\n";
    run_bench(hv, hash, clock);
    hv.summary();
    const WitnessHead head = log.head();
    con() << "rvm-bm: witness head records=" << Dec{head.next_sequence} << " last_hash=" << Hex{head.last_hash, 16}
          << '\n';
    // Nothing is appended after this: the open segment's key may leave too,
    // so the host can check the unsealed tail's hashes (host_tool).
    const std::uint64_t tail_segment = head.next_sequence / kWitnessSegmentRecords;
    con() << "rvm-bm: T " << Dec{tail_segment} << ' ' << Bytes{segment_key(hash, chain_master, tail_segment).bytes}
          << '\n';
    con() << "rvm-bm: END\n";
    power_off();
}

}  // namespace rvm::bm
