/* EL1 vectors for demo partitions that take interrupts themselves: IRQs
 * from the current EL call guest_on_irq() (which the partition defines)
 * with the caller-saved registers preserved; every other exception is
 * reported to EL2 (hvc #1) like the default vector page does. Include from
 * exactly one C file of a partition. */
#ifndef RVM_BM_GUEST_IRQ_VECTORS_H
#define RVM_BM_GUEST_IRQ_VECTORS_H

#include <stdint.h>

void guest_on_irq(void);

__asm__(
    "        .section .text.vectors, \"ax\", @progbits\n"
    "        .balign 2048\n"
    "guest_irq_vectors:\n"
    "        .irp slot, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15\n"
    "        .balign 0x80\n"
    "        .if \\slot == 5\n" /* current EL, SPx, IRQ */
    "        b       guest_irq_entry\n"
    "        .else\n"
    "        mov     x0, #\\slot\n"
    "        mrs     x1, esr_el1\n"
    "        mrs     x2, elr_el1\n"
    "        mrs     x3, far_el1\n"
    "        hvc     #1\n"
    "        .endif\n"
    "        .endr\n"
    "guest_irq_entry:\n"
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
    "        bl      guest_on_irq\n"
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

extern const char guest_irq_vectors[];

/* Installs the vectors and opens the (virtual) GIC CPU interface: every
 * priority, group 1 enabled. IRQs stay masked until the caller unmasks. */
static inline void guest_irq_setup(void) {
    __asm__ volatile("msr vbar_el1, %0\n isb" ::"r"(guest_irq_vectors));
    __asm__ volatile("msr S3_0_C4_C6_0, %0" ::"r"(0xffull));      /* ICC_PMR_EL1 */
    __asm__ volatile("msr S3_0_C12_C12_7, %0\n isb" ::"r"(1ull)); /* ICC_IGRPEN1_EL1 */
}

/* The INTID of the interrupt being taken (ICC_IAR1_EL1) and its end (EOIR1). */
static inline uint32_t guest_irq_ack(void) {
    uint64_t v;
    __asm__ volatile("mrs %0, S3_0_C12_C12_0" : "=r"(v));
    return (uint32_t)(v & 0xffffffu);
}
static inline void guest_irq_eoi(uint32_t intid) {
    __asm__ volatile("msr S3_0_C12_C12_1, %0\n isb" ::"r"((uint64_t)intid));
}

#endif
