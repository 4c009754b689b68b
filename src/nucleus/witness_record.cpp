#include "nucleus/witness_record.hpp"

#include <array>

namespace rvm {

std::uint64_t compute_record_hash(const KeyedHash& hash, const MacKey& key, const WitnessRecord& r) {
    std::array<std::uint8_t, 56> covered{};
    const auto b = r.bytes();
    std::memcpy(covered.data(), b.data(), 52);
    std::memcpy(covered.data() + 52, b.data() + 60, 4);
    return hash.mac(key, covered);
}

const char* witness_kind_name(std::uint8_t kind) {
    switch (kind) {
        case RVM_WK_PARTITION_CREATE: return "partition_create";
        case RVM_WK_PARTITION_SPLIT: return "partition_split";
        case RVM_WK_PARTITION_MERGE: return "partition_merge";
        case RVM_WK_PARTITION_HIBERNATE: return "partition_hibernate";
        case RVM_WK_PARTITION_RECONSTRUCT: return "partition_reconstruct";
        case RVM_WK_PARTITION_MIGRATE: return "partition_migrate";
        case RVM_WK_PARTITION_STATE: return "partition_state";
        case RVM_WK_PARTITION_DESTROY: return "partition_destroy";
        case RVM_WK_CAP_GRANT: return "cap_grant";
        case RVM_WK_CAP_REVOKE: return "cap_revoke";
        case RVM_WK_CAP_DELEGATE: return "cap_delegate";
        case RVM_WK_REGION_CREATE: return "region_create";
        case RVM_WK_REGION_DESTROY: return "region_destroy";
        case RVM_WK_REGION_TRANSFER: return "region_transfer";
        case RVM_WK_REGION_SHARE: return "region_share";
        case RVM_WK_REGION_TIER_CHANGE: return "region_tier_change";
        case RVM_WK_COMMEDGE_CREATE: return "commedge_create";
        case RVM_WK_COMMEDGE_DESTROY: return "commedge_destroy";
        case RVM_WK_ZERO_COPY_SEND: return "zero_copy_send";
        case RVM_WK_NOTIFICATION_SIGNAL: return "notification_signal";
        case RVM_WK_PROOF_VERIFIED: return "proof_verified";
        case RVM_WK_PROOF_REJECTED: return "proof_rejected";
        case RVM_WK_PROOF_ESCALATED: return "proof_escalated";
        case RVM_WK_PROOF_ISSUED: return "proof_issued";
        case RVM_WK_LEASE_ACQUIRE: return "lease_acquire";
        case RVM_WK_LEASE_REVOKE: return "lease_revoke";
        case RVM_WK_LEASE_EXPIRE: return "lease_expire";
        case RVM_WK_DEVICE_REGISTER: return "device_register";
        case RVM_WK_VECTOR_PUT: return "vector_put";
        case RVM_WK_GRAPH_MUTATION: return "graph_mutation";
        case RVM_WK_TASK_SPAWN: return "task_spawn";
        case RVM_WK_TASK_TERMINATE: return "task_terminate";
        case RVM_WK_MODE_SWITCH: return "mode_switch";
        case RVM_WK_STRUCTURAL_CHANGE: return "structural_change";
        case RVM_WK_TASK_STATE: return "task_state";
        case RVM_WK_SCHED_EPOCH: return "sched_epoch";
        case RVM_WK_BOOT_ATTESTATION: return "boot_attestation";
        case RVM_WK_CHECKPOINT_CREATED: return "checkpoint_created";
        default: return nullptr;
    }
}

bool witness_kind_known(std::uint8_t kind) { return witness_kind_name(kind) != nullptr; }

}  // namespace rvm
