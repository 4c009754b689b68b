// The EL2 stage-1 MMU: an identity map of the low 4 GiB, devices below RAM
// as Device-nGnRnE and RAM as normal write-back memory. It must be on
// before the first atomic (SpinLock) or unaligned access: exclusives and
// unaligned accesses fault on Device memory, which is what EL2 sees with
// the MMU off.
#pragma once

namespace rvm::bm {

void mmu_enable();

}  // namespace rvm::bm
