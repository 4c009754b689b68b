/* RVM wasm runtime: <assert.h>; a failed assertion fails the partition. */
#ifndef RVM_WASM_SHIM_ASSERT_H
#define RVM_WASM_SHIM_ASSERT_H
_Noreturn void rvm_wasm_assert_fail(const char* expr, const char* file, int line);
#define assert(e) ((e) ? (void)0 : rvm_wasm_assert_fail(#e, __FILE__, __LINE__))
#endif
