/* RVM wasm runtime: wasm-rt.h for a translated module inside an agent
 * partition. No signal handler and no OS: wasm2c is told to check every
 * memory access explicitly (WASM_RT_MEMCHECK_SIGNAL_HANDLER=0) and to count
 * call depth (WASM_RT_USE_STACK_DEPTH_COUNT, limit rvm_wasm_max_depth).
 * Memory comes from the partition's heap, so linear memory and tables are
 * bounded by the partition's `memory`. A trap with no unwind target fails
 * the partition after logging the trap's name. */
#include <rvm/guest.h>
#include <rvm/wasm_runtime.h>

/* Frame budget per wasm call: wasm2c's functions keep most locals in
 * registers, so 512 bytes per call is an estimate, not a bound. A deeper
 * frame can still reach the stack's end first, which faults (and fails)
 * only this partition. 16 KiB of the stack are kept for the runtime and
 * the hypercall helpers. */
#define RVM_WASM_FRAME_BYTES 512u
#define RVM_WASM_STACK_RESERVE (16u << 10)
#define RVM_WASM_PAGE 65536u

uint32_t wasm_rt_call_stack_depth;
uint32_t rvm_wasm_max_depth = 64;

static uint64_t heap_next, heap_end;
static int initialized;
static WASM_RT_UNWIND_TARGET* unwind_target;

void rvm_wasm_init(const struct rvm_info* info) {
    heap_next = (info->heap_start + 15u) & ~15ull;
    heap_end = info->heap_end;
    uint64_t usable = info->stack_size > RVM_WASM_STACK_RESERVE ? info->stack_size - RVM_WASM_STACK_RESERVE : 0;
    uint64_t depth = usable / RVM_WASM_FRAME_BYTES;
    rvm_wasm_max_depth = depth > 65536u ? 65536u : (depth < 16u ? 16u : (uint32_t)depth);
    initialized = 1;
}

void* rvm_wasm_alloc(uint64_t size, uint64_t align, const char* what) {
    uint64_t at = (heap_next + align - 1u) & ~(align - 1u);
    if (at < heap_next || at > heap_end || size > heap_end - at) rvm_wasm_fail("out of memory", what);
    heap_next = at + size;
    return (void*)(uintptr_t)at; /* the heap is zero: fresh guest memory, never reused */
}

_Noreturn void rvm_wasm_fail(const char* what, const char* detail) {
    rvm_wasm_flush();
    rvm_logf("wasm %s: %s\n", what, detail);
    for (;;) __asm__ volatile("ud2");
}

_Noreturn void abort(void) { rvm_wasm_fail("abort", "the module called abort()"); }

_Noreturn void rvm_wasm_assert_fail(const char* expr, const char* file, int line) {
    rvm_wasm_flush();
    rvm_logf("wasm runtime assertion failed: %s (%s:%d)\n", expr, file, line);
    for (;;) __asm__ volatile("ud2");
}

void wasm_rt_init(void) { initialized = 1; }
bool wasm_rt_is_initialized(void) { return initialized != 0; }
void wasm_rt_free(void) {}

const char* wasm_rt_strerror(wasm_rt_trap_t trap) {
    switch (trap) {
        case WASM_RT_TRAP_NONE: return "no trap";
        case WASM_RT_TRAP_OOB: return "out of bounds memory or table access";
        case WASM_RT_TRAP_INT_OVERFLOW: return "integer overflow";
        case WASM_RT_TRAP_DIV_BY_ZERO: return "integer divide by zero";
        case WASM_RT_TRAP_INVALID_CONVERSION: return "invalid conversion to integer";
        case WASM_RT_TRAP_UNREACHABLE: return "unreachable executed";
        case WASM_RT_TRAP_CALL_INDIRECT: return "indirect call type mismatch or null";
        case WASM_RT_TRAP_UNCAUGHT_EXCEPTION: return "uncaught exception";
        case WASM_RT_TRAP_EXHAUSTION: return "call stack exhausted";
    }
    return "unknown trap";
}

WASM_RT_UNWIND_TARGET* wasm_rt_get_unwind_target(void) { return unwind_target; }
void wasm_rt_set_unwind_target(WASM_RT_UNWIND_TARGET* target) { unwind_target = target; }

void wasm_rt_trap(wasm_rt_trap_t trap) {
    if (unwind_target != NULL) {
        wasm_rt_call_stack_depth = 0;
        longjmp(*unwind_target, (int)trap);
    }
    rvm_wasm_fail("trap", wasm_rt_strerror(trap));
}

/* Function types: each distinct signature gets one index; the list of
 * value types of all signatures is kept in one fixed pool. */
#define RVM_WASM_MAX_TYPES 4096u
#define RVM_WASM_TYPE_POOL 65536u
static struct {
    uint32_t params, results, at;
} types[RVM_WASM_MAX_TYPES];
static uint8_t type_pool[RVM_WASM_TYPE_POOL];
static uint32_t type_count, pool_used;

uint32_t wasm_rt_register_func_type(uint32_t params, uint32_t results, ...) {
    uint8_t sig[512];
    const uint32_t n = params + results;
    if (n > sizeof sig) rvm_wasm_fail("limit", "a function type has more than 512 parameters and results");
    va_list ap;
    va_start(ap, results);
    for (uint32_t i = 0; i < n; ++i) sig[i] = (uint8_t)va_arg(ap, int);
    va_end(ap);
    for (uint32_t t = 0; t < type_count; ++t) {
        if (types[t].params != params || types[t].results != results) continue;
        if (memcmp(type_pool + types[t].at, sig, n) == 0) return t;
    }
    if (type_count == RVM_WASM_MAX_TYPES || n > RVM_WASM_TYPE_POOL - pool_used)
        rvm_wasm_fail("limit", "more than 4096 function types");
    memcpy(type_pool + pool_used, sig, n);
    types[type_count].params = params;
    types[type_count].results = results;
    types[type_count].at = pool_used;
    pool_used += n;
    return type_count++;
}

