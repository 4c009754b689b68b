/* RVM wasm runtime: the <math.h> that wasm2c's output uses. Classification
 * and sqrt/fabs/copysign are compiler builtins (inline SSE2 with
 * -fno-math-errno); rounding is in guest/wasm/fmath.c because baseline
 * x86-64 has no roundsd. */
#ifndef RVM_WASM_SHIM_MATH_H
#define RVM_WASM_SHIM_MATH_H
#define NAN __builtin_nanf("")
#define INFINITY __builtin_inff()
#define isnan(x) __builtin_isnan(x)
#define isinf(x) __builtin_isinf(x)
#define signbit(x) __builtin_signbit(x)
#define sqrt(x) __builtin_sqrt(x)
#define sqrtf(x) __builtin_sqrtf(x)
#define fabs(x) __builtin_fabs(x)
#define fabsf(x) __builtin_fabsf(x)
#define copysign(x, y) __builtin_copysign(x, y)
#define copysignf(x, y) __builtin_copysignf(x, y)
double floor(double x);
float floorf(float x);
double ceil(double x);
float ceilf(float x);
double trunc(double x);
float truncf(float x);
double nearbyint(double x);
float nearbyintf(float x);
#endif
