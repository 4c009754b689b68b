/* agent_fault: logs, then does something an agent must not survive. The
 * partition must go to Failed with a diagnostic; the agent never exits
 * normally.
 *
 * Task 0's start argument (rdx at entry) selects the fault; 0 is the default:
 *   0  read from 0x8 (the unmapped null guard)
 *   1  write to 0x8
 *   2  write into the agent's own code (text is R+X)
 *   3  write into the read-only info page
 *   4  execute from the stack (NX)
 *   5  read the first byte above memory_size (where the page tables live)
 *   6  read a non-canonical address (0x8000000000000000)
 *   7  ud2 (invalid opcode)
 *   8  hlt (privileged at CPL3)
 *   9  port I/O to a port that is not the RVM port (out %al, $0x80)
 *  10  read from the kernel half (0xffff800000000000)
 * Log line before the fault:  fault: mode M: <what>
 * If the access is survived (a hypervisor bug) it logs
 *   fault: SURVIVED mode M
 * and exits 99, so a test sees an exit where it expected a failure. */
#include <rvm/guest.h>

static const char* const kWhat[] = {
    "read 0x8",
    "write 0x8",
    "write own text",
    "write info page",
    "execute stack",
    "read above memory_size",
    "read non-canonical 0x8000000000000000",
    "ud2",
    "hlt",
    "out to port 0x80",
    "read 0xffff800000000000",
};
#define MODES (sizeof kWhat / sizeof kWhat[0])

static void read_at(uint64_t addr) {
    uint64_t v;
    __asm__ volatile("movq (%1), %0" : "=r"(v) : "r"(addr) : "memory");
    (void)v;
}

static void write_at(uint64_t addr) { __asm__ volatile("movq $0x42, (%0)" : : "r"(addr) : "memory"); }

int main(const struct rvm_info* info, uint64_t task_index, uint64_t arg) {
    (void)task_index;
    const uint64_t mode = arg < MODES ? arg : 0;
    rvm_logf("fault: mode %lu: %s\n", mode, kWhat[mode]);
    switch (mode) {
        case 0: read_at(0x8); break;
        case 1: write_at(0x8); break;
        case 2: write_at((uint64_t)(uintptr_t)&main); break;
        case 3: write_at(RVM_INFO_VA); break;
        case 4: {
            /* ret (0xc3) on the stack, then call it */
            volatile unsigned char code[16] = {0xc3};
            ((void (*)(void))(uintptr_t)code)();
            break;
        }
        case 5: read_at(info->memory_size); break;
        case 6: read_at(0x8000000000000000ull); break;
        case 7: __asm__ volatile("ud2"); break;
        case 8: __asm__ volatile("hlt"); break;
        case 9: __asm__ volatile("outb %%al, $0x80" : : "a"(0)); break;
        case 10: read_at(0xffff800000000000ull); break;
        default: break;
    }
    rvm_logf("fault: SURVIVED mode %lu\n", mode);
    return 99;
}
