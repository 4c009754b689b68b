#include "platform/aarch64-virt/bench.hpp"

#include "nucleus/witness_log.hpp"
#include "platform/aarch64-virt/console.hpp"
#include "platform/aarch64-virt/guest_images.hpp"
#include "platform/aarch64-virt/halt.hpp"

namespace rvm::bm {

namespace {
constexpr std::uint64_t kAppends = 10'000;
constexpr std::uint64_t kLoops = 10'000;  // per bench partition loop (guests/bench.c)
}  // namespace

void run_bench(Hypervisor& hv, const KeyedHash& hash, const Clock& clock) {
    // The same WitnessLog code as the hosted build, keyed SipHash-2-4, no
    // sink (the host side, rvm-bm-witness --bench-append, also has none);
    // the fastest of three runs, as the partitions' loops.
    std::uint64_t best = 0;
    for (int run = 0; run < 3; ++run) {
        WitnessLog scratch(hash, clock, MacKey{}, nullptr);
        const std::uint64_t t0 = clock.now_ns();
        for (std::uint64_t i = 0; i < kAppends; ++i)
            (void)scratch.append(WitnessEvent{RVM_WK_VECTOR_PUT, RVM_PROOF_NONE, i, i, i, 0});
        const std::uint64_t t = clock.now_ns() - t0;
        if (run == 0 || t < best) best = t;
    }
    con() << "rvm-bench: witness_append_ps=" << Dec{best * 1000 / kAppends} << " appends=" << Dec{kAppends}
          << " (TCG)\n";

    const int bench = hv.add_guest({"bench", image_bench()});
    const int peer = hv.add_guest({"bench_peer", image_bench_peer()});
    if (bench < 0 || peer < 0) halt("cannot create the bench partitions");
    hv.set_args(bench, kLoops, 0);
    hv.set_args(peer, 3 * kLoops, 0);  // bench runs its switch loop three times
    hv.run();
}

}  // namespace rvm::bm
