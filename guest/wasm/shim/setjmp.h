/* RVM wasm runtime: the <setjmp.h> that wasm-rt.h includes, for a
 * freestanding agent (setjmp.S). Only callee-saved state is kept: rbx, rbp,
 * r12-r15, rsp and the return address. */
#ifndef RVM_WASM_SHIM_SETJMP_H
#define RVM_WASM_SHIM_SETJMP_H
typedef unsigned long jmp_buf[8];
int setjmp(jmp_buf env) __attribute__((returns_twice));
_Noreturn void longjmp(jmp_buf env, int val);
#endif
