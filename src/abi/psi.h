/* RVM guest ABI: Ψ, the per-vCPU transition intensity state (seed 001).
 *
 * "PSI" in these names is the Greek Ψ of the seeds, not Linux's Pressure
 * Stall Information. The hypercall numbers are RVM_HC_PSI_* in hypercall.h.
 * Ratios cross the ABI as fixed-point parts per million (0..RVM_PSI_RATIO_ONE)
 * rather than the seed's f64: guest kernels and the nucleus use no floating
 * point. Freestanding, C and C++. */
#ifndef RVM_ABI_PSI_H
#define RVM_ABI_PSI_H

#include <stdint.h>

/* The ternary state of a vCPU in one epoch (seed 000's analyze_vm_state). */
enum rvm_psi_state {
    RVM_PSI_STATE_ZERO = 0, /* idle: fewer exits than the idle threshold */
    RVM_PSI_STATE_ONE = 1,  /* active */
    RVM_PSI_STATE_PSI = 2   /* transitioning: activity above the Ψ threshold */
};

#define RVM_PSI_RATIO_ONE 1000000u /* 100 % in parts per million */

/* CPUID (kernel profile; DESIGN.md 1: at CPL3 on PVM CPUID is not trapped).
 * Leaf RVM_CPUID_LEAF_BASE: eax = highest RVM leaf, ebx:ecx:edx =
 * "RVMRVMRVM\0\0\0". Leaf RVM_CPUID_LEAF_FEATURES: eax = RVM_ABI_VERSION,
 * ebx = RVM_CPUID_FEATURE_* bits, ecx = edx = 0. KVM's own leaves
 * ("KVMKVMKVM\0\0\0") move to RVM_CPUID_LEAF_KVM_BASE for kernels that look
 * for them there. */
#define RVM_CPUID_LEAF_BASE 0x40000000u
#define RVM_CPUID_LEAF_FEATURES 0x40000001u
#define RVM_CPUID_LEAF_KVM_BASE 0x40000100u
#define RVM_CPUID_SIGNATURE_EBX 0x524d5652u /* "RVMR" */
#define RVM_CPUID_SIGNATURE_ECX 0x56524d56u /* "VMRV" */
#define RVM_CPUID_SIGNATURE_EDX 0x0000004du /* "M\0\0\0" */
#define RVM_CPUID_FEATURE_PSI_MSR (1u << 0)
#define RVM_CPUID_FEATURE_PSI_HYPERCALL (1u << 1)
#define RVM_CPUID_FEATURE_PSI_PAGE (1u << 2)

/* MSRs (seed 001 numbers, AMD vendor space, served through the MSR filter).
 * A write with reserved bits set, or to a read-only MSR, raises #GP.
 *
 * RVM_PSI_STATE_MSR  read:  bits 31..0  this vCPU's Ψ ratio (ppm, host-observed)
 *                           bits 33..32 this vCPU's last state (rvm_psi_state)
 *                    write: bits 31..0  the guest's own ratio (ppm, <= RVM_PSI_RATIO_ONE),
 *                           as RVM_HC_PSI_UPDATE's argument 1; bits 63..32 zero
 * RVM_PSI_CONF_MSR   read-only: bits 31..0  Ψ threshold (activity per epoch, saturated)
 *                               bits 47..32 idle threshold (exits per epoch, saturated)
 *                               bits 55..48 window (epochs)
 *                    The seed lets guests write it; here the thresholds are host policy.
 * RVM_PSI_STATS_MSR  bits 63..32 committed, bits 31..0 deferred (each saturated to 32 bits):
 *                    read: the partition's last report; write: report the two counts
 * RVM_PSI_CTRL_MSR   write: RVM_PSI_CTRL_* in bits 7..0, bits 63..8 zero
 *                    read:  bit 0 = registered, bits 63..32 = RVM_PSI_QUERY_GUESTS's answer */
#define RVM_PSI_STATE_MSR 0xC0010100u
#define RVM_PSI_CONF_MSR 0xC0010101u
#define RVM_PSI_STATS_MSR 0xC0010102u
#define RVM_PSI_CTRL_MSR 0xC0010103u

#define RVM_PSI_CTRL_REGISTER 1u
#define RVM_PSI_CTRL_UNREGISTER 2u

