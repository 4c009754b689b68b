#include "nucleus/status.hpp"

namespace rvm {

const char* status_name(rvm_status code) {
    switch (code) {
        case RVM_OK: return "ok";
        case RVM_E_UNKNOWN_CALL: return "unknown hypercall";
        case RVM_E_NOT_SUPPORTED: return "not yet supported";
        case RVM_E_INVALID: return "invalid argument";
        case RVM_E_BAD_HANDLE: return "bad handle";
        case RVM_E_WRONG_TYPE: return "wrong object type";
        case RVM_E_RIGHTS: return "insufficient rights";
        case RVM_E_PROOF_MISSING: return "proof required";
        case RVM_E_PROOF_FORGED: return "proof forged";
        case RVM_E_PROOF_REPLAYED: return "proof replayed";
        case RVM_E_PROOF_STALE: return "proof stale";
        case RVM_E_POLICY: return "policy refused";
        case RVM_E_STATE: return "illegal state";
        case RVM_E_EXHAUSTED: return "table full";
        case RVM_E_NO_MEMORY: return "guest-physical space exhausted";
        case RVM_E_BUSY: return "busy";
        case RVM_E_DEPTH: return "derivation too deep";
        case RVM_E_FAULT: return "bad guest address";
        case RVM_E_EXPIRED: return "lease expired";
        case RVM_E_STATUS_COUNT_: break;
    }
    return "unknown status";
}

}  // namespace rvm
