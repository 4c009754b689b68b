/* RVM wasm runtime: a WASI preview-1 subset (module
 * "wasi_snapshot_preview1") on RVM's hypercalls, enough for a C program
 * built with clang --target=wasm32-wasi and wasi-libc: stdout/stderr become
 * log lines, args and environment come from the manifest (the blob the host
 * writes into the image), clocks read the partition clock, random_get uses
 * rdrand, poll_oneoff sleeps, proc_exit ends the task. There is no file
 * system: other descriptors are EBADF. docs/wasm.md lists every call. */
#include <rvm/guest.h>
#include <rvm/wasm_runtime.h>

#define WASI_ESUCCESS 0u
#define WASI_EBADF 8u
#define WASI_EFAULT 21u
#define WASI_EINVAL 28u
#define WASI_ENOSYS 52u
#define WASI_ESPIPE 70u

struct Z_wasi_snapshot_preview1_instance_t rvm_wasi_instance;

const volatile uint8_t rvm_wasm_args_blob[RVM_WASM_ARGS_SIZE]
    __attribute__((section(".rodata.rvm_wasm_args"), aligned(16))) = RVM_WASM_ARGS_MAGIC;

typedef struct Z_wasi_snapshot_preview1_instance_t wasi_t;

static void put32(uint8_t* p, uint32_t v) { memcpy(p, &v, 4); }
static void put64(uint8_t* p, uint64_t v) { memcpy(p, &v, 8); }
static uint32_t get32(const uint8_t* p) { uint32_t v; memcpy(&v, p, 4); return v; }
static uint64_t get64(const uint8_t* p) { uint64_t v; memcpy(&v, p, 8); return v; }

/* ---- output: one log line per '\n' (or per RVM_LOG_MAX bytes) ---------- */

static char out_line[RVM_LOG_MAX];
static size_t out_len;

static void emit(const char* s, size_t n) {
    /* The log rate is a token bucket: wait for a token (up to 2 s) rather
     * than drop a program's output. */
    const uint64_t start = rvm_clock_ns();
    for (;;) {
        rvm_ret_t r = rvm_log(s, n);
        if (!rvm_is_error(r) || rvm_error_status(r) != RVM_E_POLICY) return;
        if (rvm_clock_ns() - start > 2000000000ull) return;
        rvm_yield();
    }
}

void rvm_wasm_flush(void) {
    if (out_len > 0) emit(out_line, out_len);
    out_len = 0;
}

static void out_bytes(const uint8_t* p, uint32_t n) {
    for (uint32_t i = 0; i < n; ++i) {
        if (p[i] == '\n') {
            emit(out_line, out_len);
            out_len = 0;
            continue;
        }
        if (out_len == sizeof out_line) rvm_wasm_flush();
        out_line[out_len++] = (char)p[i];
    }
}

_Noreturn void rvm_wasm_exit(int code) {
    rvm_wasm_flush();
    rvm_exit(code);
}

u32 Z_wasi_snapshot_preview1Z_fd_write(wasi_t* w, u32 fd, u32 iovs, u32 iovs_len, u32 nwritten) {
    (void)w;
    if (fd != 1 && fd != 2) return WASI_EBADF;
    if (iovs_len > 1024u) return WASI_EINVAL;
    const uint8_t* v = rvm_wasm_mem(iovs, iovs_len * 8u);
    uint8_t* nw = rvm_wasm_mem(nwritten, 4);
    if (v == NULL || nw == NULL) return WASI_EFAULT;
    uint32_t total = 0;
    for (uint32_t i = 0; i < iovs_len; ++i) {
        const uint32_t len = get32(v + 8u * i + 4u);
        const uint8_t* buf = rvm_wasm_mem(get32(v + 8u * i), len);
        if (buf == NULL) return WASI_EFAULT;
        out_bytes(buf, len);
        total += len;
    }
    put32(nw, total);
    return WASI_ESUCCESS;
}

u32 Z_wasi_snapshot_preview1Z_fd_read(wasi_t* w, u32 fd, u32 iovs, u32 iovs_len, u32 nread) {
    (void)w, (void)iovs, (void)iovs_len;
    if (fd != 0) return WASI_EBADF;
    uint8_t* nr = rvm_wasm_mem(nread, 4);
    if (nr == NULL) return WASI_EFAULT;
    put32(nr, 0); /* stdin is empty */
    return WASI_ESUCCESS;
}

u32 Z_wasi_snapshot_preview1Z_fd_close(wasi_t* w, u32 fd) {
    (void)w;
    return fd <= 2 ? WASI_ESUCCESS : WASI_EBADF;
}

