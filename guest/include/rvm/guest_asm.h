/* RVM guest SDK: ABI constants for assembly sources (.S).
 *
 * The ABI headers in src/abi/ are C (enums, structs) and cannot be included
 * by the assembler. These literals repeat the numbers assembly needs; the SDK
 * checks every one of them against src/abi/ at compile time (abi_check.c), so
 * a mismatch fails the build rather than the agent. */
#ifndef RVM_GUEST_ASM_H
#define RVM_GUEST_ASM_H

#define RVM_ASM_ABI_VERSION 0x00000001 /* RVM_ABI_VERSION (0.1) */
#define RVM_ASM_HC_PORT 0x52       /* RVM_HC_PORT */
#define RVM_ASM_INFO_VA 0x10000    /* RVM_INFO_VA */
#define RVM_ASM_HC_TASK_SPAWN 0x0  /* RVM_HC_TASK_SPAWN */
#define RVM_ASM_HC_EXIT 0x200      /* RVM_HC_EXIT */
#define RVM_ASM_HC_LOG 0x201       /* RVM_HC_LOG */
#define RVM_ASM_HC_YIELD 0x202     /* RVM_HC_YIELD */
#define RVM_ASM_HC_CLOCK 0x203     /* RVM_HC_CLOCK */
#define RVM_ASM_HC_INFO 0x204      /* RVM_HC_INFO */
#define RVM_ASM_TASK_START_SLOTS 256 /* RVM_TASK_START_SLOTS (guest.h) */
#define RVM_ASM_TASK_START_SIZE 16   /* sizeof(struct rvm_task_start) */

#endif