/* Hypercalls (numbers in hypercall.h):
 *   RVM_HC_PSI_REGISTER  1: guest address of a struct rvm_psi_page, or 0 for none.
 *                        Registers the calling partition as a reporting guest;
 *                        returns 0. Idempotent: registering again changes
 *                        nothing and returns 0 (seed 001 re-registers after a
 *                        migration). A page must be 64-byte aligned with
 *                        magic and version (else RVM_E_INVALID, 1) and lie
 *                        in the guest's writable memory (else RVM_E_FAULT, 1).
 *   RVM_HC_PSI_UPDATE    1: own ratio (ppm, <= RVM_PSI_RATIO_ONE, else
 *                        RVM_E_INVALID arg 1), 2: committed, 3: deferred.
 *                        Returns 0. Before REGISTER: RVM_E_STATE (the ratio
 *                        is checked first).
 *   RVM_HC_PSI_QUERY     1: RVM_PSI_QUERY_* (else RVM_E_INVALID arg 1).
 *                        Returns the value the selector names.
 *   RVM_HC_PSI_HIBERNATE 1: RVM_PSI_POWER_*; C0, C1, C3, C6 map to the
 *                        partition states Active, Suspended, Warm, Dormant.
 *                        2 (C1): duration in ns, 0 = 10 ms, <= 10 s (else
 *                        RVM_E_INVALID arg 2). C0 returns 0 at once; C1
 *                        suspends the whole partition (witnessed) and
 *                        returns 0 after the host resumes it. C3 and C6:
 *                        RVM_E_NOT_SUPPORTED arg 1; any other value:
 *                        RVM_E_INVALID arg 1. Needs no REGISTER. */
enum rvm_psi_query {
    RVM_PSI_QUERY_GUESTS = 0, /* seed 001: weighted average of registered guests' reports */
    RVM_PSI_QUERY_HOST = 1,   /* host-observed ratio over every vCPU */
    RVM_PSI_QUERY_SELF = 2,   /* host-observed ratio of the caller's partition */
    /* The caller's resource allowance from the policy (DESIGN.md 6), per
     * mille (1000 = full): from max(RVM_PSI_QUERY_SELF, its own report). */
    RVM_PSI_QUERY_CPU_PERMILLE = 3,
    RVM_PSI_QUERY_MEM_PERMILLE = 4
};

enum rvm_psi_power { RVM_PSI_POWER_C0 = 0, RVM_PSI_POWER_C1 = 1, RVM_PSI_POWER_C3 = 3, RVM_PSI_POWER_C6 = 6 };

/* The shared Ψ page: 64 bytes, little-endian, 64-byte aligned, in guest
 * memory named at RVM_HC_PSI_REGISTER (seed 001 layout; ratios in ppm).
 *   [0x00] magic            RVM_PSI_PAGE_MAGIC, written by the guest before REGISTER
 *   [0x08] version          RVM_PSI_PAGE_VERSION, written by the guest before REGISTER
 *   [0x10] guest_ratio_ppm  guest-written: its own ratio
 *   [0x18] host_ratio_ppm   host-written: RVM_PSI_QUERY_GUESTS's answer
 *   [0x20] committed        guest-written
 *   [0x28] deferred         guest-written
 *   [0x30] timestamp_ns     host-written: ns since the partition started (as
 *                           RVM_HC_CLOCK) at the last host update
 *   [0x38] host_seq         host's sequence counter (the seed's unused bytes)
 *   [0x3C] guest_seq        guest's sequence counter
 * Each side protects the fields it writes with its own counter (a seqlock with
 * exactly one writer): the writer makes the counter odd, stores its fields,
 * then makes it even with release ordering. A reader loads the counter with
 * acquire ordering, retries while it is odd, copies the fields, and retries if
 * the counter has changed. The host reads the guest's fields at UPDATE and at
 * each epoch; it refuses a ratio above RVM_PSI_RATIO_ONE and never trusts a
 * page whose magic or version differs. */
#define RVM_PSI_PAGE_MAGIC 0x00495350454d495aull /* "ZIMEPSI\0" little-endian */
#define RVM_PSI_PAGE_VERSION 1u
#define RVM_PSI_PAGE_SIZE 64u

struct rvm_psi_page {
    uint64_t magic;
    uint64_t version;
    uint64_t guest_ratio_ppm;
    uint64_t host_ratio_ppm;
    uint64_t committed;
    uint64_t deferred;
    uint64_t timestamp_ns;
    uint32_t host_seq;
    uint32_t guest_seq;
} __attribute__((aligned(64)));

#endif
