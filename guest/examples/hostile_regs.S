/* agent_hostile: uint64_t hostile_regcheck(uint64_t nr)
 *
 * Loads a distinct 64-bit pattern into every general-purpose register except
 * rax (the number) and rsp, makes hypercall `nr` with them, and returns a
 * bit mask of what the hypervisor changed: bit i for the i-th register of
 * rbx rcx rdx rsi rdi rbp r8 r9 r10 r11 r12 r13 r14 r15, bit 14 for rflags.
 * 0 means only rax changed, as the ABI promises. */

#include "rvm/guest_asm.h"

        .section .rodata
        .balign 8
patterns:
        .quad   0x0123456789abcd01, 0x1133557799bbdd02, 0x2244668800aacc03, 0x3355779911bbdd04
        .quad   0x4466880022ccee05, 0x5577991133ddff06, 0x66880022440e1007, 0x77991133551f2108
        .quad   0x880022446620f209, 0x991133557731030a, 0xa0224466884214b0, 0xb1335577995325c0
        .quad   0xc2446688a06436d0, 0xd3557799b17547e0

        .text
        .globl  hostile_regcheck
        .type   hostile_regcheck, @function
hostile_regcheck:
        pushq   %rbx
        pushq   %rbp
        pushq   %r12
        pushq   %r13
        pushq   %r14
        pushq   %r15
        movq    %rdi, %rax
        movq    patterns+0*8(%rip), %rbx
        movq    patterns+1*8(%rip), %rcx
        movq    patterns+2*8(%rip), %rdx
        movq    patterns+3*8(%rip), %rsi
        movq    patterns+4*8(%rip), %rdi
        movq    patterns+5*8(%rip), %rbp
        movq    patterns+6*8(%rip), %r8
        movq    patterns+7*8(%rip), %r9
        movq    patterns+8*8(%rip), %r10
        movq    patterns+9*8(%rip), %r11
        movq    patterns+10*8(%rip), %r12
        movq    patterns+11*8(%rip), %r13
        movq    patterns+12*8(%rip), %r14
        movq    patterns+13*8(%rip), %r15
        pushfq                                  /* flags before */
        outl    %eax, $RVM_ASM_HC_PORT
        pushfq                                  /* flags after */
        xorl    %eax, %eax

        .macro  check reg, index
        cmpq    patterns+\index*8(%rip), \reg
        je      1f
        orl     $(1 << \index), %eax
1:
        .endm
        check   %rbx, 0
        check   %rcx, 1
        check   %rdx, 2
        check   %rsi, 3
        check   %rdi, 4
        check   %rbp, 5
        check   %r8, 6
        check   %r9, 7
        check   %r10, 8
        check   %r11, 9
        check   %r12, 10
        check   %r13, 11
        check   %r14, 12
        check   %r15, 13

        popq    %rcx                            /* after */
        popq    %rdx                            /* before */
        cmpq    %rcx, %rdx
        je      2f
        orl     $(1 << 14), %eax
2:
        popq    %r15
        popq    %r14
        popq    %r13
        popq    %r12
        popq    %rbp
        popq    %rbx
        ret
        .size   hostile_regcheck, . - hostile_regcheck

        .section .note.GNU-stack, "", @progbits
