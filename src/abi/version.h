/* RVM guest ABI: version. Freestanding, C and C++. */
#ifndef RVM_ABI_VERSION_H
#define RVM_ABI_VERSION_H

/* Major in bits 31..16, minor in 15..0. A guest built against a different
 * major refuses to run; a newer minor only adds calls and fields. Every change
 * gets an entry in CHANGELOG.md. */
#define RVM_ABI_VERSION_MAJOR 0u
#define RVM_ABI_VERSION_MINOR 1u
#define RVM_ABI_VERSION ((RVM_ABI_VERSION_MAJOR << 16) | RVM_ABI_VERSION_MINOR)

#endif
