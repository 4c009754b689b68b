/* abi_probe: the kernel-profile (CPL0) probe of the seed-001 guest ABI
 * (docs/abi.md, abi/psi.h). It runs as a flat kernel image at CPL0 -- on
 * PVM every instruction is emulated (~1 µs), so it stays small -- and
 * checks what only a guest kernel can see:
 *   CPUID 0x40000000 (RVM signature, max leaf), 0x40000001 (ABI version,
 *   feature bits), 0x40000100 (KVM's signature, moved), CPUID.1:ECX[31];
 *   RDMSR / WRMSR of PSI_STATE, PSI_CONF, PSI_STATS, PSI_CTRL;
 *   the Ψ hypercalls, the shared page and C1 (psi_page_checks.c).
 * Argument 0: all of that; "probe: all checks passed (N)", exit 0.
 * Argument K in 1..RVM_PROBE_CASES: one hostile MSR access that must raise
 * #GP. The probe logs "probe: case K at <rip>" and performs it. With an IDT
 * (VT-x / AMD-V) its #GP handler logs "probe: #GP caught" and exits with
 * RVM_PROBE_GP_EXIT. On PVM, exceptions reach a guest kernel only through
 * PVM's own event entry, which this probe does not implement: the #GP
 * becomes a triple fault at exactly that rip, and the partition fails alone.
 * If the access does not fault, the probe exits 1. */
#include "checks.h"

#define RVM_PROBE_CASES 9
#define RVM_PROBE_GP_EXIT 0x47

static struct rvm_checks c = {"probe", 0, 0};

static inline void cpuid(uint32_t leaf, uint32_t r[4]) {
    __asm__ volatile("cpuid" : "=a"(r[0]), "=b"(r[1]), "=c"(r[2]), "=d"(r[3]) : "a"(leaf), "c"(0));
}

static inline uint64_t rdmsr(uint32_t msr) {
    uint32_t lo, hi;
    __asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
    return ((uint64_t)hi << 32) | lo;
}

static inline void wrmsr(uint32_t msr, uint64_t v) {
    __asm__ volatile("wrmsr" : : "c"(msr), "a"((uint32_t)v), "d"((uint32_t)(v >> 32)) : "memory");
}

