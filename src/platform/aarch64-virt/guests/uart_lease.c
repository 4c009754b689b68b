/* Leases the PL011 itself: RVM_HC_DEVICE_LEASE_ACQUIRE with the device
 * capability (x0 at entry) and the Standard proof token the platform handed
 * in (its address in x1). Then it writes to the UART directly, takes the
 * UART's own transmit interrupt (routed to it while the lease holds), shows
 * the token cannot be used twice, waits past the lease's 200 ms and writes
 * again -- by then the page is unmapped and the write is a stage-2 abort. */
#include "common.h"
#include "irq_vectors.h"

#define UART_DR 0x09000000u
#define UART_FR 0x09000018u
#define UART_IMSC 0x09000038u
#define UART_MIS 0x09000040u
#define UART_ICR 0x09000044u
#define UART_TXIM (1u << 5)
#define UART_INTID 33u

static volatile uint32_t uart_irqs;

static inline void reg_write(uint32_t addr, uint32_t v) { *(volatile uint32_t*)(uintptr_t)addr = v; }
static inline uint32_t reg_read(uint32_t addr) { return *(volatile uint32_t*)(uintptr_t)addr; }

void guest_on_irq(void) {
    const uint32_t intid = guest_irq_ack();
    if (intid == UART_INTID) {
        if ((reg_read(UART_MIS) & UART_TXIM) != 0) ++uart_irqs;
        reg_write(UART_ICR, UART_TXIM);
        if (uart_irqs >= 3u) reg_write(UART_IMSC, 0);
    }
    guest_irq_eoi(intid);
}
#define LEASE_NS 200000000u

static void uart_puts(const char* s) {
    for (; *s != '\0'; ++s) {
        while ((*(volatile uint32_t*)(uintptr_t)UART_FR & (1u << 5)) != 0) {
        }
        *(volatile uint32_t*)(uintptr_t)UART_DR = (uint32_t)(unsigned char)*s;
    }
}

int main(uint64_t cap, uint64_t token) {
    /* A fresh quantum first, so that the line below is written before any
     * other partition's output can cut it (the console is shared). */
    rvm_yield();
    const rvm_ret_t lease = rvm_hypercall6(RVM_HC_DEVICE_LEASE_ACQUIRE, cap, LEASE_NS, 0, 0, 0, token);
    if (rvm_is_error(lease)) {
        rvm_logf("uart_lease: lease_acquire failed status=%u arg=%u", rvm_error_status(lease), rvm_error_arg(lease));
        return 1;
    }
    uart_puts("uart_lease: direct write to the leased UART\r\n");
    /* The transmit interrupt: each character written raises it. */
    guest_irq_setup();
    reg_write(UART_ICR, 0x7ffu);
    reg_write(UART_IMSC, UART_TXIM);
    __asm__ volatile("msr daifclr, #2" ::: "memory");
    uart_puts("uart_lease: tx interrupts on\r\n");
    const uint64_t t0 = bm_ticks();
    while (uart_irqs < 3u && bm_ticks() - t0 < bm_ticks_hz() / 20u) {
    }
    __asm__ volatile("msr daifset, #2" ::: "memory");
    reg_write(UART_IMSC, 0);
    rvm_logf("uart_lease: %u UART interrupts taken while leased", uart_irqs);
    const rvm_ret_t again = rvm_hypercall6(RVM_HC_DEVICE_LEASE_ACQUIRE, cap, LEASE_NS, 0, 0, 0, token);
    rvm_logf("uart_lease: lease cap=%lx; the same token again: status=%u", (unsigned long)lease,
             rvm_error_status(again));
    const uint64_t start = bm_ticks();
    while (bm_ticks() - start < bm_ticks_hz() * 2u / 5u) {
    }
    rvm_log_str("uart_lease: writing again after the lease's end");
    uart_puts("uart_lease: still mapped (must not happen)\r\n");
    return 0;
}
