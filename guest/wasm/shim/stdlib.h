/* RVM wasm runtime: the parts of <stdlib.h> translated modules use. */
#ifndef RVM_WASM_SHIM_STDLIB_H
#define RVM_WASM_SHIM_STDLIB_H
#include <stddef.h>
_Noreturn void abort(void);
#endif
