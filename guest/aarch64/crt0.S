/* RVM guest SDK, AArch64: entry of a partition on the bare-metal platform.
 * The hypervisor starts it at EL1 at the image's first byte (the image is a
 * flat binary at 0x40000000) with sp at the top of its RAM, x0/x1 = start
 * arguments, the MMU off (normal cacheable memory, HCR_EL2.DC), interrupts
 * masked and .bss zeroed. _start calls main(x0, x1) and exits with its
 * return value. */
        .section .text.start, "ax", @progbits
        .globl  _start
_start:
        mov     x29, #0
        bl      main
        sxtw    x1, w0
        mov     x0, #0x200              /* RVM_HC_EXIT */
1:      hvc     #0
        b       1b
