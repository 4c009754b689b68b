/* RVM for WebAssembly agents: the "rvm" import module, for C compiled with
 * clang --target=wasm32-wasi (docs/wasm.md). Pointers are offsets in the
 * module's own memory; the runtime bounds-checks them. Results are RVM's:
 * >= 0 success, < 0 an RVM error -(status | arg << 8) (docs/abi.md). */
#ifndef RVM_WASM_AGENT_H
#define RVM_WASM_AGENT_H

#include <stdint.h>

#if !defined(__wasm__)
#error "rvm/wasm_agent.h is for code compiled to WebAssembly; native agents use rvm/guest.h"
#endif

#define RVM_WASM_IMPORT(name) __attribute__((import_module("rvm"), import_name(#name)))

#ifdef __cplusplus
extern "C" {
#endif

/* One log line (at most 4096 bytes; a trailing newline is dropped). */
RVM_WASM_IMPORT(log) int32_t rvm_log(const char* buf, uint32_t len);
/* Ends the agent with `code` (WASI proc_exit does the same). */
RVM_WASM_IMPORT(exit) _Noreturn void rvm_exit(int32_t code);
RVM_WASM_IMPORT(yield) int32_t rvm_yield(void);
/* Nanoseconds since the partition started. */
RVM_WASM_IMPORT(clock_ns) int64_t rvm_clock_ns(void);
/* CommEdges the manifest connected to this partition ([[edge]], in order). */
RVM_WASM_IMPORT(edge_count) int32_t rvm_edge_count(void);
/* Sends one message (1 .. capacity/2 bytes) on edge k; waits up to
 * timeout_ns for room (0: RVM_E_EXHAUSTED at once when full). 0 or an error. */
RVM_WASM_IMPORT(edge_send) int64_t rvm_edge_send(uint32_t k, const void* msg, uint32_t len, uint64_t timeout_ns);
/* Receives one message from edge k into buf; waits up to timeout_ns (0: do
 * not wait). Its length, 0 if none arrived, or an error. */
RVM_WASM_IMPORT(edge_recv) int64_t rvm_edge_recv(uint32_t k, void* buf, uint32_t cap, uint64_t timeout_ns);
/* Ψ (transition intensity, abi/psi.h). */
RVM_WASM_IMPORT(psi_register) int32_t rvm_psi_register(void);
RVM_WASM_IMPORT(psi_update) int32_t rvm_psi_update(uint64_t ratio_ppm, uint64_t committed, uint64_t deferred);
RVM_WASM_IMPORT(psi_query) int64_t rvm_psi_query(uint32_t what);

#ifdef __cplusplus
}
#endif

#endif
