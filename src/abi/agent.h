/* RVM guest ABI: the agent profile (DESIGN.md section 4). */
#ifndef RVM_ABI_AGENT_H
#define RVM_ABI_AGENT_H

#include <stdint.h>

/* Transport: the calling task writes rax (the hypercall number) to this I/O
 * port with `out $RVM_HC_PORT, %eax`; arguments are in rdi, rsi, rdx, r10,
 * r8, r9 and the result comes back in rax. The immediate form leaves rdx free
 * for argument 3. Agent tasks run at CPL3 with IOPL=3, so the instruction is
 * legal; it exits to the hypervisor on VT-x, AMD-V and PVM alike. */
#define RVM_HC_PORT 0x52u

/* Guest address space of an agent partition (virtual == guest-physical):
 *   [0, 64 KiB)                 unmapped: null-pointer guard
 *   [RVM_INFO_VA, +4 KiB)       the info page, read-only, not executable
 *   [RVM_TSS_VA, +4 KiB)        the task-state segment, supervisor-only: not
 *                               accessible to the agent (see below)
 *   [RVM_IMAGE_MIN_VA, ...)     the ELF image (code R+X, data R+W, no W+X)
 *   [heap_start, heap_end)      heap, R+W, not executable
 *   [stack_bottom, memory_size) one stack per task, top of memory downwards
 * The page tables live above memory_size in guest-physical memory and are
 * not mapped: an agent can neither read nor write them. */
#define RVM_INFO_VA 0x10000ull
/* The TSS carries an I/O permission bitmap that allows RVM_HC_PORT and
 * nothing else. VT-x/AMD-V honour IOPL=3 and never look at it; PVM checks
 * port I/O from CPL3 against the bitmap. */
#define RVM_TSS_VA 0x11000ull
#define RVM_IMAGE_MIN_VA 0x400000ull
#define RVM_LOG_MAX 4096u
#define RVM_INFO_MAGIC 0x4f464e494d5652ull /* "RVMINFO\0" little-endian */

/* Registers at a task's first instruction (CPL3, 64-bit, IOPL=3, IF=0):
 *   rip = ELF entry (task 0) or the entry given to task_spawn
 *   rsp = top of the task's stack (16-byte aligned)
 *   rdi = RVM_INFO_VA, rsi = task index (0, 1, ...), rdx = task_spawn's argument
 *   all other general-purpose registers 0. */

/* The info page (and what RVM_HC_INFO copies). Little-endian, 128 bytes. */
struct rvm_info {
    uint64_t magic;        /* 0: RVM_INFO_MAGIC */
    uint32_t abi_version;  /* 8: RVM_ABI_VERSION */
    uint32_t reserved0;    /* 12: zero */
    uint64_t partition;    /* 16: partition handle */
    uint64_t self_cap;     /* 24: capability to the own partition (task_spawn, region_map, ...) */
    uint64_t memory_size;  /* 32: bytes of guest memory */
    uint64_t heap_start;   /* 40 */
    uint64_t heap_end;     /* 48 */
    uint64_t stack_region; /* 56: lowest address of the task stacks */
    uint64_t stack_size;   /* 64: bytes per task stack */
    uint64_t max_tasks;    /* 72 */
    uint64_t edge_count;   /* 80: entries in the edge table (RVM_INFO_EDGE_TABLE) */
    uint64_t reserved[5];  /* 88: zero */
};

/* CommEdges (src/abi/edge.h). An edge may carry a zero-copy region (seed 002
 * 6.1): an AppendOnly region of the sender that the nucleus places in both
 * partitions' guest-physical space (the receiver's copy read-only: a
 * read-only memslot and page-table entries without W). Edge k of a partition (k = 0, 1, ... in the
 * order the host connected them) has its window -- tx page, data, rx page --
 * at RVM_EDGE_AREA_VA + k * RVM_EDGE_SLOT_SIZE (virtual == guest-physical),
 * mapped writable only where this side owns it. Its entry in the info page's
 * edge table says where and what: */
#define RVM_EDGE_AREA_VA 0x100000000ull /* 4 GiB, above any agent memory */
#define RVM_EDGE_SLOT_SIZE 0x200000ull  /* 2 MiB per edge: capacity <= 1 MiB */
#define RVM_EDGE_MAX 16u                /* edges per partition */
#define RVM_INFO_EDGE_TABLE 0x100u      /* byte offset of the table in the info page */
#define RVM_EDGE_ROLE_SENDER 1u
#define RVM_EDGE_ROLE_RECEIVER 2u

struct rvm_edge_entry {
    uint64_t cap;          /* 0: capability to the edge (notify_signal / notify_wait) */
    uint64_t window;       /* 8: address of the window */
    uint64_t capacity;     /* 16: data bytes (a power of two); trust this, not the tx page */
    uint32_t role;         /* 24: RVM_EDGE_ROLE_* */
    uint32_t peer;         /* 28: the peer partition's handle index */
    uint64_t share;        /* 32: address of the edge's zero-copy region, 0 if none */
    uint64_t share_size;   /* 40: its bytes; writable by the sender, read-only for the receiver */
    uint64_t share_region; /* 48: the region's id, as descriptors name it (struct rvm_edge_desc.region) */
    uint64_t reserved;     /* 56: zero */
};
#define RVM_EDGE_SHARE_MAX 0x200000ull /* 2 MiB */

#endif
