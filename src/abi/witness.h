/* RVM ABI: the 64-byte witness record (seed 002 section 8.2). */
#ifndef RVM_ABI_WITNESS_H
#define RVM_ABI_WITNESS_H

#include <stdint.h>

/* Layout (little-endian, no padding, 64-byte aligned in memory):
 *   [0..8)   sequence            u64
 *   [8..16)  timestamp_ns        u64
 *   [16]     kind                u8  (enum rvm_witness_kind)
 *   [17]     proof_tier          u8  (enum rvm_proof_tier)
 *   [18..20) reserved            must be zero
 *   [20..28) subject_id          u64 (partition / task / region handle)
 *   [28..36) object_id           u64 (target of the action)
 *   [36..44) aux_data            u64 (action-specific)
 *   [44..52) chain_hash_before   u64 (record_hash of the previous record)
 *   [52..60) record_hash         u64 (keyed hash of bytes [0..52) and [60..64))
 *   [60..64) flags               u32 (bits 0..7: status for rejections; 8..31 kind-specific)
 * The u64 fields at 20..52 are not naturally aligned, so they are byte arrays
 * here; read and write them with memcpy. See docs/abi.md for each kind's use
 * of subject, object, aux and flags. */
struct rvm_witness_record {
    uint64_t sequence;
    uint64_t timestamp_ns;
    uint8_t kind;
    uint8_t proof_tier;
    uint8_t reserved[2];
    uint8_t subject_id[8];
    uint8_t object_id[8];
    uint8_t aux_data[8];
    uint8_t chain_hash_before[8];
    uint8_t record_hash[8];
    uint32_t flags;
} __attribute__((aligned(64)));

#define RVM_WITNESS_RECORD_SIZE 64u

enum rvm_witness_kind {
    /* Partition lifecycle */
    RVM_WK_PARTITION_CREATE = 0x01,
    RVM_WK_PARTITION_SPLIT = 0x02,
    RVM_WK_PARTITION_MERGE = 0x03,
    RVM_WK_PARTITION_HIBERNATE = 0x04,
    RVM_WK_PARTITION_RECONSTRUCT = 0x05,
    RVM_WK_PARTITION_MIGRATE = 0x06,
    RVM_WK_PARTITION_STATE = 0x07,   /* RVM: any other checked transition */
    RVM_WK_PARTITION_DESTROY = 0x08, /* RVM */
    /* Capabilities */
    RVM_WK_CAP_GRANT = 0x10,    /* a root capability is minted */
    RVM_WK_CAP_REVOKE = 0x11,   /* a capability and its subtree are removed */
    RVM_WK_CAP_DELEGATE = 0x12, /* a capability is derived (attenuated copy) */
    /* Memory */
    RVM_WK_REGION_CREATE = 0x20,
    RVM_WK_REGION_DESTROY = 0x21,
    RVM_WK_REGION_TRANSFER = 0x22,
    RVM_WK_REGION_SHARE = 0x23,
    RVM_WK_REGION_TIER_CHANGE = 0x24,
    /* Communication */
    RVM_WK_COMMEDGE_CREATE = 0x30,
    RVM_WK_COMMEDGE_DESTROY = 0x31,
    RVM_WK_ZERO_COPY_SEND = 0x32,
    RVM_WK_NOTIFICATION_SIGNAL = 0x33,
    /* Proofs */
    RVM_WK_PROOF_VERIFIED = 0x40,
    RVM_WK_PROOF_REJECTED = 0x41,
    RVM_WK_PROOF_ESCALATED = 0x42,
    RVM_WK_PROOF_ISSUED = 0x43, /* RVM: a token was minted (advances the nonce) */
    /* Devices */
    RVM_WK_LEASE_ACQUIRE = 0x50,
    RVM_WK_LEASE_REVOKE = 0x51,
    RVM_WK_LEASE_EXPIRE = 0x52,
    RVM_WK_DEVICE_REGISTER = 0x53, /* RVM: the host registers a leasable device */
    /* Data mutation */
    RVM_WK_VECTOR_PUT = 0x60,
    RVM_WK_GRAPH_MUTATION = 0x61,
    /* Scheduling */
    RVM_WK_TASK_SPAWN = 0x70,
    RVM_WK_TASK_TERMINATE = 0x71,
    RVM_WK_MODE_SWITCH = 0x72,
    RVM_WK_STRUCTURAL_CHANGE = 0x73,
    RVM_WK_TASK_STATE = 0x74,  /* RVM: any other checked transition */
    RVM_WK_SCHED_EPOCH = 0x75, /* RVM: one scheduler epoch's context switches and deadline misses */
    /* Boot and attestation */
    RVM_WK_BOOT_ATTESTATION = 0x80,
    RVM_WK_CHECKPOINT_CREATED = 0x81
};

#endif
