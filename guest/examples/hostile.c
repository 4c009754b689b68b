/* agent_hostile: asks the hypervisor to do things it must refuse, and checks
 * that each refusal carries the documented status (src/abi/status.h,
 * docs/abi.md):
 *   RVM_E_FAULT (17)        a buffer the task itself could not access: the
 *                           null guard, above memory_size (page tables), the
 *                           kernel half, non-canonical, wrapping around, or
 *                           (for RVM_HC_INFO, which writes) read-only memory:
 *                           the info page, the agent's own code and rodata
 *   RVM_E_INVALID (3), arg 2  RVM_HC_LOG length above RVM_LOG_MAX
 *   RVM_E_UNKNOWN_CALL (1), arg 0  numbers that name no call, including a
 *                           valid number with bits above 31 set
 *   RVM_E_BAD_HANDLE (4), arg 1  task_spawn with a null, forged or stale cap
 * and that a hypercall changes no register but rax (hostile_regs.S).
 * Logs "hostile: FAIL ..." for each mismatch; at the end either
 *   hostile: all refused
 * and exit 0, or "hostile: N of M checks failed" and exit 1. */
#include <rvm/guest.h>

#define ANY_ARG 0xffu

uint64_t hostile_regcheck(uint64_t nr);

static unsigned checks, failures;
static char buffer[64] = "hostile: this text must never reach the log\n";
static const char kRodata[128] = "read-only";

static void expect(const char* what, rvm_ret_t ret, uint32_t status, uint32_t arg) {
    ++checks;
    if (rvm_is_error(ret) && rvm_error_status(ret) == status && (arg == ANY_ARG || rvm_error_arg(ret) == arg)) return;
    ++failures;
    rvm_logf("hostile: FAIL %s: got ret %ld (status %u arg %u), want status %u arg %u\n", what, (long)ret,
             rvm_error_status(ret), rvm_error_arg(ret), status, arg == ANY_ARG ? 0u : arg);
}

static rvm_ret_t log_raw(uint64_t ptr, uint64_t len) { return rvm_hypercall2(RVM_HC_LOG, ptr, len); }
static rvm_ret_t info_raw(uint64_t ptr) { return rvm_hypercall2(RVM_HC_INFO, ptr, sizeof(struct rvm_info)); }

static void stray(const struct rvm_info* info, uint64_t task_index, uint64_t arg) {
    (void)info;
    (void)arg;
    rvm_logf("hostile: FAIL task %lu was spawned with a bad capability\n", task_index);
}

int main(const struct rvm_info* info, uint64_t task_index) {
    (void)task_index;
    const uint64_t top = info->memory_size;
    const uint64_t buf = (uint64_t)(uintptr_t)buffer;

    /* Reads of memory the task cannot read. */
    expect("log from 0x8 (null guard)", log_raw(0x8, 8), RVM_E_FAULT, 1);
    expect("log from 0x0", log_raw(0x0, 1), RVM_E_FAULT, 1);
    expect("log from memory_size (page tables)", log_raw(top, 8), RVM_E_FAULT, 1);
    expect("log from memory_size + 1 MiB", log_raw(top + (1u << 20), 8), RVM_E_FAULT, 1);
    expect("log from kernel half", log_raw(0xffff800000000000ull, 8), RVM_E_FAULT, 1);
    expect("log from non-canonical", log_raw(0x8000000000000000ull, 8), RVM_E_FAULT, 1);
    expect("log straddling memory_size", log_raw(top - 4, 16), RVM_E_FAULT, ANY_ARG);
    expect("log wrapping around 2^64", log_raw(0xffffffffffffff00ull, 0x200), RVM_E_FAULT, ANY_ARG);
    expect("log straddling the null guard", log_raw(0x10000 - 8, 16), RVM_E_FAULT, ANY_ARG);

    /* Lengths. */
    expect("log length RVM_LOG_MAX + 1", log_raw(buf, RVM_LOG_MAX + 1u), RVM_E_INVALID, 2);
    expect("log length 2^63", log_raw(buf, 0x8000000000000000ull), RVM_E_INVALID, 2);
    expect("log length 2^64 - 1", log_raw(buf, ~0ull), RVM_E_INVALID, 2);

    /* Writes (RVM_HC_INFO copies 128 bytes) to memory the task cannot write. */
    expect("info to 0x8", info_raw(0x8), RVM_E_FAULT, 1);
    expect("info to the info page", info_raw(RVM_INFO_VA), RVM_E_FAULT, 1);
    expect("info to own code", info_raw((uint64_t)(uintptr_t)&main), RVM_E_FAULT, 1);
    expect("info to own rodata", info_raw((uint64_t)(uintptr_t)kRodata), RVM_E_FAULT, 1);
    expect("info to memory_size", info_raw(top), RVM_E_FAULT, 1);
    expect("info straddling memory_size", info_raw(top - 64), RVM_E_FAULT, ANY_ARG);
    expect("info to kernel half", info_raw(0xffff800000000000ull), RVM_E_FAULT, 1);

    /* Numbers that name no call. */
    static const uint64_t kUnknown[] = {
        RVM_HC_NUCLEUS_COUNT_, 25, 0xff, 0x101, 0x1ff, 0x205, 0x1000, 0x01000000, 0x01000005,
        0x100000000ull | RVM_HC_LOG, 0x100000000ull | RVM_HC_YIELD, 0x8000000000000000ull, ~0ull,
    };
    for (unsigned i = 0; i < sizeof kUnknown / sizeof kUnknown[0]; ++i) {
        char what[48] = "unknown call 0x";
        what[15 + rvm_fmt_u64(what + 15, kUnknown[i], 16)] = '\0';
        expect(what, rvm_hypercall6(kUnknown[i], buf, 16, 0, 0, 0, 0), RVM_E_UNKNOWN_CALL, 0);
    }

    /* Capabilities that are not ours. */
    expect("task_spawn with cap 0", rvm_task_spawn(0, stray, 0), RVM_E_BAD_HANDLE, 1);
    expect("task_spawn with a stale generation", rvm_task_spawn(info->self_cap + (1ull << 32), stray, 0),
           RVM_E_BAD_HANDLE, 1);
    expect("task_spawn with slot 0xffffffff", rvm_task_spawn(info->self_cap | 0xffffffffull, stray, 0),
           RVM_E_BAD_HANDLE, 1);

    /* A hypercall changes rax only: on an error path and on two success paths. */
    static const uint64_t kRegCalls[] = {0x1ff, RVM_HC_YIELD, RVM_HC_CLOCK};
    for (unsigned i = 0; i < sizeof kRegCalls / sizeof kRegCalls[0]; ++i) {
        ++checks;
        const uint64_t changed = hostile_regcheck(kRegCalls[i]);
        if (changed != 0) {
            ++failures;
            rvm_logf("hostile: FAIL hypercall 0x%lx changed registers: mask 0x%lx "
                     "(rbx rcx rdx rsi rdi rbp r8..r15 = bits 0..13, rflags = bit 14)\n",
                     kRegCalls[i], changed);
        }
    }

    /* The buffer used above must not have been logged or changed; it stays
     * usable for a legitimate call. */
    if (rvm_log_str("hostile: a legitimate log still works\n") <= 0) {
        ++failures;
        rvm_log_str("hostile: FAIL a legitimate log was refused\n");
    }

    if (failures == 0) {
        rvm_logf("hostile: all refused (%u checks)\n", checks);
        return 0;
    }
    rvm_logf("hostile: %u of %u checks failed\n", failures, checks);
    return 1;
}
