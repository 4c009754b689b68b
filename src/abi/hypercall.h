/* RVM guest ABI: hypercall numbers and argument registers. */
#ifndef RVM_ABI_HYPERCALL_H
#define RVM_ABI_HYPERCALL_H

/* Registers: rax = number; rdi, rsi, rdx, r10, r8, r9 = arguments 1..6;
 * rax = result (see status.h). Calls that require a proof take the guest
 * address of a struct rvm_proof_token (proof.h) in argument 6 (r9).
 * Numbers 0..23 follow seed 002 Appendix A. */
enum rvm_hypercall {
    RVM_HC_TASK_SPAWN = 0,
    RVM_HC_CAP_GRANT = 1,
    RVM_HC_REGION_MAP = 2,
    RVM_HC_QUEUE_SEND = 3,
    RVM_HC_QUEUE_RECV = 4,
    RVM_HC_TIMER_WAIT = 5,
    RVM_HC_RVF_MOUNT = 6,
    RVM_HC_ATTEST_EMIT = 7,
    RVM_HC_VECTOR_GET = 8,
    RVM_HC_VECTOR_PUT_PROVED = 9,
    RVM_HC_GRAPH_APPLY_PROVED = 10,
    RVM_HC_SENSOR_SUBSCRIBE = 11,
    RVM_HC_PARTITION_CREATE = 12,
    RVM_HC_PARTITION_SPLIT = 13,
    RVM_HC_PARTITION_MERGE = 14,
    RVM_HC_PARTITION_HIBERNATE = 15,
    RVM_HC_PARTITION_RECONSTRUCT = 16,
    RVM_HC_COMMEDGE_CREATE = 17,
    RVM_HC_COMMEDGE_DESTROY = 18,
    RVM_HC_DEVICE_LEASE_ACQUIRE = 19,
    RVM_HC_DEVICE_LEASE_REVOKE = 20,
    RVM_HC_WITNESS_READ = 21,
    RVM_HC_NOTIFY_SIGNAL = 22,
    RVM_HC_NOTIFY_WAIT = 23,
    RVM_HC_NUCLEUS_COUNT_ = 24,

    /* RVM extensions to Appendix A (capability management). */
    RVM_HC_CAP_REVOKE = 0x100,

    /* Agent calls (seed 002 section 9.1, agent.h). */
    RVM_HC_EXIT = 0x200,  /* 1: exit code. The calling task ends; does not return. */
    RVM_HC_LOG = 0x201,   /* 1: buffer, 2: length (<= RVM_LOG_MAX). Returns bytes logged. */
    RVM_HC_YIELD = 0x202, /* Gives up the CPU; returns 0. */
    RVM_HC_CLOCK = 0x203, /* Returns nanoseconds since the partition started. */
    RVM_HC_INFO = 0x204,  /* 1: buffer, 2: length. Copies struct rvm_info; returns bytes copied. */

    /* Seed 001 Ψ (transition intensity) calls. */
    RVM_HC_PSI_REGISTER = 0x01000001,
    RVM_HC_PSI_UPDATE = 0x01000002,
    RVM_HC_PSI_QUERY = 0x01000003,
    RVM_HC_PSI_HIBERNATE = 0x01000004
};

#endif
