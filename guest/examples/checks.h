/* Tiny check helpers shared by the ABI-testing guests (agent_psi at CPL3,
 * the CPL0 probe): each mismatch is logged as "<tag>: FAIL ...", and the
 * guest ends with "<tag>: all checks passed (N)" or "<tag>: F of N checks
 * failed". */
#ifndef RVM_GUEST_CHECKS_H
#define RVM_GUEST_CHECKS_H

#include <rvm/guest.h>

struct rvm_checks {
    const char* tag;
    unsigned checks, failures;
};

static inline void check_value(struct rvm_checks* c, const char* what, int64_t got, int64_t want) {
    ++c->checks;
    if (got == want) return;
    ++c->failures;
    rvm_logf("%s: FAIL %s: got %ld (0x%lx), want %ld (0x%lx)\n", c->tag, what, (long)got, (unsigned long)got,
             (long)want, (unsigned long)want);
}

static inline void check_true(struct rvm_checks* c, const char* what, int ok) {
    ++c->checks;
    if (ok) return;
    ++c->failures;
    rvm_logf("%s: FAIL %s\n", c->tag, what);
}

static inline void check_error(struct rvm_checks* c, const char* what, rvm_ret_t ret, uint32_t status, uint32_t arg) {
    ++c->checks;
    if (rvm_is_error(ret) && rvm_error_status(ret) == status && rvm_error_arg(ret) == arg) return;
    ++c->failures;
    rvm_logf("%s: FAIL %s: got ret %ld (status %u arg %u), want status %u arg %u\n", c->tag, what, (long)ret,
             rvm_error_status(ret), rvm_error_arg(ret), status, arg);
}

static inline int checks_end(const struct rvm_checks* c) {
    if (c->failures != 0) {
        rvm_logf("%s: %u of %u checks failed\n", c->tag, c->failures, c->checks);
        return 1;
    }
    rvm_logf("%s: all checks passed (%u)\n", c->tag, c->checks);
    return 0;
}

/* The shared-page and C1 checks (psi_page_checks.c), run at CPL3 by
 * agent_psi and at CPL0 by the probe. Call after REGISTER; leaves the
 * partition registered with the page. */
void psi_page_checks(struct rvm_checks* c);

#endif