/* The hostile accesses, each at a known address (probe_*_insn). */
extern const char probe_rdmsr_insn[], probe_wrmsr_insn[];
__attribute__((noinline)) static void hostile_wrmsr(uint32_t msr, uint64_t v) {
    __asm__ volatile(".globl probe_wrmsr_insn\nprobe_wrmsr_insn: wrmsr"
                     :
                     : "c"(msr), "a"((uint32_t)v), "d"((uint32_t)(v >> 32))
                     : "memory");
}
__attribute__((noinline)) static uint64_t hostile_rdmsr(uint32_t msr) {
    uint32_t lo, hi;
    __asm__ volatile(".globl probe_rdmsr_insn\nprobe_rdmsr_insn: rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
    return ((uint64_t)hi << 32) | lo;
}

/* #GP (vector 13) handler: abi_probe_gp.S calls this. */
void probe_on_gp(uint64_t error_code, uint64_t rip) {
    rvm_logf("probe: #GP caught (error %lu) at 0x%lx\n", (unsigned long)error_code, (unsigned long)rip);
    rvm_exit(RVM_PROBE_GP_EXIT);
}

extern void probe_gp_entry(void);
static uint64_t idt[2 * 256] __attribute__((aligned(16)));

static void install_idt(void) {
    const uint64_t h = (uint64_t)probe_gp_entry;
    /* 64-bit interrupt gate: offset, CS 0x10 (the kernel profile's), present, DPL 0, type 0xE. */
    idt[2 * 13] = (h & 0xffffu) | (0x10ull << 16) | (0x8eull << 40) | (((h >> 16) & 0xffffu) << 48);
    idt[2 * 13 + 1] = h >> 32;
    struct __attribute__((packed)) {
        uint16_t limit;
        uint64_t base;
    } d = {sizeof idt - 1, (uint64_t)idt};
    __asm__ volatile("lidt %0" : : "m"(d));
}

static int hostile_case(uint64_t k) {
    install_idt();
    if (k == 1 || k == 2) { /* these two need a registered guest with a report */
        wrmsr(RVM_PSI_CTRL_MSR, RVM_PSI_CTRL_REGISTER);
        wrmsr(RVM_PSI_STATE_MSR, 100000);
    }
    const int read = k == 8;
    rvm_logf("probe: case %lu at 0x%lx\n", (unsigned long)k,
             (unsigned long)(read ? (uint64_t)probe_rdmsr_insn : (uint64_t)probe_wrmsr_insn));
    switch (k) {
        case 1: hostile_wrmsr(RVM_PSI_STATE_MSR, RVM_PSI_RATIO_ONE + 1u); break; /* ratio above 100 % */
        case 2: hostile_wrmsr(RVM_PSI_STATE_MSR, 1ull << 32); break;             /* reserved bits */
        case 3: hostile_wrmsr(RVM_PSI_CONF_MSR, 0); break;                       /* read-only */
        case 4: hostile_wrmsr(RVM_PSI_CTRL_MSR, 0x101); break;                   /* reserved bits */
        case 5: hostile_wrmsr(RVM_PSI_CTRL_MSR, 3); break;                       /* unknown command */
        case 6: hostile_wrmsr(RVM_PSI_STATS_MSR, 5); break;                      /* before REGISTER */
        case 7: hostile_wrmsr(RVM_PSI_STATE_MSR, 5); break;                      /* before REGISTER */
        case 8: (void)hostile_rdmsr(RVM_PSI_CTRL_MSR + 1u); break;               /* not an RVM MSR */
        default: hostile_wrmsr(RVM_PSI_CTRL_MSR, RVM_PSI_CTRL_UNREGISTER); break; /* not registered */
    }
    rvm_logf("probe: FAIL case %lu did not raise #GP\n", (unsigned long)k);
    return 1;
}

static void cpuid_checks(void) {
    uint32_t r[4];
    cpuid(RVM_CPUID_LEAF_BASE, r);
    check_value(&c, "cpuid 0x40000000 max leaf", r[0], RVM_CPUID_LEAF_FEATURES);
    check_value(&c, "cpuid 0x40000000 ebx", r[1], RVM_CPUID_SIGNATURE_EBX);
    check_value(&c, "cpuid 0x40000000 ecx", r[2], RVM_CPUID_SIGNATURE_ECX);
    check_value(&c, "cpuid 0x40000000 edx", r[3], RVM_CPUID_SIGNATURE_EDX);
    cpuid(RVM_CPUID_LEAF_FEATURES, r);
    check_value(&c, "cpuid 0x40000001 abi version", r[0], RVM_ABI_VERSION);
    check_value(&c, "cpuid 0x40000001 features", r[1],
                RVM_CPUID_FEATURE_PSI_MSR | RVM_CPUID_FEATURE_PSI_HYPERCALL | RVM_CPUID_FEATURE_PSI_PAGE);
    cpuid(RVM_CPUID_LEAF_KVM_BASE, r);
    check_value(&c, "cpuid 0x40000100 KVM signature ebx", r[1], 0x4b4d564b); /* "KVMK" */
    check_value(&c, "cpuid 0x40000100 KVM signature ecx", r[2], 0x564b4d56); /* "VMKV" */
    check_value(&c, "cpuid 0x40000100 KVM signature edx", r[3], 0x4d);       /* "M" */
    check_true(&c, "cpuid 0x40000100 max leaf in KVM's moved range",
               r[0] >= RVM_CPUID_LEAF_KVM_BASE && r[0] <= RVM_CPUID_LEAF_KVM_BASE + 0xffu);
    cpuid(1, r);
    check_true(&c, "cpuid 1 ecx[31] hypervisor present", (r[2] >> 31) & 1u);
}

static void msr_checks(void) {
    const uint64_t conf = rdmsr(RVM_PSI_CONF_MSR);
    const uint64_t window = (conf >> 48) & 0xffu, idle = (conf >> 32) & 0xffffu, psi = conf & 0xffffffffu;
    check_true(&c, "PSI_CONF window in 1..64", window >= 1 && window <= 64);
    check_true(&c, "PSI_CONF idle threshold >= 1", idle >= 1);
    check_true(&c, "PSI_CONF psi threshold >= idle threshold", psi >= idle);
    check_value(&c, "PSI_CTRL before register", (int64_t)(rdmsr(RVM_PSI_CTRL_MSR) & 1u), 0);
    wrmsr(RVM_PSI_CTRL_MSR, RVM_PSI_CTRL_REGISTER);
    check_value(&c, "PSI_CTRL registered", (int64_t)(rdmsr(RVM_PSI_CTRL_MSR) & 1u), 1);
    wrmsr(RVM_PSI_STATE_MSR, 250000);
    check_value(&c, "PSI_STATE write reaches the host", rvm_psi_query(RVM_PSI_QUERY_GUESTS), 250000);
    check_value(&c, "PSI_CTRL reads the guests' ratio", (int64_t)(rdmsr(RVM_PSI_CTRL_MSR) >> 32), 250000);
    wrmsr(RVM_PSI_STATS_MSR, (7ull << 32) | 3u);
    check_value(&c, "PSI_STATS round trip", (int64_t)rdmsr(RVM_PSI_STATS_MSR), (int64_t)((7ull << 32) | 3u));
    const uint64_t state = rdmsr(RVM_PSI_STATE_MSR);
    check_true(&c, "PSI_STATE state is ZERO, ONE or PSI", (state >> 32) <= RVM_PSI_STATE_PSI);
    check_true(&c, "PSI_STATE ratio <= 100 %", (state & 0xffffffffu) <= RVM_PSI_RATIO_ONE);
}

static void hypercall_checks(void) {
    check_value(&c, "UPDATE by hypercall", rvm_psi_update(500000, 10, 10), 0);
    check_value(&c, "QUERY GUESTS", rvm_psi_query(RVM_PSI_QUERY_GUESTS), 500000);
    check_value(&c, "QUERY CPU allowance above 30 %", rvm_psi_query(RVM_PSI_QUERY_CPU_PERMILLE), 500);
    check_value(&c, "PSI_STATS sees the hypercall's counts", (int64_t)rdmsr(RVM_PSI_STATS_MSR),
                (int64_t)((10ull << 32) | 10u));
    check_error(&c, "UPDATE ratio above 100 %", rvm_psi_update(RVM_PSI_RATIO_ONE + 1u, 0, 0), RVM_E_INVALID, 1);
    check_error(&c, "QUERY unknown selector", rvm_psi_query(5), RVM_E_INVALID, 1);
    check_error(&c, "HIBERNATE C2", rvm_psi_hibernate(2), RVM_E_INVALID, 1);
    check_error(&c, "HIBERNATE C3", rvm_psi_hibernate(RVM_PSI_POWER_C3), RVM_E_NOT_SUPPORTED, 1);
    check_value(&c, "HIBERNATE C0", rvm_psi_hibernate(RVM_PSI_POWER_C0), 0);
}

int main(const struct rvm_info* info, uint64_t task_index, uint64_t arg) {
    (void)info;
    (void)task_index;
    if (arg != 0) return arg <= RVM_PROBE_CASES ? hostile_case(arg) : 2;
    cpuid_checks();
    msr_checks();
    hypercall_checks();
    psi_page_checks(&c);
    wrmsr(RVM_PSI_CTRL_MSR, RVM_PSI_CTRL_UNREGISTER);
    check_value(&c, "PSI_CTRL after unregister", (int64_t)(rdmsr(RVM_PSI_CTRL_MSR) & 1u), 0);
    return checks_end(&c);
}
