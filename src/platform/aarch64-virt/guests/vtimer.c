/* Takes interrupts itself: installs its own EL1 vectors, programs its
 * virtual timer (CNTV, 10 ms) and waits with IRQs unmasked. EL2 injects
 * each timer interrupt through a GICv3 list register; the handler
 * acknowledges and ends it through the (virtual) CPU interface. */
#include "common.h"
#include "irq_vectors.h"

#define TICKS 5u

static volatile uint32_t ticks;

static void arm_timer(void) {
    const uint64_t tval = bm_ticks_hz() / 100u;
    __asm__ volatile("msr cntv_tval_el0, %0\n msr cntv_ctl_el0, %1\n isb" ::"r"(tval), "r"(1ull));
}

void guest_on_irq(void) {
    const uint32_t intid = guest_irq_ack();
    if (intid == 27u) {
        ++ticks;
        if (ticks < TICKS)
            arm_timer();
        else
            __asm__ volatile("msr cntv_ctl_el0, %0\n isb" ::"r"(0ull));
    }
    guest_irq_eoi(intid);
}

int main(void) {
    guest_irq_setup();
    const uint64_t start = bm_ticks();
    arm_timer();
    __asm__ volatile("msr daifclr, #2" ::: "memory");
    while (ticks < TICKS) __asm__ volatile("wfi" ::: "memory");
    __asm__ volatile("msr daifset, #2" ::: "memory");
    rvm_logf("vtimer: %u virtual timer interrupts in %u ms", ticks,
             (unsigned)(bm_ticks_to_ns(bm_ticks() - start) / 1000000u));
    return 0;
}
