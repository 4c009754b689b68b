/* Byte offsets of struct VcpuRegs (vcpu.hpp), shared by boot.S and C++;
 * vcpu.hpp checks each one with static_assert. */
#ifndef RVM_PLATFORM_VCPU_LAYOUT_H
#define RVM_PLATFORM_VCPU_LAYOUT_H

#define VCPU_SP_EL1 248
#define VCPU_ELR 256
#define VCPU_SPSR 264
#define VCPU_ESR 272
#define VCPU_FAR 280
#define VCPU_HPFAR 288
#define VCPU_HOST 296 /* x19..x30 and sp of the EL2 side: 13 words */
#define VCPU_SIZE 400

#define VCPU_EXIT_SYNC 0
#define VCPU_EXIT_IRQ 1
#define VCPU_EXIT_FIQ 2
#define VCPU_EXIT_SERROR 3

#endif