u32 Z_wasi_snapshot_preview1Z_fd_seek(wasi_t* w, u32 fd, u64 offset, u32 whence, u32 out) {
    (void)w, (void)offset, (void)whence, (void)out;
    return fd <= 2 ? WASI_ESPIPE : WASI_EBADF;
}

u32 Z_wasi_snapshot_preview1Z_fd_fdstat_get(wasi_t* w, u32 fd, u32 out) {
    (void)w;
    if (fd > 2) return WASI_EBADF;
    uint8_t* p = rvm_wasm_mem(out, 24);
    if (p == NULL) return WASI_EFAULT;
    memset(p, 0, 24);
    p[0] = 2;                          /* filetype: character device */
    put64(p + 8, fd == 0 ? 0x2u : 0x40u); /* rights: fd_read or fd_write */
    return WASI_ESUCCESS;
}

u32 Z_wasi_snapshot_preview1Z_fd_prestat_get(wasi_t* w, u32 fd, u32 out) {
    (void)w, (void)fd, (void)out;
    return WASI_EBADF; /* no preopened directories */
}

u32 Z_wasi_snapshot_preview1Z_fd_prestat_dir_name(wasi_t* w, u32 fd, u32 path, u32 len) {
    (void)w, (void)fd, (void)path, (void)len;
    return WASI_EBADF;
}

/* ---- args and environment ---------------------------------------------- */

/* The strings of the blob: list 0 = args, 1 = environment. */
static uint32_t blob_u32(uint32_t at) {
    uint32_t v = 0;
    for (uint32_t i = 0; i < 4; ++i) v |= (uint32_t)rvm_wasm_args_blob[16u + at + i] << (8u * i);
    return v;
}

static void list_bounds(int which, uint32_t* first, uint32_t* count, uint32_t* bytes) {
    const uint32_t argc = blob_u32(0), envc = blob_u32(4);
    const uint32_t limit = RVM_WASM_ARGS_SIZE - 28u;
    uint32_t at = 28, n = 0, b = 0;
    *count = 0;
    *bytes = 0;
    *first = at;
    if (argc + envc > 512u) return; /* the host never writes more; a damaged blob reads as empty */
    for (uint32_t s = 0; s < argc + envc; ++s) {
        if (s == argc && which == 1) *first = at, n = 0, b = 0;
        uint32_t len = 0;
        while (at + len < 28u + limit && rvm_wasm_args_blob[at + len] != 0) ++len;
        if (at + len >= 28u + limit) return;
        if ((which == 0 && s < argc) || (which == 1 && s >= argc)) ++n, b += len + 1u;
        at += len + 1u;
    }
    *count = n;
    *bytes = b;
}

static u32 list_sizes(int which, u32 count_out, u32 bytes_out) {
    uint8_t* c = rvm_wasm_mem(count_out, 4);
    uint8_t* b = rvm_wasm_mem(bytes_out, 4);
    if (c == NULL || b == NULL) return WASI_EFAULT;
    uint32_t first, count, bytes;
    list_bounds(which, &first, &count, &bytes);
    put32(c, count);
    put32(b, bytes);
    return WASI_ESUCCESS;
}

static u32 list_get(int which, u32 ptrs, u32 buf) {
    uint32_t first, count, bytes;
    list_bounds(which, &first, &count, &bytes);
    uint8_t* p = rvm_wasm_mem(ptrs, count * 4u);
    uint8_t* d = rvm_wasm_mem(buf, bytes);
    if (p == NULL || d == NULL) return WASI_EFAULT;
    uint32_t off = 0;
    for (uint32_t s = 0; s < count; ++s) {
        put32(p + 4u * s, buf + off);
        do d[off] = rvm_wasm_args_blob[first + off]; while (d[off++] != 0);
    }
    return WASI_ESUCCESS;
}

/* argv and environ: list 0 and list 1 of the blob. */
u32 Z_wasi_snapshot_preview1Z_args_sizes_get(wasi_t* w, u32 argc, u32 bytes) { return (void)w, list_sizes(0, argc, bytes); }
u32 Z_wasi_snapshot_preview1Z_args_get(wasi_t* w, u32 argv, u32 buf) { return (void)w, list_get(0, argv, buf); }
u32 Z_wasi_snapshot_preview1Z_environ_sizes_get(wasi_t* w, u32 envc, u32 bytes) { return (void)w, list_sizes(1, envc, bytes); }
u32 Z_wasi_snapshot_preview1Z_environ_get(wasi_t* w, u32 env, u32 buf) { return (void)w, list_get(1, env, buf); }

/* ---- clocks, random, sleeping, exit ------------------------------------- */

