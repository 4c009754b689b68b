// The hypercall table: every number of the guest ABI (abi/hypercall.h), who
// serves it and which proof tier it requires -- the one place both the
// nucleus's decoder (syscalls.cpp) and the host's dispatch (the runtime's
// agent_calls.cpp) look a call up. Adding a call: its number in
// abi/hypercall.h, its row here, its decoder and performer (nucleus) or its
// host handler, and docs/abi.md.
#pragma once

#include <cstdint>
#include <span>

#include "abi/hypercall.h"
#include "abi/proof.h"

namespace rvm {

enum class CallHome : std::uint8_t {
    Unknown,       // no such call: RVM_E_UNKNOWN_CALL
    Nucleus,       // decoded and performed by Syscalls (capabilities, proofs, witness)
    Host,          // served by the hypervisor process (guest memory, clocks, Ψ, edge waits)
    NotSupported,  // in the ABI, not built yet: RVM_E_NOT_SUPPORTED before any argument is read
};

struct CallEntry {
    std::uint64_t nr;
    const char* name;
    CallHome home;
    std::uint8_t tier;  // proof tier required (RVM_PROOF_NONE: none)
};

inline constexpr CallEntry kCallTable[] = {
    {RVM_HC_TASK_SPAWN, "task_spawn", CallHome::Nucleus, RVM_PROOF_NONE},
    {RVM_HC_CAP_GRANT, "cap_grant", CallHome::Nucleus, RVM_PROOF_NONE},
    {RVM_HC_REGION_MAP, "region_map", CallHome::Nucleus, RVM_PROOF_NONE},
    {RVM_HC_QUEUE_SEND, "queue_send", CallHome::NotSupported, RVM_PROOF_NONE},
    {RVM_HC_QUEUE_RECV, "queue_recv", CallHome::NotSupported, RVM_PROOF_NONE},
    {RVM_HC_TIMER_WAIT, "timer_wait", CallHome::NotSupported, RVM_PROOF_NONE},
    {RVM_HC_RVF_MOUNT, "rvf_mount", CallHome::NotSupported, RVM_PROOF_STANDARD},
    {RVM_HC_ATTEST_EMIT, "attest_emit", CallHome::NotSupported, RVM_PROOF_STANDARD},
    {RVM_HC_VECTOR_GET, "vector_get", CallHome::NotSupported, RVM_PROOF_NONE},
    {RVM_HC_VECTOR_PUT_PROVED, "vector_put_proved", CallHome::NotSupported, RVM_PROOF_STANDARD},
    {RVM_HC_GRAPH_APPLY_PROVED, "graph_apply_proved", CallHome::NotSupported, RVM_PROOF_STANDARD},
    {RVM_HC_SENSOR_SUBSCRIBE, "sensor_subscribe", CallHome::NotSupported, RVM_PROOF_NONE},
    {RVM_HC_PARTITION_CREATE, "partition_create", CallHome::Nucleus, RVM_PROOF_STANDARD},
    {RVM_HC_PARTITION_SPLIT, "partition_split", CallHome::NotSupported, RVM_PROOF_DEEP},
    {RVM_HC_PARTITION_MERGE, "partition_merge", CallHome::NotSupported, RVM_PROOF_DEEP},
    {RVM_HC_PARTITION_HIBERNATE, "partition_hibernate", CallHome::NotSupported, RVM_PROOF_STANDARD},
    {RVM_HC_PARTITION_RECONSTRUCT, "partition_reconstruct", CallHome::NotSupported, RVM_PROOF_STANDARD},
    {RVM_HC_COMMEDGE_CREATE, "commedge_create", CallHome::Nucleus, RVM_PROOF_STANDARD},
    {RVM_HC_COMMEDGE_DESTROY, "commedge_destroy", CallHome::Nucleus, RVM_PROOF_STANDARD},
    {RVM_HC_DEVICE_LEASE_ACQUIRE, "device_lease_acquire", CallHome::Nucleus, RVM_PROOF_STANDARD},
    {RVM_HC_DEVICE_LEASE_REVOKE, "device_lease_revoke", CallHome::Nucleus, RVM_PROOF_STANDARD},
    {RVM_HC_WITNESS_READ, "witness_read", CallHome::NotSupported, RVM_PROOF_NONE},
    {RVM_HC_NOTIFY_SIGNAL, "notify_signal", CallHome::Host, RVM_PROOF_NONE},
    {RVM_HC_NOTIFY_WAIT, "notify_wait", CallHome::Host, RVM_PROOF_NONE},
    {RVM_HC_CAP_REVOKE, "cap_revoke", CallHome::Nucleus, RVM_PROOF_NONE},
    {RVM_HC_EXIT, "exit", CallHome::Host, RVM_PROOF_NONE},
    {RVM_HC_LOG, "log", CallHome::Host, RVM_PROOF_NONE},
    {RVM_HC_YIELD, "yield", CallHome::Host, RVM_PROOF_NONE},
    {RVM_HC_CLOCK, "clock", CallHome::Host, RVM_PROOF_NONE},
    {RVM_HC_INFO, "info", CallHome::Host, RVM_PROOF_NONE},
    {RVM_HC_PSI_REGISTER, "psi_register", CallHome::Host, RVM_PROOF_NONE},
    {RVM_HC_PSI_UPDATE, "psi_update", CallHome::Host, RVM_PROOF_NONE},
    {RVM_HC_PSI_QUERY, "psi_query", CallHome::Host, RVM_PROOF_NONE},
    {RVM_HC_PSI_HIBERNATE, "psi_hibernate", CallHome::Host, RVM_PROOF_NONE},
};

// The row of `nr`; an Unknown row (name "unknown") for a number not in the ABI.
[[nodiscard]] constexpr CallEntry call_entry(std::uint64_t nr) {
    for (const CallEntry& e : kCallTable) {
        if (e.nr == nr) return e;
    }
    return CallEntry{nr, "unknown", CallHome::Unknown, RVM_PROOF_NONE};
}

// Every number of the nucleus range 0 .. RVM_HC_NUCLEUS_COUNT_ - 1 has a row.
[[nodiscard]] constexpr bool call_table_complete() {
    for (std::uint64_t nr = 0; nr < RVM_HC_NUCLEUS_COUNT_; ++nr) {
        if (call_entry(nr).home == CallHome::Unknown) return false;
    }
    return true;
}
static_assert(call_table_complete(), "a nucleus hypercall number has no row in kCallTable");

}  // namespace rvm
