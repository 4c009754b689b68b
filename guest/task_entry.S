/* RVM guest SDK: start trampoline of tasks created with rvm_task_spawn().
 *
 * rvm_task_spawn(self_cap, fn, arg) claims a free slot in rvm_task_starts,
 * stores {fn, arg} in it, and asks the hypervisor for a task with
 * entry = rvm_task_entry and argument = the slot's address. The new task
 * starts here with
 *   rsp = top of its stack (16-byte aligned), rdi = RVM_INFO_VA,
 *   rsi = its task index, rdx = &slot,
 * copies fn and arg out of the slot, frees the slot (fn = 0), calls
 *   fn(info, task_index, arg)
 * with an ABI-correct stack, and ends the task with exit code 0 if fn returns.
 * This object (and its 4 KiB of slots) is linked only into agents that use
 * rvm_task_spawn(). */

#include "rvm/guest_asm.h"

        .text
        .globl  rvm_task_entry
        .type   rvm_task_entry, @function
rvm_task_entry:
        xorl    %ebp, %ebp
        cld
        movq    (%rdx), %rax            /* fn */
        movq    8(%rdx), %rcx           /* arg */
        movq    $0, (%rdx)              /* free the slot; x86 keeps the loads before this store */
        movq    %rcx, %rdx
        callq   *%rax                   /* rsp was 16-aligned: fn sees the usual rsp % 16 == 8 */
        xorl    %edi, %edi
1:      movl    $RVM_ASM_HC_EXIT, %eax
        outl    %eax, $RVM_ASM_HC_PORT
        jmp     1b
        .size   rvm_task_entry, . - rvm_task_entry

        .bss
        .balign 16
        .globl  rvm_task_starts
        .type   rvm_task_starts, @object
rvm_task_starts:
        .zero   RVM_ASM_TASK_START_SIZE * RVM_ASM_TASK_START_SLOTS
        .size   rvm_task_starts, . - rvm_task_starts

        .section .note.GNU-stack, "", @progbits