u32 Z_wasi_snapshot_preview1Z_clock_time_get(wasi_t* w, u32 id, u64 precision, u32 out) {
    (void)w, (void)precision;
    if (id > 3) return WASI_EINVAL;
    uint8_t* p = rvm_wasm_mem(out, 8);
    if (p == NULL) return WASI_EFAULT;
    put64(p, rvm_clock_ns()); /* every clock is the partition clock (no wall time in the ABI) */
    return WASI_ESUCCESS;
}

u32 Z_wasi_snapshot_preview1Z_clock_res_get(wasi_t* w, u32 id, u32 out) {
    (void)w;
    if (id > 3) return WASI_EINVAL;
    uint8_t* p = rvm_wasm_mem(out, 8);
    if (p == NULL) return WASI_EFAULT;
    put64(p, 1);
    return WASI_ESUCCESS;
}

static int have_rdrand(void) {
    uint32_t a, b, c, d;
    __asm__ volatile("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d) : "a"(1u), "c"(0u));
    return (c >> 30) & 1u;
}

u32 Z_wasi_snapshot_preview1Z_random_get(wasi_t* w, u32 buf, u32 len) {
    (void)w;
    uint8_t* p = rvm_wasm_mem(buf, len);
    if (p == NULL) return WASI_EFAULT;
    static uint64_t x;
    const int hw = have_rdrand();
    for (uint32_t i = 0; i < len; i += 8) {
        uint64_t v = 0;
        unsigned char ok = 0;
        for (int tries = 0; hw && !ok && tries < 10; ++tries) __asm__ volatile("rdrand %0; setc %1" : "=r"(v), "=qm"(ok));
        if (!ok) { /* no rdrand: a clock-seeded xorshift, not for secrets (docs/wasm.md) */
            if (x == 0) x = rvm_clock_ns() | 1u;
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            v = x;
        }
        for (uint32_t j = 0; j < 8 && i + j < len; ++j) p[i + j] = (uint8_t)(v >> (8u * j));
    }
    return WASI_ESUCCESS;
}

static void sleep_until(uint64_t deadline) {
    for (;;) {
        const uint64_t now = rvm_clock_ns();
        if (now >= deadline) return;
        const uint64_t left = deadline - now;
        /* Long sleeps suspend the partition (C1, no CPU used); short ones
         * and runners without a Ψ monitor yield. */
        if (left >= 2000000u) {
            const uint64_t ns = left > 1000000000u ? 1000000000u : left - 1000000u;
            if (!rvm_is_error(rvm_psi_suspend(ns))) continue;
        }
        rvm_yield();
    }
}

u32 Z_wasi_snapshot_preview1Z_poll_oneoff(wasi_t* w, u32 in, u32 out, u32 nsubs, u32 nevents) {
    (void)w;
    if (nsubs == 0 || nsubs > 64u) return WASI_EINVAL;
    const uint8_t* s = rvm_wasm_mem(in, nsubs * 48u);
    uint8_t* e = rvm_wasm_mem(out, nsubs * 32u);
    uint8_t* ne = rvm_wasm_mem(nevents, 4);
    if (s == NULL || e == NULL || ne == NULL) return WASI_EFAULT;
    const uint64_t now = rvm_clock_ns();
    uint64_t deadline = ~0ull;
    uint32_t ready = 0;
    for (uint32_t i = 0; i < nsubs; ++i) {
        const uint8_t* sub = s + 48u * i;
        if (sub[8] == 0) {
            const uint64_t t = get64(sub + 24);
            const uint64_t at = (get32(sub + 40) & 1u) ? t : now + t; /* flag 1: absolute */
            if (at < deadline) deadline = at;
        } else {
            ++ready; /* fd_read / fd_write on stdio never blocks */
        }
    }
    if (ready == 0 && deadline != ~0ull) sleep_until(deadline);
    const uint64_t after = rvm_clock_ns();
    uint32_t n = 0;
    for (uint32_t i = 0; i < nsubs; ++i) {
        const uint8_t* sub = s + 48u * i;
        uint8_t* ev = e + 32u * n;
        const uint64_t t = get64(sub + 24);
        const int is_clock = sub[8] == 0;
        if (is_clock && ((get32(sub + 40) & 1u) ? t : now + t) > after) continue;
        memset(ev, 0, 32);
        memcpy(ev, sub, 8);
        ev[10] = sub[8];
        if (!is_clock && get32(sub + 16) > 2) ev[8] = WASI_EBADF;
        ++n;
    }
    put32(ne, n);
    return WASI_ESUCCESS;
}

void Z_wasi_snapshot_preview1Z_proc_exit(wasi_t* w, u32 code) {
    (void)w;
    rvm_wasm_exit((int)code);
}

u32 Z_wasi_snapshot_preview1Z_sched_yield(wasi_t* w) {
    (void)w;
    rvm_yield();
    return WASI_ESUCCESS;
}
