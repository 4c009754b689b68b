/* RVM guest SDK: hypercall wrappers and helpers for agent programs.
 *
 * Freestanding C11 / C++20: no libc, no OS. An agent runs at CPL3 in 64-bit
 * mode and talks to the hypervisor only through the hypercalls below. The
 * ABI itself (numbers, registers, status codes, the info page) lives in
 * src/abi/ — the single source of truth — and is included from there.
 *
 * Transport (src/abi/agent.h): `out %eax, $RVM_HC_PORT` with
 *   rax = call number, rdi, rsi, rdx, r10, r8, r9 = arguments 1..6,
 *   rax = result (>= 0 success, < 0 = -(status | arg << 8)).
 * The hypervisor changes rax and nothing else: every other register, the
 * flags and the stack are as the task left them. The wrappers declare exactly
 * that (rax written, memory read/written by the call), nothing more.
 *
 * See guest/README.md for entry registers, memory layout and the build. */
#ifndef RVM_GUEST_H
#define RVM_GUEST_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "abi/agent.h"
#include "abi/hypercall.h"
#include "abi/object.h"
#include "abi/psi.h"
#include "abi/status.h"
#include "abi/version.h"

#if !defined(__x86_64__) && !defined(__aarch64__)
#error "the RVM guest SDK targets x86-64 agents and AArch64 partitions only"
#endif

