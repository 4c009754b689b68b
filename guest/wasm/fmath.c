/* RVM wasm runtime: the rounding functions of <math.h> that wasm2c's output
 * calls (f32/f64 floor, ceil, trunc, nearest). Baseline x86-64 has no
 * roundsd, so they are written with integer conversion (|x| < 2^52 or 2^23
 * has an exact integer part) and the 2^52 trick for round-half-to-even in the
 * default rounding mode. NaN quieting is done by the callers (wasm_floor...). */
#include <math.h>
#include <stdint.h>

#define TWO52 4503599627370496.0
#define TWO23 8388608.0f

double trunc(double x) {
    if (!(fabs(x) < TWO52)) return x; /* NaN, infinities and numbers without a fraction */
    return copysign((double)(int64_t)x, x);
}

float truncf(float x) {
    if (!(fabsf(x) < TWO23)) return x;
    return copysignf((float)(int32_t)x, x);
}

double floor(double x) {
    double t = trunc(x);
    return t > x ? t - 1.0 : t;
}

float floorf(float x) {
    float t = truncf(x);
    return t > x ? t - 1.0f : t;
}

double ceil(double x) {
    double t = trunc(x);
    return t < x ? t + 1.0 : t;
}

float ceilf(float x) {
    float t = truncf(x);
    return t < x ? t + 1.0f : t;
}

double nearbyint(double x) {
    if (!(fabs(x) < TWO52)) return x;
    volatile double big = fabs(x) + TWO52; /* rounds to an integer, ties to even */
    return copysign(big - TWO52, x);
}

float nearbyintf(float x) {
    if (!(fabsf(x) < TWO23)) return x;
    volatile float big = fabsf(x) + TWO23;
    return copysignf(big - TWO23, x);
}
