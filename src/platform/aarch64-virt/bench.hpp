// The benchmark phase (docs/baremetal.md): witness append at EL2, then the
// bench partitions, which time a bare HVC loop, null hypercalls into the
// nucleus and partition switches (yields between two partitions) and print
// ratios. Under TCG only the ratios mean anything.
#pragma once

#include "nucleus/clock.hpp"
#include "nucleus/keyed_hash.hpp"
#include "platform/aarch64-virt/hypervisor.hpp"

namespace rvm::bm {

void run_bench(Hypervisor& hv, const KeyedHash& hash, const Clock& clock);

}  // namespace rvm::bm
