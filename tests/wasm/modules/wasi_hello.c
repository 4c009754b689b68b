/* A plain WASI program (clang --target=wasm32-wasi, wasi-libc), run
 * unchanged as an RVM agent by tests/integration/wasm_agents_test.cpp. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/random.h>

int main(int argc, char** argv) {
    printf("wasi: argc=%d\n", argc);
    for (int i = 0; i < argc; i++) printf("wasi: argv[%d]=%s\n", i, argv[i]);
    const char* mode = getenv("RVM_TEST_MODE");
    printf("wasi: RVM_TEST_MODE=%s\n", mode ? mode : "(unset)");
    fprintf(stderr, "wasi: to stderr\n");
    char* big = malloc(8 << 20);
    if (!big) return 2;
    memset(big, 7, 8 << 20);
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    struct timespec nap = {0, 20 * 1000 * 1000};
    nanosleep(&nap, NULL);
    clock_gettime(CLOCK_MONOTONIC, &b);
    long long slept = (b.tv_sec - a.tv_sec) * 1000000000LL + (b.tv_nsec - a.tv_nsec);
    printf("wasi: slept_ms=%lld\n", slept / 1000000);
    unsigned char r[16] = {0};
    getentropy(r, sizeof r);
    int nonzero = 0;
    for (int i = 0; i < 16; i++) nonzero += r[i] != 0;
    printf("wasi: random_nonzero=%d\n", nonzero);
    if (mode && strcmp(mode, "exit") == 0) exit(5);
    return big[12345] == 7 ? 0 : 3;
}
