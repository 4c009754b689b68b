/* The "spectest" import module of the WebAssembly spec tests, for modules
 * the conformance harness (spec_harness.py) runs in RVM partitions: the
 * print functions log, the globals hold the testsuite's values (666, 666,
 * 666.6, 666.6), the table is 10..20 funcref, the memory 1..2 pages. */
#include <rvm/guest.h>
#include <rvm/wasm_runtime.h>

struct Z_spectest_instance_t {
    wasm_rt_memory_t memory;
    wasm_rt_funcref_table_t table;
    u32 global_i32;
    u64 global_i64;
    f32 global_f32;
    f64 global_f64;
};

struct Z_spectest_instance_t spectest_instance;

void spectest_init(void) {
    wasm_rt_allocate_memory(&spectest_instance.memory, 1, 2);
    wasm_rt_allocate_funcref_table(&spectest_instance.table, 10, 20);
    spectest_instance.global_i32 = 666;
    spectest_instance.global_i64 = 666;
    spectest_instance.global_f32 = 666.6f;
    spectest_instance.global_f64 = 666.6;
}

u32* Z_spectestZ_global_i32(struct Z_spectest_instance_t* s) { return &s->global_i32; }
u64* Z_spectestZ_global_i64(struct Z_spectest_instance_t* s) { return &s->global_i64; }
f32* Z_spectestZ_global_f32(struct Z_spectest_instance_t* s) { return &s->global_f32; }
f64* Z_spectestZ_global_f64(struct Z_spectest_instance_t* s) { return &s->global_f64; }
wasm_rt_memory_t* Z_spectestZ_memory(struct Z_spectest_instance_t* s) { return &s->memory; }
wasm_rt_funcref_table_t* Z_spectestZ_table(struct Z_spectest_instance_t* s) { return &s->table; }

void Z_spectestZ_print(struct Z_spectest_instance_t* s) { (void)s; }
void Z_spectestZ_print_i32(struct Z_spectest_instance_t* s, u32 v) { (void)s, (void)v; }
void Z_spectestZ_print_i64(struct Z_spectest_instance_t* s, u64 v) { (void)s, (void)v; }
void Z_spectestZ_print_f32(struct Z_spectest_instance_t* s, f32 v) { (void)s, (void)v; }
void Z_spectestZ_print_f64(struct Z_spectest_instance_t* s, f64 v) { (void)s, (void)v; }
void Z_spectestZ_print_i32_f32(struct Z_spectest_instance_t* s, u32 a, f32 b) { (void)s, (void)a, (void)b; }
void Z_spectestZ_print_f64_f64(struct Z_spectest_instance_t* s, f64 a, f64 b) { (void)s, (void)a, (void)b; }
