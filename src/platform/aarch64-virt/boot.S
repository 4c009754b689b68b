/* RVM bare-metal platform: EL2 entry, the EL2 exception vectors, the world
 * switch into an EL1 partition and back, and the default EL1 vector page
 * that partitions start with.
 *
 * QEMU virt (virtualization=on, no EL3) enters _start at EL2 with the MMU
 * off. _start parks every core but 0, sets the stack, zeroes .bss and calls
 * platform_main(); the EL2 MMU is switched on from C before any spin lock or
 * unaligned access (see mmu.cpp). */

#include "vcpu_layout.h"

        .section .text.boot, "ax", @progbits
        .globl  _start
_start:
        mrs     x1, mpidr_el1
        and     x1, x1, #0xff
        cbnz    x1, park
        mrs     x1, CurrentEL
        cmp     x1, #(2 << 2)
        b.ne    park                    /* not EL2: nothing we can do */
        ldr     x1, =__stack_top
        mov     sp, x1
        ldr     x1, =__bss_start
        ldr     x2, =__bss_end
1:      cmp     x1, x2
        b.hs    2f
        stp     xzr, xzr, [x1], #16
        b       1b
2:      ldr     x1, =el2_vectors
        msr     vbar_el2, x1
        isb
        bl      platform_main
park:   wfe
        b       park

/* ---- EL2 vectors ------------------------------------------------------ */

/* A trap from the partition: save x0..x30 into the vCPU (tpidr_el2), then
 * leave through vcpu_exit with the exit kind in x1. */
.macro guest_trap kind
        .balign 0x80
        stp     x0, x1, [sp, #-16]!
        mrs     x0, tpidr_el2
        stp     x2, x3, [x0, #16]
        mov     x1, #\kind
        b       guest_save
.endm

/* Anything taken from EL2 itself is a hypervisor bug. */
.macro el2_fault kind
        .balign 0x80
        mov     x0, #\kind
        mrs     x1, esr_el2
        mrs     x2, elr_el2
        mrs     x3, far_el2
        b       el2_panic
.endm

        .text
        .balign 0x800
        .globl  el2_vectors
el2_vectors:
        el2_fault 0     /* current EL, SP0 */
        el2_fault 1
        el2_fault 2
        el2_fault 3
        el2_fault 4     /* current EL, SPx */
        el2_fault 5
        el2_fault 6
        el2_fault 7
        guest_trap VCPU_EXIT_SYNC       /* lower EL, AArch64 */
        guest_trap VCPU_EXIT_IRQ
        guest_trap VCPU_EXIT_FIQ
        guest_trap VCPU_EXIT_SERROR
        el2_fault 12    /* lower EL, AArch32: never enabled */
        el2_fault 13
        el2_fault 14
        el2_fault 15

guest_save:
        stp     x4, x5, [x0, #32]
        stp     x6, x7, [x0, #48]
        stp     x8, x9, [x0, #64]
        stp     x10, x11, [x0, #80]
        stp     x12, x13, [x0, #96]
        stp     x14, x15, [x0, #112]
        stp     x16, x17, [x0, #128]
        stp     x18, x19, [x0, #144]
        stp     x20, x21, [x0, #160]
        stp     x22, x23, [x0, #176]
        stp     x24, x25, [x0, #192]
        stp     x26, x27, [x0, #208]
        stp     x28, x29, [x0, #224]
        str     x30, [x0, #240]
        ldp     x2, x3, [sp], #16       /* the guest's x0, x1 */
        stp     x2, x3, [x0, #0]
        mrs     x2, sp_el1
        str     x2, [x0, #VCPU_SP_EL1]
        mrs     x2, elr_el2
        str     x2, [x0, #VCPU_ELR]
        mrs     x2, spsr_el2
        str     x2, [x0, #VCPU_SPSR]
        mrs     x2, esr_el2
        str     x2, [x0, #VCPU_ESR]
        mrs     x2, far_el2
        str     x2, [x0, #VCPU_FAR]
        mrs     x2, hpfar_el2
        str     x2, [x0, #VCPU_HPFAR]
        /* Back onto the host's stack and callee-saved registers. */
        ldp     x19, x20, [x0, #VCPU_HOST + 0]
        ldp     x21, x22, [x0, #VCPU_HOST + 16]
        ldp     x23, x24, [x0, #VCPU_HOST + 32]
        ldp     x25, x26, [x0, #VCPU_HOST + 48]
        ldp     x27, x28, [x0, #VCPU_HOST + 64]
        ldp     x29, x30, [x0, #VCPU_HOST + 80]
        ldr     x2, [x0, #VCPU_HOST + 96]
        mov     sp, x2
        mov     x0, x1
        ret

/* unsigned vcpu_enter(VcpuRegs* regs): runs the partition until its next
 * trap; returns the exit kind (VCPU_EXIT_*). */
        .globl  vcpu_enter
vcpu_enter:
        stp     x19, x20, [x0, #VCPU_HOST + 0]
        stp     x21, x22, [x0, #VCPU_HOST + 16]
        stp     x23, x24, [x0, #VCPU_HOST + 32]
        stp     x25, x26, [x0, #VCPU_HOST + 48]
        stp     x27, x28, [x0, #VCPU_HOST + 64]
        stp     x29, x30, [x0, #VCPU_HOST + 80]
        mov     x2, sp
        str     x2, [x0, #VCPU_HOST + 96]
        msr     tpidr_el2, x0
        ldr     x2, [x0, #VCPU_SP_EL1]
        msr     sp_el1, x2
        ldr     x2, [x0, #VCPU_ELR]
        msr     elr_el2, x2
        ldr     x2, [x0, #VCPU_SPSR]
        msr     spsr_el2, x2
        ldp     x2, x3, [x0, #16]
        ldp     x4, x5, [x0, #32]
        ldp     x6, x7, [x0, #48]
        ldp     x8, x9, [x0, #64]
        ldp     x10, x11, [x0, #80]
        ldp     x12, x13, [x0, #96]
        ldp     x14, x15, [x0, #112]
        ldp     x16, x17, [x0, #128]
        ldp     x18, x19, [x0, #144]
        ldp     x20, x21, [x0, #160]
        ldp     x22, x23, [x0, #176]
        ldp     x24, x25, [x0, #192]
        ldp     x26, x27, [x0, #208]
        ldp     x28, x29, [x0, #224]
        ldr     x30, [x0, #240]
        ldp     x0, x1, [x0, #0]
        eret

/* ---- The default EL1 vector page ---------------------------------------
 * Mapped read-only at VCPU_EL1_VECTORS_IPA in every partition and installed
 * in VBAR_EL1 at start. A partition that takes an exception it did not ask
 * to handle (undefined instruction, its own alignment fault, FP use) ends
 * up here and reports it to EL2 with `hvc #1`: x0 = vector slot,
 * x1 = ESR_EL1, x2 = ELR_EL1, x3 = FAR_EL1. A partition may install its own
 * vectors; it then handles its own exceptions, which disturbs nobody. */
.macro el1_report slot
        .balign 0x80
        mov     x0, #\slot
        mrs     x1, esr_el1
        mrs     x2, elr_el1
        mrs     x3, far_el1
        hvc     #1
        b       .
.endm
        .section .rodata.el1_vectors, "a", @progbits
        .balign 4096
        .globl  el1_vector_page
el1_vector_page:
        .irp slot, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15
        el1_report \slot
        .endr
        .balign 4096
