/* #GP entry of the CPL0 probe (VT-x / AMD-V deliver through the IDT; see
 * abi_probe.c for PVM). Same-privilege delivery pushes ss, rsp, rflags,
 * cs, rip and the error code; the handler never returns. */
        .text
        .globl  probe_gp_entry
        .type   probe_gp_entry, @function
probe_gp_entry:
        movq    (%rsp), %rdi            /* error code */
        movq    8(%rsp), %rsi           /* faulting rip */
        andq    $-16, %rsp
        callq   probe_on_gp
        ud2
        .size   probe_gp_entry, . - probe_gp_entry
        .section .note.GNU-stack, "", @progbits
