/* Holds a 30 ms lease of the PL011 (mapped at its real address in this
 * partition's stage 2): writes to it directly, waits 100 ms, and writes
 * again -- by then the lease has expired, the page is unmapped and the
 * write is a stage-2 abort. */
#include "common.h"

#define UART_DR 0x09000000u
#define UART_FR 0x09000018u

static void uart_puts(const char* s) {
    for (; *s != '\0'; ++s) {
        while ((*(volatile uint32_t*)(uintptr_t)UART_FR & (1u << 5)) != 0) {
        }
        *(volatile uint32_t*)(uintptr_t)UART_DR = (uint32_t)(unsigned char)*s;
    }
}

int main(void) {
    uart_puts("uart_lease: direct write to the leased UART\r\n");
    const uint64_t start = bm_ticks();
    while (bm_ticks() - start < bm_ticks_hz() / 10u) {
    }
    rvm_log_str("uart_lease: writing again after the lease's end");
    uart_puts("uart_lease: still mapped (must not happen)\r\n");
    return 0;
}
