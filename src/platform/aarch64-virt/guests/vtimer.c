/* Takes interrupts itself: installs its own EL1 vectors, programs its
 * virtual timer (CNTV, 10 ms) and waits with IRQs unmasked. EL2 injects
 * each timer interrupt through a GICv3 list register; the handler
 * acknowledges and ends it through the (virtual) CPU interface. */
#include "common.h"

#define TICKS 5u

static volatile uint32_t ticks;

__asm__(
    "        .section .text.vectors, \"ax\", @progbits\n"
    "        .balign 2048\n"
    "vt_vectors:\n"
    "        .irp slot, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15\n"
    "        .balign 0x80\n"
    "        .if \\slot == 5\n" /* current EL, SPx, IRQ */
    "        b       vt_irq\n"
    "        .else\n"
    "        mov     x0, #\\slot\n"
    "        mrs     x1, esr_el1\n"
    "        mrs     x2, elr_el1\n"
    "        mrs     x3, far_el1\n"
    "        hvc     #1\n"
    "        .endif\n"
    "        .endr\n"
    "vt_irq:\n"
    "        sub     sp, sp, #176\n"
    "        stp     x0, x1, [sp, #0]\n"
    "        stp     x2, x3, [sp, #16]\n"
    "        stp     x4, x5, [sp, #32]\n"
    "        stp     x6, x7, [sp, #48]\n"
    "        stp     x8, x9, [sp, #64]\n"
    "        stp     x10, x11, [sp, #80]\n"
    "        stp     x12, x13, [sp, #96]\n"
    "        stp     x14, x15, [sp, #112]\n"
    "        stp     x16, x17, [sp, #128]\n"
    "        stp     x18, x30, [sp, #144]\n"
    "        bl      vt_on_irq\n"
    "        ldp     x0, x1, [sp, #0]\n"
    "        ldp     x2, x3, [sp, #16]\n"
    "        ldp     x4, x5, [sp, #32]\n"
    "        ldp     x6, x7, [sp, #48]\n"
    "        ldp     x8, x9, [sp, #64]\n"
    "        ldp     x10, x11, [sp, #80]\n"
    "        ldp     x12, x13, [sp, #96]\n"
    "        ldp     x14, x15, [sp, #112]\n"
    "        ldp     x16, x17, [sp, #128]\n"
    "        ldp     x18, x30, [sp, #144]\n"
    "        add     sp, sp, #176\n"
    "        eret\n"
    "        .text\n");

static void arm_timer(void) {
    const uint64_t tval = bm_ticks_hz() / 100u;
    __asm__ volatile("msr cntv_tval_el0, %0\n msr cntv_ctl_el0, %1\n isb" ::"r"(tval), "r"(1ull));
}

void vt_on_irq(void);
void vt_on_irq(void) {
    uint64_t intid;
    __asm__ volatile("mrs %0, S3_0_C12_C12_0" : "=r"(intid)); /* ICC_IAR1_EL1 */
    if ((intid & 0xffffffu) == 27u) {
        ++ticks;
        if (ticks < TICKS)
            arm_timer();
        else
            __asm__ volatile("msr cntv_ctl_el0, %0\n isb" ::"r"(0ull));
    }
    __asm__ volatile("msr S3_0_C12_C12_1, %0\n isb" ::"r"(intid)); /* ICC_EOIR1_EL1 */
}

extern const char vt_vectors[];

int main(void) {
    __asm__ volatile("msr vbar_el1, %0\n isb" ::"r"(vt_vectors));
    __asm__ volatile("msr S3_0_C4_C6_0, %0" ::"r"(0xffull));   /* ICC_PMR_EL1 */
    __asm__ volatile("msr S3_0_C12_C12_7, %0\n isb" ::"r"(1ull)); /* ICC_IGRPEN1_EL1 */
    const uint64_t start = bm_ticks();
    arm_timer();
    __asm__ volatile("msr daifclr, #2" ::: "memory");
    while (ticks < TICKS) __asm__ volatile("wfi" ::: "memory");
    __asm__ volatile("msr daifset, #2" ::: "memory");
    rvm_logf("vtimer: %u virtual timer interrupts in %u ms", ticks,
             (unsigned)(bm_ticks_to_ns(bm_ticks() - start) / 1000000u));
    return 0;
}
