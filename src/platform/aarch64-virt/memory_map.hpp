// Physical and guest-physical layout of the QEMU virt platform as RVM uses it.
#pragma once

#include <cstdint>

namespace rvm::bm {

// QEMU virt devices.
inline constexpr std::uint64_t kGicdBase = 0x0800'0000;
inline constexpr std::uint64_t kGicrBase = 0x080a'0000;  // core 0's redistributor
inline constexpr std::uint64_t kUartBase = 0x0900'0000;  // PL011
inline constexpr std::uint64_t kRamBase = 0x4000'0000;
inline constexpr std::uint64_t kRamSize = 256ull << 20;  // the -m 256M the scripts pass

// Partition memory: each partition gets one kGuestRamSize slot of physical
// memory from kPartitionPool, edge windows come from kEdgePool.
inline constexpr std::uint64_t kPartitionPool = 0x4800'0000;
inline constexpr std::uint64_t kGuestRamSize = 1ull << 20;
inline constexpr std::uint64_t kMaxGuests = 16;
inline constexpr std::uint64_t kEdgePool = 0x4a00'0000;
inline constexpr std::uint64_t kEdgeSlot = 64ull * 1024;

// What a partition sees (guest-physical = IPA).
inline constexpr std::uint64_t kGuestRamIpa = 0x4000'0000;      // image at the start, stack at the top
inline constexpr std::uint64_t kGuestVectorsIpa = 0x3000'0000;  // the default EL1 vector page (read-only)
inline constexpr std::uint64_t kGuestEdgeIpa = 0x5000'0000;     // edge k's window at + k * kEdgeSlot
inline constexpr std::uint64_t kGuestUartIpa = 0x0900'0000;     // the PL011, only while leased
inline constexpr std::uint64_t kGuestTokenIpa = kGuestRamIpa + kGuestRamSize / 2;  // a proof token handed in

static_assert(kPartitionPool + kMaxGuests * kGuestRamSize <= kEdgePool);
static_assert(kEdgePool + 32 * kEdgeSlot <= kRamBase + kRamSize);

}  // namespace rvm::bm
