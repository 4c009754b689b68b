/* RVM wasm runtime: <alloca.h>. */
#ifndef RVM_WASM_SHIM_ALLOCA_H
#define RVM_WASM_SHIM_ALLOCA_H
#define alloca __builtin_alloca
#endif
