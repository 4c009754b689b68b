/* RVM guest ABI: status codes returned by every hypercall. */
#ifndef RVM_ABI_STATUS_H
#define RVM_ABI_STATUS_H

#include <stdint.h>

/* A hypercall returns a value >= 0 on success. On failure it returns
 * -(status | (arg << 8)): `status` is one of the codes below and `arg` is the
 * 1-based position of the offending argument (1 = rdi ... 6 = r9), or 0 when
 * no single argument is to blame (seL4's invalidArgumentNumber, in-band). */
typedef int64_t rvm_ret_t;

enum rvm_status {
    RVM_OK = 0,
    RVM_E_UNKNOWN_CALL = 1,   /* no hypercall with this number */
    RVM_E_NOT_SUPPORTED = 2,  /* a known call this build does not implement yet */
    RVM_E_INVALID = 3,        /* malformed argument (reserved bits, bad enum, bad size) */
    RVM_E_BAD_HANDLE = 4,     /* handle is stale, forged or not in the caller's table */
    RVM_E_WRONG_TYPE = 5,     /* capability names an object of another type */
    RVM_E_RIGHTS = 6,         /* capability lacks a required right */
    RVM_E_PROOF_MISSING = 7,  /* the call requires a proof token and none was given */
    RVM_E_PROOF_FORGED = 8,   /* token MAC, call binding or tier does not verify */
    RVM_E_PROOF_REPLAYED = 9, /* token nonce was already consumed */
    RVM_E_PROOF_STALE = 10,   /* token expired or its nonce fell out of the window */
    RVM_E_POLICY = 11,        /* Standard/Deep policy refused: quota, bounds, coherence */
    RVM_E_STATE = 12,         /* object is not in a state that allows the call */
    RVM_E_EXHAUSTED = 13,     /* a fixed-capacity table is full */
    RVM_E_NO_MEMORY = 14,     /* guest-physical space exhausted */
    RVM_E_BUSY = 15,          /* object is in use (shared, has children, ...) */
    RVM_E_DEPTH = 16,         /* capability derivation deeper than RVM_CAP_MAX_DEPTH */
    RVM_E_FAULT = 17,         /* guest pointer/length outside the caller's memory */
    RVM_E_EXPIRED = 18,       /* lease expired */
    RVM_E_STATUS_COUNT_ = 19
};

#define RVM_ERR(status, arg) ((rvm_ret_t) - ((int64_t)(status) | ((int64_t)(arg) << 8)))
#define RVM_ERR_STATUS(ret) ((uint32_t)((-(ret)) & 0xff))
#define RVM_ERR_ARG(ret) ((uint32_t)(((-(ret)) >> 8) & 0x7))

#endif
