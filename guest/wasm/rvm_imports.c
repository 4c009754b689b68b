/* RVM wasm runtime: the "rvm" import module, RVM's guest ABI for wasm
 * agents (guest/wasm/include/rvm/wasm_agent.h is its C header for code
 * compiled to wasm32). Pointers are offsets in the module's memory and are
 * bounds-checked here; results are the hypercall's (negative = RVM error,
 * docs/abi.md). */
#include <rvm/edges.h>
#include <rvm/guest.h>
#include <rvm/wasm_runtime.h>

struct Z_rvm_instance_t rvm_rvm_instance;
typedef struct Z_rvm_instance_t rvm_t;

static struct rvm_edge edges[RVM_EDGE_MAX];
static uint8_t edge_open[RVM_EDGE_MAX];

#define FAULT(arg) rvm_make_error(RVM_E_FAULT, arg)

u32 Z_rvmZ_log(rvm_t* r, u32 ptr, u32 len) {
    (void)r;
    if (len > RVM_LOG_MAX) return (u32)rvm_make_error(RVM_E_INVALID, 2);
    const uint8_t* p = rvm_wasm_mem(ptr, len);
    if (p == NULL) return (u32)FAULT(1);
    rvm_wasm_flush();
    return (u32)rvm_log((const char*)p, len);
}

void Z_rvmZ_exit(rvm_t* r, u32 code) {
    (void)r;
    rvm_wasm_exit((int)code);
}

u32 Z_rvmZ_yield(rvm_t* r) {
    (void)r;
    return (u32)rvm_yield();
}

u64 Z_rvmZ_clock_ns(rvm_t* r) {
    (void)r;
    return rvm_clock_ns();
}

u32 Z_rvmZ_edge_count(rvm_t* r) {
    (void)r;
    return (u32)rvm_edge_count();
}

static struct rvm_edge* edge(u32 k, rvm_ret_t* err) {
    if (k >= RVM_EDGE_MAX) {
        *err = rvm_make_error(RVM_E_INVALID, 1);
        return NULL;
    }
    if (!edge_open[k]) {
        const rvm_ret_t o = rvm_edge_open(&edges[k], k);
        if (rvm_is_error(o)) {
            *err = rvm_error_status(o) == RVM_E_INVALID ? rvm_make_error(RVM_E_INVALID, 1) : o;
            return NULL;
        }
        edge_open[k] = 1;
    }
    return &edges[k];
}

/* Sends one message on edge k, waiting up to timeout_ns for room (0: do
 * not wait). Returns 0 or an RVM error. */
u64 Z_rvmZ_edge_send(rvm_t* r, u32 k, u32 ptr, u32 len, u64 timeout_ns) {
    (void)r;
    rvm_ret_t err = 0;
    struct rvm_edge* e = edge(k, &err);
    if (e == NULL) return (u64)err;
    const uint8_t* p = rvm_wasm_mem(ptr, len);
    if (p == NULL) return (u64)FAULT(2);
    const uint64_t deadline = rvm_clock_ns() + timeout_ns;
    for (;;) {
        const rvm_ret_t s = rvm_edge_send(e, p, len);
        if (s == 0) {
            rvm_edge_kick(e);
            return 0;
        }
        const uint64_t now = rvm_clock_ns();
        if (rvm_error_status(s) != RVM_E_EXHAUSTED || timeout_ns == 0 || now >= deadline) return (u64)s;
        const rvm_ret_t w = rvm_edge_wait_space(e, len, deadline - now);
        if (rvm_is_error(w)) return (u64)w;
    }
}

/* Receives one message from edge k into [ptr, ptr + cap), waiting up to
 * timeout_ns (0: do not wait). Returns its length, 0 if none arrived, or an
 * RVM error. */
u64 Z_rvmZ_edge_recv(rvm_t* r, u32 k, u32 ptr, u32 cap, u64 timeout_ns) {
    (void)r;
    rvm_ret_t err = 0;
    struct rvm_edge* e = edge(k, &err);
    if (e == NULL) return (u64)err;
    uint8_t* p = rvm_wasm_mem(ptr, cap);
    if (p == NULL) return (u64)FAULT(2);
    rvm_ret_t n = rvm_edge_recv(e, p, cap);
    if (n == 0 && timeout_ns != 0) {
        const rvm_ret_t w = rvm_edge_wait_data(e, timeout_ns);
        if (rvm_is_error(w)) return (u64)w;
        n = rvm_edge_recv(e, p, cap);
    }
    if (n > 0) rvm_edge_kick(e);
    return (u64)n;
}

/* The Ψ calls (abi/psi.h): register, update, query. */
u32 Z_rvmZ_psi_register(rvm_t* r) {
    (void)r;
    return (u32)rvm_psi_register();
}
u32 Z_rvmZ_psi_update(rvm_t* r, u64 ratio_ppm, u64 committed, u64 deferred) {
    (void)r;
    return (u32)rvm_psi_update(ratio_ppm, committed, deferred);
}
u64 Z_rvmZ_psi_query(rvm_t* r, u32 what) {
    (void)r;
    return (u64)rvm_psi_query(what);
}
