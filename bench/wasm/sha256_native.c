/* agent_sha256: the wasm benchmark's kernel as a native agent (baseline). */
#include <rvm/guest.h>

#include "sha256_core.h"

int main(const struct rvm_info* info) {
    if (info->heap_end - info->heap_start < SHA_BENCH_BYTES) return 2;
    uint8_t* buf = (uint8_t*)(uintptr_t)info->heap_start;
    sha_fill(buf, SHA_BENCH_BYTES);
    uint32_t h[8];
    const uint64_t t0 = rvm_clock_ns();
    for (int r = 0; r < SHA_BENCH_ROUNDS; ++r) sha256(buf, SHA_BENCH_BYTES, h);
    const uint64_t ns = rvm_clock_ns() - t0;
    rvm_logf("sha256: bytes=%lu ns=%lu digest=%08x%08x\n", (uint64_t)SHA_BENCH_BYTES * SHA_BENCH_ROUNDS, ns, h[0], h[1]);
    return 0;
}
