/* RVM guest SDK: process entry of an agent (task 0).
 *
 * The hypervisor starts task 0 at the ELF entry (_start) at CPL3, 64-bit,
 * IF=0, IOPL=3, with
 *   rsp = top of task 0's stack (16-byte aligned)
 *   rdi = RVM_INFO_VA, rsi = 0 (task index), rdx = the start argument
 *   every other general-purpose register 0.
 * _start runs the static constructors (.preinit_array, .init_array), calls
 *   int main(const struct rvm_info* info, uint64_t task_index, uint64_t arg)
 * and ends the task with rvm_exit(main's return value). A main that takes
 * fewer parameters is fine (the extra registers are ignored).
 * .bss is zeroed by the loader (p_memsz > p_filesz), not here. */

#include "rvm/guest_asm.h"

        .section .text.start, "ax", @progbits
        .globl  _start
        .type   _start, @function
_start:
        xorl    %ebp, %ebp              /* outermost frame for backtraces */
        cld
        /* Keep the entry registers in callee-saved registers across the
         * constructors. */
        movq    %rdi, %r12
        movq    %rsi, %r13
        movq    %rdx, %r14
        leaq    __rvm_init_start(%rip), %rbx
        leaq    __rvm_init_end(%rip), %r15
1:      cmpq    %r15, %rbx              /* .preinit_array and .init_array are adjacent */
        jae     2f
        movq    (%rbx), %rax
        addq    $8, %rbx
        testq   %rax, %rax
        jz      1b
        cmpq    $-1, %rax
        je      1b
        movq    %r12, %rdi
        movq    %r13, %rsi
        movq    %r14, %rdx
        callq   *%rax                   /* rsp is 16-aligned before the call: ABI-correct */
        jmp     1b
2:      movq    %r12, %rdi
        movq    %r13, %rsi
        movq    %r14, %rdx
        callq   main
        movslq  %eax, %rdi              /* exit code: int, sign-extended */
        .globl  __rvm_exit_rdi
        .type   __rvm_exit_rdi, @function
__rvm_exit_rdi:                         /* ends the task with the code in rdi; never returns */
        movl    $RVM_ASM_HC_EXIT, %eax
        outl    %eax, $RVM_ASM_HC_PORT
        jmp     __rvm_exit_rdi
        .size   __rvm_exit_rdi, . - __rvm_exit_rdi
        .size   _start, . - _start

        /* The ABI version this agent was built against, first in the
         * read-only segment (agent.ld keeps it). A loader may compare its
         * major with its own. */
        .section .rodata.rvm_abi, "a", @progbits
        .balign 4
        .globl  rvm_agent_abi_version
        .type   rvm_agent_abi_version, @object
rvm_agent_abi_version:
        .long   RVM_ASM_ABI_VERSION
        .size   rvm_agent_abi_version, 4

        .section .note.GNU-stack, "", @progbits
