/* Shared Ψ page and HIBERNATE C1, as a guest sees them (abi/psi.h):
 *   REGISTER refuses a misaligned page, a bad magic or version (RVM_E_INVALID
 *   arg 1) and memory that is not the guest's to write (RVM_E_FAULT arg 1);
 *   accepts a valid page; the host publishes its ratio and a timestamp every
 *   epoch (host_seq advances); a report written into the page reaches the
 *   host without a hypercall (RVM_PSI_QUERY_GUESTS returns it); C1 for 20 ms
 *   suspends the partition at least that long and returns 0. */
#include "checks.h"

static struct rvm_psi_page page;
static uint8_t scratch[2 * RVM_PSI_PAGE_SIZE] __attribute__((aligned(64)));

/* Waits (yielding) until the host has published `n` more times; bounded. */
static int wait_host_updates(struct rvm_checks* c, unsigned n, uint64_t* ratio) {
    uint64_t ts = 0;
    uint32_t seq0 = 0, seq = 0;
    if (rvm_psi_page_host(&page, ratio, &ts, &seq0, 64) != 0) return -1;
    const uint64_t deadline = rvm_clock_ns() + 2000000000ull; /* 2 s */
    while (rvm_clock_ns() < deadline) {
        if (rvm_psi_page_host(&page, ratio, &ts, &seq, 64) == 0 && seq - seq0 >= 2u * n) {
            check_true(c, "host timestamp set", ts != 0);
            return 0;
        }
        rvm_yield();
    }
    return -1;
}

void psi_page_checks(struct rvm_checks* c) {
    struct rvm_psi_page* bad = (struct rvm_psi_page*)(scratch + 8);
    check_error(c, "page misaligned", rvm_psi_register_page(bad), RVM_E_INVALID, 1);
    struct rvm_psi_page* wrong = (struct rvm_psi_page*)scratch;
    rvm_psi_page_init(wrong);
    wrong->magic ^= 1u;
    check_error(c, "page with a bad magic", rvm_psi_register_page(wrong), RVM_E_INVALID, 1);
    rvm_psi_page_init(wrong);
    wrong->version = 99;
    check_error(c, "page with a bad version", rvm_psi_register_page(wrong), RVM_E_INVALID, 1);
    check_error(c, "page on the read-only info page",
                rvm_hypercall1(RVM_HC_PSI_REGISTER, RVM_INFO_VA), RVM_E_FAULT, 1);
    check_error(c, "page outside guest memory", rvm_hypercall1(RVM_HC_PSI_REGISTER, 0x7fff00000000ull), RVM_E_FAULT,
                1);

    rvm_psi_page_init(&page);
    check_value(c, "register with the page", rvm_psi_register_page(&page), 0);
    rvm_psi_page_report(&page, 345678, 40, 2);
    uint64_t host_ratio = 0;
    check_value(c, "host publishes each epoch", wait_host_updates(c, 2, &host_ratio), 0);
    check_value(c, "report via the page reaches the host", rvm_psi_query(RVM_PSI_QUERY_GUESTS), 345678);
    check_value(c, "host ratio in the page", (int64_t)host_ratio, 345678);
    rvm_psi_page_report(&page, RVM_PSI_RATIO_ONE + 1u, 1, 1); /* hostile: the host ignores it */
    check_value(c, "host still publishes", wait_host_updates(c, 2, &host_ratio), 0);
    check_value(c, "a bad page report is ignored", rvm_psi_query(RVM_PSI_QUERY_GUESTS), 345678);
    rvm_psi_page_report(&page, 12345, 1, 1);
    check_value(c, "host publishes again", wait_host_updates(c, 2, &host_ratio), 0);
    check_value(c, "a good report after a bad one", rvm_psi_query(RVM_PSI_QUERY_GUESTS), 12345);

    const uint64_t t0 = rvm_clock_ns();
    check_value(c, "C1 for 20 ms", rvm_psi_suspend(20000000ull), 0);
    const uint64_t slept = rvm_clock_ns() - t0;
    check_true(c, "C1 lasted at least 20 ms", slept >= 20000000ull);
    check_true(c, "C1 lasted less than 2 s", slept < 2000000000ull);
    check_error(c, "C1 longer than 10 s", rvm_psi_suspend(10000000001ull), RVM_E_INVALID, 2);
}
