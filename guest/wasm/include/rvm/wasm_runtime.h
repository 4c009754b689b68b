/* RVM wasm runtime: what the generated glue (src/wasm/wasm_glue.cpp) and the
 * import modules need from the guest-side runtime of a translated module.
 * The module itself only sees wasm-rt.h. */
#ifndef RVM_WASM_RUNTIME_H
#define RVM_WASM_RUNTIME_H

#include <stdint.h>

#include "wasm-rt.h"
#include "abi/agent.h"

/* The value types of wasm2c's headers (same guard, so either may come first). */
#ifndef WASM_RT_CORE_TYPES_DEFINED
#define WASM_RT_CORE_TYPES_DEFINED
typedef uint8_t u8;
typedef int8_t s8;
typedef uint16_t u16;
typedef int16_t s16;
typedef uint32_t u32;
typedef int32_t s32;
typedef uint64_t u64;
typedef int64_t s64;
typedef float f32;
typedef double f64;
#endif

/* Sets up the heap (the partition's heap_start..heap_end) and the call-depth
 * limit from the task stack size. Call first. */
void rvm_wasm_init(const struct rvm_info* info);

/* The module's exported memory, for the import modules (NULL: none). */
void rvm_wasm_bind_memory(wasm_rt_memory_t* mem);

/* A pointer to [off, off + len) of the bound memory, or NULL when the range
 * is outside it. */
uint8_t* rvm_wasm_mem(uint32_t off, uint32_t len);

/* Bump allocation from the heap (never freed); traps the partition with a
 * message naming `what` when the heap is exhausted. */
void* rvm_wasm_alloc(uint64_t size, uint64_t align, const char* what);

/* Flushes buffered stdout/stderr (WASI fd_write). */
void rvm_wasm_flush(void);

/* Ends the task: flushes the output, then exit(code). */
_Noreturn void rvm_wasm_exit(int code);

/* Logs "wasm <what>: <detail>" and fails the partition (ud2: the host sees
 * an invalid-opcode fault at a known rip, witnessed). */
_Noreturn void rvm_wasm_fail(const char* what, const char* detail);

/* WASI args and environment: a blob the host writes into the image before
 * loading (src/wasm/wasm_args.cpp). Layout after the 16-byte magic: u32
 * argc, u32 envc, u32 bytes, then argc + envc NUL-terminated strings. */
#define RVM_WASM_ARGS_MAGIC "RVM-WASM-ARGS-v1"
#define RVM_WASM_ARGS_SIZE 4096u
extern const volatile uint8_t rvm_wasm_args_blob[RVM_WASM_ARGS_SIZE];

/* The import modules' instance types (wasm2c passes them to every import). */
struct Z_wasi_snapshot_preview1_instance_t {
    int unused;
};
struct Z_rvm_instance_t {
    int unused;
};
extern struct Z_wasi_snapshot_preview1_instance_t rvm_wasi_instance;
extern struct Z_rvm_instance_t rvm_rvm_instance;

#endif
