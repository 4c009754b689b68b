/* RVM guest ABI: proof tokens. */
#ifndef RVM_ABI_PROOF_H
#define RVM_ABI_PROOF_H

#include <stdint.h>

enum rvm_proof_tier {
    RVM_PROOF_NONE = 0,
    RVM_PROOF_REFLEX = 1,   /* capability + fresh nonce + MAC */
    RVM_PROOF_STANDARD = 2, /* Reflex + policy: expiry, quotas, bounds */
    RVM_PROOF_DEEP = 3      /* Standard + derivation chain to root + coherence */
};

/* A proof token authorizes exactly one call: it is minted by the hypervisor
 * for a holder of a PROVE capability, bound to the caller's partition, the
 * call number and its arguments 1..5 by a keyed MAC, and consumed on first
 * successful use. Passed by guest address in argument 6 (r9). 40 bytes,
 * little-endian, no padding. */
struct rvm_proof_token {
    uint64_t nonce;      /* 0: per-partition, strictly increasing at mint */
    uint64_t expiry_ns;  /* 8: hypervisor monotonic clock; 0 = no expiry */
    uint64_t cap;        /* 16: handle of the PROVE capability it was minted on */
    uint32_t call;       /* 24: hypercall number it authorizes */
    uint8_t tier;        /* 28: enum rvm_proof_tier */
    uint8_t reserved[3]; /* 29: must be zero */
    uint64_t mac;        /* 32: keyed hash over bytes 0..32, partition and args */
};

#define RVM_PROOF_TOKEN_SIZE 40u

#endif
