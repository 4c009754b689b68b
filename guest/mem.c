/* RVM guest SDK: the memory functions a freestanding compiler may call
 * on its own (GCC and Clang emit memcpy/memset/memmove/memcmp for struct
 * copies and initializers even with -ffreestanding, and GCC turns
 * recognizable loops into memset/memcpy/strlen calls). Linked from the SDK's
 * static runtime library, so an agent only carries the ones it uses. Written
 * with `rep movsb/stosb` so the compiler cannot turn them back into calls to
 * themselves. */
#include <stddef.h>
#include <stdint.h>

void* memcpy(void* restrict dst, const void* restrict src, size_t n);
void* memmove(void* dst, const void* src, size_t n);
void* memset(void* dst, int c, size_t n);
int memcmp(const void* a, const void* b, size_t n);
size_t strlen(const char* s);

void* memcpy(void* restrict dst, const void* restrict src, size_t n) {
    void* d = dst;
    __asm__ volatile("rep movsb" : "+D"(d), "+S"(src), "+c"(n) : : "memory");
    return dst;
}

void* memmove(void* dst, const void* src, size_t n) {
    if ((uintptr_t)dst - (uintptr_t)src >= n) return memcpy(dst, src, n); /* no forward overlap */
    void* d = (char*)dst + n - 1;
    const void* s = (const char*)src + n - 1;
    __asm__ volatile("std\n\trep movsb\n\tcld" : "+D"(d), "+S"(s), "+c"(n) : : "memory", "cc");
    return dst;
}

void* memset(void* dst, int c, size_t n) {
    void* d = dst;
    __asm__ volatile("rep stosb" : "+D"(d), "+c"(n) : "a"(c) : "memory");
    return dst;
}

int memcmp(const void* a, const void* b, size_t n) {
    const unsigned char* x = (const unsigned char*)a;
    const unsigned char* y = (const unsigned char*)b;
    for (size_t i = 0; i < n; ++i) {
        if (x[i] != y[i]) return x[i] < y[i] ? -1 : 1;
    }
    return 0;
}

size_t strlen(const char* s) {
    size_t n = 0;
    __asm__("" : "+r"(n)); /* opaque start: keeps the loop from being recognized as strlen */
    while (s[n] != '\0') ++n;
    return n;
}
