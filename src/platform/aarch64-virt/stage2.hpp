// Stage2: one partition's guest-physical -> physical translation (4 KiB
// pages, 32-bit IPA space, walks start at level 1). Tables come from a
// fixed pool; exhausting it is a status, never an allocation.
#pragma once

#include <cstdint>

namespace rvm::bm {

enum class S2Access : std::uint8_t {
    ReadOnly,       // data read, no execute (the peer-owned half of an edge)
    ReadWrite,      // data read/write, no execute
    ReadExec,       // code that must not change (the vector page)
    ReadWriteExec,  // a partition's own RAM
    Device,         // leased MMIO: Device-nGnRE, read/write, no execute
};

class Stage2 {
public:
    Stage2() = default;
    Stage2(const Stage2&) = delete;
    Stage2& operator=(const Stage2&) = delete;

    // False if the table pool is exhausted or an argument is unaligned.
    [[nodiscard]] bool init();
    [[nodiscard]] bool map(std::uint64_t ipa, std::uint64_t pa, std::uint64_t size, S2Access access);
    // Removes the mappings and flushes this VMID's TLB entries.
    void unmap(std::uint64_t ipa, std::uint64_t size, std::uint16_t vmid);
    // The physical address `ipa` maps to with write permission, or 0.
    [[nodiscard]] std::uint64_t translate(std::uint64_t ipa, bool write) const;
    [[nodiscard]] std::uint64_t vttbr(std::uint16_t vmid) const;

private:
    [[nodiscard]] std::uint64_t* leaf(std::uint64_t ipa, bool create);
    [[nodiscard]] const std::uint64_t* find(std::uint64_t ipa) const;
    std::uint64_t* root_ = nullptr;
};

// VTCR_EL2 and the common HCR_EL2 setup; called once at boot.
void stage2_global_init();

}  // namespace rvm::bm