#ifdef __cplusplus
#define RVM_EXTERN_C extern "C"
#define RVM_SCAST(T, x) static_cast<T>(x)
#define RVM_RCAST(T, x) reinterpret_cast<T>(x)
#define RVM_NORETURN [[noreturn]]
extern "C" {
#else
#define RVM_EXTERN_C
#define RVM_SCAST(T, x) ((T)(x))
#define RVM_RCAST(T, x) ((T)(x))
#define RVM_NORETURN _Noreturn
#endif

/* ---------------------------------------------------------------------------
 * Raw hypercalls. `nr` is a full 64-bit number (rax); only rax changes.
 * ------------------------------------------------------------------------- */

#if defined(__aarch64__)
/* AArch64 (bare-metal platform, docs/abi.md): `hvc #0` with x0 = number,
 * x1..x6 = arguments 1..6, x0 = result; only x0 changes. */
static inline rvm_ret_t rvm_hypercall6(uint64_t nr, uint64_t a1, uint64_t a2, uint64_t a3, uint64_t a4,
                                       uint64_t a5, uint64_t a6) {
    register uint64_t x0 __asm__("x0") = nr;
    register uint64_t x1 __asm__("x1") = a1;
    register uint64_t x2 __asm__("x2") = a2;
    register uint64_t x3 __asm__("x3") = a3;
    register uint64_t x4 __asm__("x4") = a4;
    register uint64_t x5 __asm__("x5") = a5;
    register uint64_t x6 __asm__("x6") = a6;
    __asm__ volatile("hvc #0" : "+r"(x0) : "r"(x1), "r"(x2), "r"(x3), "r"(x4), "r"(x5), "r"(x6) : "memory");
    return RVM_SCAST(rvm_ret_t, x0);
}
static inline rvm_ret_t rvm_hypercall5(uint64_t nr, uint64_t a1, uint64_t a2, uint64_t a3, uint64_t a4,
                                       uint64_t a5) {
    return rvm_hypercall6(nr, a1, a2, a3, a4, a5, 0);
}
static inline rvm_ret_t rvm_hypercall4(uint64_t nr, uint64_t a1, uint64_t a2, uint64_t a3, uint64_t a4) {
    return rvm_hypercall6(nr, a1, a2, a3, a4, 0, 0);
}
static inline rvm_ret_t rvm_hypercall3(uint64_t nr, uint64_t a1, uint64_t a2, uint64_t a3) {
    return rvm_hypercall6(nr, a1, a2, a3, 0, 0, 0);
}
static inline rvm_ret_t rvm_hypercall2(uint64_t nr, uint64_t a1, uint64_t a2) {
    return rvm_hypercall6(nr, a1, a2, 0, 0, 0, 0);
}
static inline rvm_ret_t rvm_hypercall1(uint64_t nr, uint64_t a1) { return rvm_hypercall6(nr, a1, 0, 0, 0, 0, 0); }
static inline rvm_ret_t rvm_hypercall0(uint64_t nr) { return rvm_hypercall6(nr, 0, 0, 0, 0, 0, 0); }
#else
static inline rvm_ret_t rvm_hypercall0(uint64_t nr) {
    rvm_ret_t ret;
    __asm__ volatile("outl %%eax, %[port]" : "=a"(ret) : "a"(nr), [port] "N"(RVM_HC_PORT) : "memory", "cc");
    return ret;
}

static inline rvm_ret_t rvm_hypercall1(uint64_t nr, uint64_t a1) {
    rvm_ret_t ret;
    __asm__ volatile("outl %%eax, %[port]"
                     : "=a"(ret)
                     : "a"(nr), "D"(a1), [port] "N"(RVM_HC_PORT)
                     : "memory", "cc");
    return ret;
}

static inline rvm_ret_t rvm_hypercall2(uint64_t nr, uint64_t a1, uint64_t a2) {
    rvm_ret_t ret;
    __asm__ volatile("outl %%eax, %[port]"
                     : "=a"(ret)
                     : "a"(nr), "D"(a1), "S"(a2), [port] "N"(RVM_HC_PORT)
                     : "memory", "cc");
    return ret;
}

static inline rvm_ret_t rvm_hypercall3(uint64_t nr, uint64_t a1, uint64_t a2, uint64_t a3) {
    rvm_ret_t ret;
    __asm__ volatile("outl %%eax, %[port]"
                     : "=a"(ret)
                     : "a"(nr), "D"(a1), "S"(a2), "d"(a3), [port] "N"(RVM_HC_PORT)
                     : "memory", "cc");
    return ret;
}

static inline rvm_ret_t rvm_hypercall4(uint64_t nr, uint64_t a1, uint64_t a2, uint64_t a3, uint64_t a4) {
    rvm_ret_t ret;
    register uint64_t r10 __asm__("r10") = a4;
    __asm__ volatile("outl %%eax, %[port]"
                     : "=a"(ret)
                     : "a"(nr), "D"(a1), "S"(a2), "d"(a3), "r"(r10), [port] "N"(RVM_HC_PORT)
                     : "memory", "cc");
    return ret;
}

static inline rvm_ret_t rvm_hypercall5(uint64_t nr, uint64_t a1, uint64_t a2, uint64_t a3, uint64_t a4,
                                       uint64_t a5) {
    rvm_ret_t ret;
    register uint64_t r10 __asm__("r10") = a4;
    register uint64_t r8 __asm__("r8") = a5;
    __asm__ volatile("outl %%eax, %[port]"
                     : "=a"(ret)
                     : "a"(nr), "D"(a1), "S"(a2), "d"(a3), "r"(r10), "r"(r8), [port] "N"(RVM_HC_PORT)
                     : "memory", "cc");
    return ret;
}

static inline rvm_ret_t rvm_hypercall6(uint64_t nr, uint64_t a1, uint64_t a2, uint64_t a3, uint64_t a4,
                                       uint64_t a5, uint64_t a6) {
    rvm_ret_t ret;
    register uint64_t r10 __asm__("r10") = a4;
    register uint64_t r8 __asm__("r8") = a5;
    register uint64_t r9 __asm__("r9") = a6;
    __asm__ volatile("outl %%eax, %[port]"
                     : "=a"(ret)
                     : "a"(nr), "D"(a1), "S"(a2), "d"(a3), "r"(r10), "r"(r8), "r"(r9), [port] "N"(RVM_HC_PORT)
                     : "memory", "cc");
    return ret;
}

#endif

/* ---------------------------------------------------------------------------
 * Results.
 * ------------------------------------------------------------------------- */

/* Same encoding as RVM_ERR / RVM_ERR_STATUS / RVM_ERR_ARG in abi/status.h,
 * written without C-style casts so C++ agents can build with -Wold-style-cast. */
static inline int rvm_is_error(rvm_ret_t ret) { return ret < 0; }
/* The enum rvm_status of a failed call (0 if `ret` is a success). */
static inline uint32_t rvm_error_status(rvm_ret_t ret) {
    return ret < 0 ? RVM_SCAST(uint32_t, (0u - RVM_SCAST(uint64_t, ret)) & 0xffu) : 0u;
}
/* The 1-based argument at fault (0 = none in particular, or success). */
static inline uint32_t rvm_error_arg(rvm_ret_t ret) {
    return ret < 0 ? RVM_SCAST(uint32_t, ((0u - RVM_SCAST(uint64_t, ret)) >> 8) & 0x7u) : 0u;
}
/* Builds an error result, as the hypervisor does (RVM_ERR). */
static inline rvm_ret_t rvm_make_error(uint32_t status, uint32_t arg) {
    return -(RVM_SCAST(rvm_ret_t, status) | (RVM_SCAST(rvm_ret_t, arg) << 8));
}

/* ---------------------------------------------------------------------------
 * Agent calls.
 * ------------------------------------------------------------------------- */

/* The info page, mapped read-only at RVM_INFO_VA in every agent. */
static inline const struct rvm_info* rvm_info_page(void) {
    return RVM_RCAST(const struct rvm_info*, RVM_SCAST(uintptr_t, RVM_INFO_VA));
}

/* Ends the calling task with `code` (sign-extended to 64 bits in rdi). The
 * hypercall does not return; if it ever did, the task asks again. */
RVM_NORETURN static inline void rvm_exit(int code) {
    for (;;) rvm_hypercall1(RVM_HC_EXIT, RVM_SCAST(uint64_t, RVM_SCAST(int64_t, code)));
}

/* Writes `len` (<= RVM_LOG_MAX) bytes to the partition's log. Returns the
 * number of bytes logged or an error (RVM_E_FAULT: buffer not readable by
 * the task; RVM_E_INVALID arg 2: len > RVM_LOG_MAX). */
static inline rvm_ret_t rvm_log(const char* buf, size_t len) {
    return rvm_hypercall2(RVM_HC_LOG, RVM_SCAST(uint64_t, RVM_RCAST(uintptr_t, buf)), RVM_SCAST(uint64_t, len));
}

static inline size_t rvm_strlen(const char* s) {
    size_t n = 0;
    while (s[n] != '\0') ++n;
    return n;
}

/* Logs a NUL-terminated string (in chunks of RVM_LOG_MAX if it is longer). */
static inline rvm_ret_t rvm_log_str(const char* s) {
    size_t len = rvm_strlen(s);
    rvm_ret_t total = 0;
    while (len > 0) {
        const size_t n = len < RVM_LOG_MAX ? len : RVM_SCAST(size_t, RVM_LOG_MAX);
        const rvm_ret_t r = rvm_log(s, n);
        if (rvm_is_error(r)) return r;
        total += r;
        s += n;
        len -= n;
    }
    return total;
}

/* Gives up the CPU to another runnable task or partition. */
static inline rvm_ret_t rvm_yield(void) { return rvm_hypercall0(RVM_HC_YIELD); }

/* Nanoseconds since the partition started. */
static inline uint64_t rvm_clock_ns(void) { return RVM_SCAST(uint64_t, rvm_hypercall0(RVM_HC_CLOCK)); }

/* Copies the info page into `out`; returns the number of bytes copied.
 * (In C++ the function shares its name with the struct: write
 * `struct rvm_info` for the type.) */
#if defined(__cplusplus) && defined(__GNUC__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wshadow"
#endif
static inline rvm_ret_t rvm_info(struct rvm_info* out) {
    return rvm_hypercall2(RVM_HC_INFO, RVM_SCAST(uint64_t, RVM_RCAST(uintptr_t, out)),
                          RVM_SCAST(uint64_t, sizeof(struct rvm_info)));
}
#if defined(__cplusplus) && defined(__GNUC__)
#pragma GCC diagnostic pop
#endif

/* ---------------------------------------------------------------------------
 * Ψ (transition intensity, seed 001; abi/psi.h). Not Linux PSI. Ratios are
 * parts per million (0..RVM_PSI_RATIO_ONE).
 * ------------------------------------------------------------------------- */

/* Registers the partition as a reporting guest (idempotent). Returns 0. */
static inline rvm_ret_t rvm_psi_register(void) { return rvm_hypercall1(RVM_HC_PSI_REGISTER, 0); }

/* Reports the partition's own ratio and its committed / deferred counts.
 * RVM_E_INVALID arg 1: ratio above RVM_PSI_RATIO_ONE; RVM_E_STATE: not registered. */
static inline rvm_ret_t rvm_psi_update(uint64_t ratio_ppm, uint64_t committed, uint64_t deferred) {
    return rvm_hypercall3(RVM_HC_PSI_UPDATE, ratio_ppm, committed, deferred);
}

/* The value named by `what` (enum rvm_psi_query); RVM_E_INVALID arg 1 for an unknown one. */
static inline rvm_ret_t rvm_psi_query(uint64_t what) { return rvm_hypercall1(RVM_HC_PSI_QUERY, what); }

/* Requests power state `cstate` (enum rvm_psi_power): C0 no-op, C1 suspends
 * the partition for one default epoch (see rvm_psi_suspend); C3 / C6
 * RVM_E_NOT_SUPPORTED, anything else RVM_E_INVALID (arg 1). */
static inline rvm_ret_t rvm_psi_hibernate(uint64_t cstate) { return rvm_hypercall1(RVM_HC_PSI_HIBERNATE, cstate); }

/* Requests C1 for `ns` nanoseconds (0: one default epoch, 10 ms; at most
 * 10 s, else RVM_E_INVALID arg 2): the whole partition is suspended and
 * resumed by the host; returns 0 after the resume. */
static inline rvm_ret_t rvm_psi_suspend(uint64_t ns) {
    return rvm_hypercall2(RVM_HC_PSI_HIBERNATE, RVM_PSI_POWER_C1, ns);
}

/* The shared Ψ page (abi/psi.h): reports without an exit. The page lives in
 * the agent's own writable memory, 64-byte aligned. */
static inline void rvm_psi_page_init(struct rvm_psi_page* p) {
    volatile uint64_t* w = RVM_RCAST(volatile uint64_t*, p);
    for (unsigned i = 0; i < RVM_PSI_PAGE_SIZE / 8u; ++i) w[i] = 0;
    p->magic = RVM_PSI_PAGE_MAGIC;
    p->version = RVM_PSI_PAGE_VERSION;
}

/* REGISTER with the page: RVM_E_INVALID arg 1 (misaligned, bad magic or
 * version), RVM_E_FAULT arg 1 (not the agent's writable memory). */
static inline rvm_ret_t rvm_psi_register_page(struct rvm_psi_page* p) {
    return rvm_hypercall1(RVM_HC_PSI_REGISTER, RVM_RCAST(uint64_t, p));
}

/* Writes the guest's fields under guest_seq (odd while writing); the host
 * takes them at its next epoch. */
static inline void rvm_psi_page_report(struct rvm_psi_page* p, uint64_t ratio_ppm, uint64_t committed,
                                       uint64_t deferred) {
    const uint32_t s = __atomic_load_n(&p->guest_seq, __ATOMIC_RELAXED);
    __atomic_store_n(&p->guest_seq, s + 1u, __ATOMIC_RELAXED);
    __atomic_thread_fence(__ATOMIC_RELEASE);
    __atomic_store_n(&p->guest_ratio_ppm, ratio_ppm, __ATOMIC_RELAXED);
    __atomic_store_n(&p->committed, committed, __ATOMIC_RELAXED);
    __atomic_store_n(&p->deferred, deferred, __ATOMIC_RELAXED);
    __atomic_store_n(&p->guest_seq, s + 2u, __ATOMIC_RELEASE);
}

/* A consistent copy of the host's fields: 0, or -1 if the host was writing
 * on each of `tries` attempts. *seq is the host counter of the copy (it
 * advances by 2 per host update). */
static inline int rvm_psi_page_host(const struct rvm_psi_page* p, uint64_t* ratio_ppm, uint64_t* timestamp_ns,
                                    uint32_t* seq, unsigned tries) {
    for (unsigned i = 0; i < tries; ++i) {
        const uint32_t before = __atomic_load_n(&p->host_seq, __ATOMIC_ACQUIRE);
        if (before & 1u) continue;
        const uint64_t r = __atomic_load_n(&p->host_ratio_ppm, __ATOMIC_RELAXED);
        const uint64_t t = __atomic_load_n(&p->timestamp_ns, __ATOMIC_RELAXED);
        __atomic_thread_fence(__ATOMIC_ACQUIRE);
        if (__atomic_load_n(&p->host_seq, __ATOMIC_RELAXED) != before) continue;
        *ratio_ppm = r;
        *timestamp_ns = t;
        *seq = before;
        return 0;
    }
    return -1;
}

/* ---------------------------------------------------------------------------
 * Tasks.
 *
 * The hypervisor starts a new task at `entry` with rsp = the top of its own
 * stack (16-byte aligned, so NOT a valid C function entry), rdi = RVM_INFO_VA,
 * rsi = its task index, rdx = `arg`, and nothing to return to.
 *
 * rvm_task_spawn_raw(): `entry` is that raw entry point (assembly, or a C
 * function built with __attribute__((force_align_arg_pointer)) that never
 * returns). Returns the new task's capability.
 *
 * rvm_task_spawn(): `fn` is an ordinary C function; it may return, which
 * ends the task with exit code 0. The SDK passes its trampoline
 * rvm_task_entry (guest/task_entry.S) as the entry and, in rdx, a pointer to
 * a start slot holding {fn, arg}; the trampoline copies both out, frees the
 * slot, and calls fn(info, task_index, arg) with a correctly aligned stack.
 * ------------------------------------------------------------------------- */

typedef void (*rvm_task_fn)(const struct rvm_info* info, uint64_t task_index, uint64_t arg);

static inline rvm_ret_t rvm_task_spawn_raw(uint64_t self_cap, uint64_t entry, uint64_t arg) {
    return rvm_hypercall3(RVM_HC_TASK_SPAWN, self_cap, entry, arg);
}

/* One start slot per spawned-but-not-yet-started task. A slot is free when
 * fn == 0. 256 slots cover every task a partition can have (max_tasks is at
 * most 255), so a spawn can only find them all busy if tasks never start. */
#define RVM_TASK_START_SLOTS 256u
struct rvm_task_start {
    uint64_t fn;  /* rvm_task_fn as an integer; 0 = free */
    uint64_t arg;
};
extern struct rvm_task_start rvm_task_starts[RVM_TASK_START_SLOTS];
void rvm_task_entry(void); /* not callable from C: the trampoline */

static inline rvm_ret_t rvm_task_spawn(uint64_t self_cap, rvm_task_fn fn, uint64_t arg) {
    const uint64_t f = RVM_SCAST(uint64_t, RVM_RCAST(uintptr_t, fn));
    if (f == 0) return rvm_make_error(RVM_E_INVALID, 2);
    for (unsigned round = 0; round < 1000u; ++round) {
        for (unsigned i = 0; i < RVM_TASK_START_SLOTS; ++i) {
            struct rvm_task_start* s = &rvm_task_starts[i];
            uint64_t expected = 0;
            if (!__atomic_compare_exchange_n(&s->fn, &expected, f, 0, __ATOMIC_ACQ_REL, __ATOMIC_RELAXED)) continue;
            __atomic_store_n(&s->arg, arg, __ATOMIC_RELEASE);
            const rvm_ret_t r = rvm_task_spawn_raw(self_cap, RVM_SCAST(uint64_t, RVM_RCAST(uintptr_t, &rvm_task_entry)),
                                                   RVM_SCAST(uint64_t, RVM_RCAST(uintptr_t, s)));
            if (rvm_is_error(r)) __atomic_store_n(&s->fn, RVM_SCAST(uint64_t, 0), __ATOMIC_RELEASE);
            return r;
        }
        rvm_yield(); /* every slot is held by a task that has not started yet */
    }
    return rvm_make_error(RVM_E_EXHAUSTED, 0);
}

/* ---------------------------------------------------------------------------
 * Formatting (no libc).
 * ------------------------------------------------------------------------- */

/* Writes `v` in `base` (2..16, lower-case digits) to `buf` without a NUL;
 * returns the number of characters (at most 64). */
static inline size_t rvm_fmt_u64(char* buf, uint64_t v, unsigned base) {
    char tmp[64];
    size_t n = 0;
    if (base < 2u || base > 16u) base = 10u;
    do {
        tmp[n++] = "0123456789abcdef"[v % base];
        v /= base;
    } while (v != 0);
    for (size_t i = 0; i < n; ++i) buf[i] = tmp[n - 1 - i];
    return n;
}

/* Writes `v` in decimal (with a leading '-' if negative); returns the length. */
static inline size_t rvm_fmt_i64(char* buf, int64_t v) {
    if (v >= 0) return rvm_fmt_u64(buf, RVM_SCAST(uint64_t, v), 10u);
    buf[0] = '-';
    return 1 + rvm_fmt_u64(buf + 1, 0u - RVM_SCAST(uint64_t, v), 10u);
}

/* Output buffer of rvm_vlogf: one log hypercall per 256 bytes or per call. */
struct rvm_logbuf {
    char buf[256];
    size_t len;
    rvm_ret_t err;
};

static inline void rvm_logbuf_flush(struct rvm_logbuf* b) {
    if (b->len > 0) {
        const rvm_ret_t r = rvm_log(b->buf, b->len);
        if (rvm_is_error(r) && b->err == 0) b->err = r;
        b->len = 0;
    }
}

static inline void rvm_logbuf_put(struct rvm_logbuf* b, const char* s, size_t n) {
    for (size_t i = 0; i < n; ++i) {
        if (b->len == sizeof b->buf) rvm_logbuf_flush(b);
        b->buf[b->len++] = s[i];
    }
}

/* printf subset: %[-][0][width][l|ll|z]{d,i,u,x,X,c,s,p,%}. X prints lower
 * case too. Returns 0 or the first log error. */
static inline rvm_ret_t rvm_vlogf(const char* fmt, va_list ap) {
    struct rvm_logbuf b;
    b.len = 0;
    b.err = 0;
    for (const char* p = fmt; *p != '\0'; ++p) {
        if (*p != '%') {
            rvm_logbuf_put(&b, p, 1);
            continue;
        }
        ++p;
        int left = 0, zero = 0;
        for (;; ++p) {
            if (*p == '-') left = 1;
            else if (*p == '0') zero = 1;
            else break;
        }
        size_t width = 0;
        while (*p >= '0' && *p <= '9') width = width * 10u + RVM_SCAST(size_t, *p++ - '0');
        int longs = 0;
        while (*p == 'l' || *p == 'z') {
            longs = *p == 'z' ? 2 : longs + 1;
            ++p;
        }
        char num[72];
        const char* s = num;
        size_t n = 0;
        switch (*p) {
            case 'd':
            case 'i': {
                const int64_t v = longs > 0 ? va_arg(ap, int64_t) : RVM_SCAST(int64_t, va_arg(ap, int));
                n = rvm_fmt_i64(num, v);
                break;
            }
            case 'u':
            case 'x':
            case 'X': {
                const uint64_t v = longs > 0 ? va_arg(ap, uint64_t) : RVM_SCAST(uint64_t, va_arg(ap, unsigned));
                n = rvm_fmt_u64(num, v, *p == 'u' ? 10u : 16u);
                break;
            }
            case 'p':
                num[0] = '0';
                num[1] = 'x';
                n = 2 + rvm_fmt_u64(num + 2, RVM_SCAST(uint64_t, RVM_RCAST(uintptr_t, va_arg(ap, void*))), 16u);
                break;
            case 'c':
                num[0] = RVM_SCAST(char, va_arg(ap, int));
                n = 1;
                break;
            case 's':
                s = va_arg(ap, const char*);
                if (s == NULL) s = "(null)";
                n = rvm_strlen(s);
                break;
            case '%':
                num[0] = '%';
                n = 1;
                break;
            case '\0':
                --p; /* a lone '%' at the end: print it */
                num[0] = '%';
                n = 1;
                break;
            default: /* unknown conversion: print it as written */
                num[0] = '%';
                num[1] = *p;
                n = 2;
                break;
        }
        size_t pad = width > n ? width - n : 0;
        if (!left && zero && pad > 0 && s == num && n > 0 && num[0] == '-') {
            rvm_logbuf_put(&b, "-", 1); /* sign before the zeros */
            ++s;
            --n;
        }
        while (!left && pad > 0) {
            rvm_logbuf_put(&b, zero && s == num ? "0" : " ", 1);
            --pad;
        }
        rvm_logbuf_put(&b, s, n);
        while (left && pad > 0) {
            rvm_logbuf_put(&b, " ", 1);
            --pad;
        }
    }
    rvm_logbuf_flush(&b);
    return b.err;
}

static inline rvm_ret_t rvm_logf(const char* fmt, ...) __attribute__((format(printf, 1, 2)));
static inline rvm_ret_t rvm_logf(const char* fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    const rvm_ret_t r = rvm_vlogf(fmt, ap);
    va_end(ap);
    return r;
}

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif
