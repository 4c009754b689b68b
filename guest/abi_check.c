/* Compile-time check that the assembly constants of the SDK (guest_asm.h) and
 * the layout the trampolines rely on match the ABI headers in src/abi/. This
 * translation unit defines nothing; building it is the check. */
#include "rvm/guest.h"
#include "rvm/guest_asm.h"

_Static_assert(RVM_ASM_ABI_VERSION == RVM_ABI_VERSION, "RVM_ABI_VERSION");
_Static_assert(RVM_ASM_HC_PORT == RVM_HC_PORT, "RVM_HC_PORT");
_Static_assert(RVM_ASM_INFO_VA == RVM_INFO_VA, "RVM_INFO_VA");
_Static_assert(RVM_ASM_HC_TASK_SPAWN == RVM_HC_TASK_SPAWN, "RVM_HC_TASK_SPAWN");
_Static_assert(RVM_ASM_HC_EXIT == RVM_HC_EXIT, "RVM_HC_EXIT");
_Static_assert(RVM_ASM_HC_LOG == RVM_HC_LOG, "RVM_HC_LOG");
_Static_assert(RVM_ASM_HC_YIELD == RVM_HC_YIELD, "RVM_HC_YIELD");
_Static_assert(RVM_ASM_HC_CLOCK == RVM_HC_CLOCK, "RVM_HC_CLOCK");
_Static_assert(RVM_ASM_HC_INFO == RVM_HC_INFO, "RVM_HC_INFO");
_Static_assert(RVM_ASM_TASK_START_SLOTS == RVM_TASK_START_SLOTS, "RVM_TASK_START_SLOTS");
_Static_assert(RVM_ASM_TASK_START_SIZE == sizeof(struct rvm_task_start), "struct rvm_task_start");
_Static_assert(__builtin_offsetof(struct rvm_task_start, fn) == 0, "rvm_task_start.fn");
_Static_assert(__builtin_offsetof(struct rvm_task_start, arg) == 8, "rvm_task_start.arg");
_Static_assert(sizeof(struct rvm_info) == 128, "struct rvm_info");
