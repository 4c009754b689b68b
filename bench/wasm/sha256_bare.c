/* The kernel for wabt's wasm-interp, which has no WASI here: a bare module
 * (clang --target=wasm32 -nostdlib) exporting run(), 1 MiB x 4. The run
 * script times the interpreter process and compares per byte. */
#include "sha256_core.h"

void* memset(void* d, int c, size_t n) {
    uint8_t* p = d;
    while (n--) *p++ = (uint8_t)c;
    return d;
}

static uint8_t buf[1u << 20];

__attribute__((export_name("run"))) uint32_t run(void) {
    uint32_t h[8];
    sha_fill(buf, sizeof buf);
    for (int r = 0; r < SHA_BENCH_ROUNDS; ++r) sha256(buf, sizeof buf, h);
    return h[0];
}
