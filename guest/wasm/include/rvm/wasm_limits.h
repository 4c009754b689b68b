/* RVM wasm runtime: force-included into every translated module (-include).
 * The call-depth limit is a variable, set from the task's stack size by
 * rvm_wasm_init (rt.c), instead of wasm-rt.h's fixed default. */
#ifndef RVM_WASM_LIMITS_H
#define RVM_WASM_LIMITS_H
#include <stdint.h>
extern uint32_t rvm_wasm_max_depth;
#define WASM_RT_MAX_CALL_STACK_DEPTH rvm_wasm_max_depth
#endif
