/* RVM guest ABI: kernel object types and capability rights. */
#ifndef RVM_ABI_OBJECT_H
#define RVM_ABI_OBJECT_H

#include <stdint.h>

/* Object types a capability can name (seed 002 3.2, plus DEVICE). */
enum rvm_object_type {
    RVM_OBJ_TASK = 0,
    RVM_OBJ_REGION = 1,
    RVM_OBJ_QUEUE = 2,
    RVM_OBJ_TIMER = 3,
    RVM_OBJ_VECTOR_STORE = 4,
    RVM_OBJ_GRAPH_STORE = 5,
    RVM_OBJ_PARTITION = 6,
    RVM_OBJ_COMMEDGE = 7,
    RVM_OBJ_DEVICE_LEASE = 8,
    RVM_OBJ_WITNESS_LOG = 9,
    RVM_OBJ_PHYS_MEM_POOL = 10,
    RVM_OBJ_DEVICE = 11,
    RVM_OBJ_TYPE_COUNT_ = 12
};

/* Capability rights (seed 002 3.2; EXECUTE added by DESIGN.md section 3). */
#define RVM_RIGHT_READ (1u << 0)
#define RVM_RIGHT_WRITE (1u << 1)
#define RVM_RIGHT_GRANT (1u << 2)
#define RVM_RIGHT_GRANT_ONCE (1u << 3)
#define RVM_RIGHT_PROVE (1u << 4)
#define RVM_RIGHT_REVOKE (1u << 5)
#define RVM_RIGHT_SPLIT (1u << 6)
#define RVM_RIGHT_MERGE (1u << 7)
#define RVM_RIGHT_MIGRATE (1u << 8)
#define RVM_RIGHT_HIBERNATE (1u << 9)
#define RVM_RIGHT_LEASE (1u << 10)
#define RVM_RIGHT_WITNESS (1u << 11)
#define RVM_RIGHT_EXECUTE (1u << 12)
#define RVM_RIGHTS_ALL ((1u << 13) - 1u)

/* Depth bound of a capability derivation tree (a root cap has depth 0). */
#define RVM_CAP_MAX_DEPTH 8u

/* Handles (capabilities and objects) are 64-bit: slot index in bits 31..0,
 * generation in bits 63..32. Generation 0 is never issued, so 0 is the null
 * handle and a handle whose slot was reused is rejected. */
#define RVM_HANDLE_INDEX(h) ((uint32_t)((h)&0xffffffffu))
#define RVM_HANDLE_GENERATION(h) ((uint32_t)((uint64_t)(h) >> 32))

/* Region policies and memory tiers (seed 002 3.4). */
enum rvm_region_policy { RVM_REGION_IMMUTABLE = 0, RVM_REGION_APPEND_ONLY = 1, RVM_REGION_SLAB = 2 };
enum rvm_memory_tier { RVM_TIER_HOT = 0, RVM_TIER_WARM = 1, RVM_TIER_DORMANT = 2, RVM_TIER_COLD = 3 };

#endif