/* Linear memory. The most recently placed memory sits at the end of the
 * used heap, so it grows in place; another one moves up on growth. */
static wasm_rt_memory_t* last_memory;

void wasm_rt_allocate_memory(wasm_rt_memory_t* mem, uint32_t initial_pages, uint32_t max_pages) {
    const uint64_t bytes = (uint64_t)initial_pages * RVM_WASM_PAGE;
    mem->data = rvm_wasm_alloc(bytes, 4096, "the module's initial linear memory does not fit the partition");
    mem->pages = initial_pages;
    mem->max_pages = max_pages;
    mem->size = (uint32_t)bytes; /* 65536 pages (4 GiB) cannot fit the heap, so no overflow here */
    last_memory = mem;
}

uint32_t wasm_rt_grow_memory(wasm_rt_memory_t* mem, uint32_t delta) {
    const uint32_t old = mem->pages;
    if (delta == 0) return old;
    const uint64_t pages = (uint64_t)old + delta;
    if (pages > mem->max_pages || pages > 65536u) return (uint32_t)-1;
    const uint64_t bytes = pages * RVM_WASM_PAGE;
    if (bytes >= (1ull << 32)) return (uint32_t)-1; /* size is a u32 in wasm-rt.h */
    const uint64_t base = (uint64_t)(uintptr_t)mem->data;
    if (mem == last_memory && base + mem->size == heap_next) {
        if (bytes - mem->size > heap_end - heap_next) return (uint32_t)-1;
        heap_next = base + bytes;
    } else {
        uint64_t at = (heap_next + 4095u) & ~4095ull;
        if (at > heap_end || bytes > heap_end - at) return (uint32_t)-1;
        memcpy((void*)(uintptr_t)at, mem->data, mem->size);
        mem->data = (uint8_t*)(uintptr_t)at;
        heap_next = at + bytes;
        last_memory = mem;
    }
    mem->pages = (uint32_t)pages;
    mem->size = (uint32_t)bytes;
    return old;
}

void wasm_rt_free_memory(wasm_rt_memory_t* mem) { (void)mem; }

/* Tables: allocated at their initial size; growth copies to a new block. */
void wasm_rt_allocate_funcref_table(wasm_rt_funcref_table_t* t, uint32_t elements, uint32_t max_elements) {
    t->data = rvm_wasm_alloc((uint64_t)elements * sizeof(wasm_rt_funcref_t) + 16u, 16,
                             "the module's table does not fit the partition");
    t->size = elements;
    t->max_size = max_elements;
}

void wasm_rt_allocate_externref_table(wasm_rt_externref_table_t* t, uint32_t elements, uint32_t max_elements) {
    t->data = rvm_wasm_alloc((uint64_t)elements * sizeof(wasm_rt_externref_t) + 16u, 16,
                             "the module's table does not fit the partition");
    t->size = elements;
    t->max_size = max_elements;
}

void wasm_rt_free_funcref_table(wasm_rt_funcref_table_t* t) { (void)t; }
void wasm_rt_free_externref_table(wasm_rt_externref_table_t* t) { (void)t; }

#define RVM_GROW_TABLE(T, t, delta, init)                                                   \
    do {                                                                                    \
        const uint32_t old = (t)->size;                                                     \
        const uint64_t n = (uint64_t)old + (delta);                                         \
        if (n > (t)->max_size || n > 0xffffffffull) return (uint32_t)-1;                    \
        if ((delta) == 0) return old;                                                       \
        const uint64_t bytes = n * sizeof(T);                                               \
        uint64_t at = (heap_next + 15u) & ~15ull;                                           \
        if (at > heap_end || bytes > heap_end - at) return (uint32_t)-1;                    \
        T* d = (T*)(uintptr_t)at;                                                           \
        heap_next = at + bytes;                                                             \
        memcpy(d, (t)->data, (uint64_t)old * sizeof(T));                                    \
        for (uint64_t i = old; i < n; ++i) d[i] = (init);                                   \
        (t)->data = d;                                                                      \
        (t)->size = (uint32_t)n;                                                            \
        return old;                                                                         \
    } while (0)

uint32_t wasm_rt_grow_funcref_table(wasm_rt_funcref_table_t* t, uint32_t delta, wasm_rt_funcref_t init) {
    RVM_GROW_TABLE(wasm_rt_funcref_t, t, delta, init);
}

uint32_t wasm_rt_grow_externref_table(wasm_rt_externref_table_t* t, uint32_t delta, wasm_rt_externref_t init) {
    RVM_GROW_TABLE(wasm_rt_externref_t, t, delta, init);
}

static wasm_rt_memory_t* bound_memory;

void rvm_wasm_bind_memory(wasm_rt_memory_t* mem) { bound_memory = mem; }

uint8_t* rvm_wasm_mem(uint32_t off, uint32_t len) {
    if (bound_memory == NULL || (uint64_t)off + len > bound_memory->size) return NULL;
    return bound_memory->data + off;
}
