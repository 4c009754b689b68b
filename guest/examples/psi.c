/* agent_psi: the seed-001 Ψ (transition intensity) hypercalls from CPL3
 * (src/abi/psi.h, docs/abi.md). Checks, in order:
 *   UPDATE before REGISTER -> RVM_E_STATE; REGISTER (twice: idempotent);
 *   a series of UPDATEs, each read back through RVM_PSI_QUERY_GUESTS (this
 *   partition is the only reporting guest when run alone);
 *   a ratio above 30 % puts the partition in the 50 % band (CPU and memory);
 *   SELF and HOST are ratios (<= 100 %); HIBERNATE C0 and C1 return 0;
 *   the refusals: ratio above 10^6 (RVM_E_INVALID arg 1), an unknown query
 *   selector (RVM_E_INVALID arg 1), C3 / C6 (RVM_E_NOT_SUPPORTED arg 1), an
 *   unknown C-state (RVM_E_INVALID arg 1); then the shared page and C1
 *   (psi_page_checks.c).
 * Logs "psi: FAIL ..." for each mismatch; at the end either
 *   psi: all checks passed
 * and exit 0, or "psi: N of M checks failed" and exit 1. */
#include "checks.h"

static struct rvm_checks c = {"psi", 0, 0};
#define expect_value(what, ret, want) check_value(&c, what, ret, want)
#define expect_error(what, ret, st, arg) check_error(&c, what, ret, st, arg)
#define expect_ratio(what, ret)                                                        \
    do {                                                                               \
        const rvm_ret_t r_ = (ret);                                                    \
        check_true(&c, what, r_ >= 0 && r_ <= (rvm_ret_t)RVM_PSI_RATIO_ONE);           \
    } while (0)

int main(const struct rvm_info* info, uint64_t task_index) {
    (void)info;
    (void)task_index;
    expect_error("update before register", rvm_psi_update(100000, 1, 1), RVM_E_STATE, 0);
    expect_value("register", rvm_psi_register(), 0);
    expect_value("register again", rvm_psi_register(), 0);

    static const uint64_t ratios[] = {0, 50000, 125000, 999999, 1000000, 420000, 333333, 2500};
    uint64_t committed = 0, deferred = 0;
    for (unsigned i = 0; i < sizeof ratios / sizeof ratios[0]; ++i) {
        committed += 10u * (i + 1u);
        deferred += i;
        expect_value("update", rvm_psi_update(ratios[i], committed, deferred), 0);
        expect_value("query guests after update", rvm_psi_query(RVM_PSI_QUERY_GUESTS), (rvm_ret_t)ratios[i]);
        expect_ratio("query self", rvm_psi_query(RVM_PSI_QUERY_SELF));
        expect_ratio("query host", rvm_psi_query(RVM_PSI_QUERY_HOST));
        const rvm_ret_t cpu = rvm_psi_query(RVM_PSI_QUERY_CPU_PERMILLE);
        check_true(&c, "cpu allowance is a band's", cpu == 1000 || cpu == 800 || cpu == 500);
    }
    /* The policy input is max(observed, reported): above 30 % is the 50 % band. */
    expect_value("update 60 %", rvm_psi_update(600000, 5, 5), 0);
    expect_value("cpu allowance at 60 %", rvm_psi_query(RVM_PSI_QUERY_CPU_PERMILLE), 500);
    expect_value("memory allowance at 60 %", rvm_psi_query(RVM_PSI_QUERY_MEM_PERMILLE), 500);

    expect_value("hibernate C0", rvm_psi_hibernate(RVM_PSI_POWER_C0), 0);
    expect_value("hibernate C1", rvm_psi_hibernate(RVM_PSI_POWER_C1), 0);

    /* Hostile cases: refused, and the last report stands. */
    expect_error("ratio above 10^6", rvm_psi_update(RVM_PSI_RATIO_ONE + 1u, 0, 0), RVM_E_INVALID, 1);
    expect_error("ratio with high bits", rvm_psi_update(0x100000000ull, 0, 0), RVM_E_INVALID, 1);
    expect_value("report unchanged", rvm_psi_query(RVM_PSI_QUERY_GUESTS), 600000);
    expect_error("unknown selector", rvm_psi_query(5), RVM_E_INVALID, 1);
    expect_error("huge selector", rvm_psi_query(~0ull), RVM_E_INVALID, 1);
    expect_error("hibernate C3", rvm_psi_hibernate(RVM_PSI_POWER_C3), RVM_E_NOT_SUPPORTED, 1);
    expect_error("hibernate C6", rvm_psi_hibernate(RVM_PSI_POWER_C6), RVM_E_NOT_SUPPORTED, 1);
    expect_error("hibernate C2", rvm_psi_hibernate(2), RVM_E_INVALID, 1);

    psi_page_checks(&c);
    return checks_end(&c);
}
