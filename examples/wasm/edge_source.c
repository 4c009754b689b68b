/* agent_wasm_edge_source: a WebAssembly agent in C (clang --target=wasm32-wasi)
 * that streams messages over a CommEdge to a native agent
 * (agent_edge_node, role sink), in the sink's format: message i is a
 * 16-byte header {u64 seq = i, u64 len} and len - 16 bytes with byte
 * j = (i * 31 + j) & 0xff, len = 16 + (i * 7) % 241.
 * Run: rvm run examples/manifests/wasm_edge.toml */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <rvm/wasm_agent.h>

#define MESSAGES 1000u

int main(void) {
    if (rvm_edge_count() < 1) {
        printf("wasm source: no edge\n");
        return 3;
    }
    uint8_t msg[256];
    const int64_t t0 = rvm_clock_ns();
    for (uint64_t i = 0; i < MESSAGES; ++i) {
        const uint64_t len = 16u + (i * 7u) % 241u;
        memcpy(msg, &i, 8);
        memcpy(msg + 8, &len, 8);
        for (uint64_t j = 16; j < len; ++j) msg[j] = (uint8_t)((i * 31u + j) & 0xffu);
        const int64_t r = rvm_edge_send(0, msg, (uint32_t)len, 1000000000ull);
        if (r < 0) {
            printf("wasm source: send %llu failed: %lld\n", (unsigned long long)i, (long long)r);
            return 4;
        }
    }
    printf("wasm source: sent %u messages in %lld us\n", MESSAGES, (long long)((rvm_clock_ns() - t0) / 1000));
    return 0;
}
