#include "platform/aarch64-virt/stage2.hpp"

#include "platform/aarch64-virt/hw.hpp"

namespace rvm::bm {

namespace {

constexpr std::size_t kPoolTables = 192;
alignas(4096) std::uint64_t pool[kPoolTables][512];
std::size_t pool_used = 0;

constexpr std::uint64_t kPage = 4096;
constexpr std::uint64_t kValidTable = 0b11;
constexpr std::uint64_t kAddrMask = 0x0000'ffff'ffff'f000ull;
constexpr std::uint64_t kMemNormalWb = 0xfull << 2;  // stage-2 MemAttr: outer WB, inner WB
constexpr std::uint64_t kMemDevice = 0x1ull << 2;    // Device-nGnRE
constexpr std::uint64_t kS2apRead = 1ull << 6, kS2apWrite = 2ull << 6;
constexpr std::uint64_t kShInner = 3ull << 8;
constexpr std::uint64_t kAf = 1ull << 10;
constexpr std::uint64_t kXn = 1ull << 54;

std::uint64_t* alloc_table() {
    if (pool_used == kPoolTables) return nullptr;
    std::uint64_t* t = pool[pool_used++];
    for (std::size_t i = 0; i < 512; ++i) t[i] = 0;
    return t;
}

std::uint64_t descriptor(std::uint64_t pa, S2Access a) {
    std::uint64_t d = (pa & kAddrMask) | kValidTable | kAf;
    switch (a) {
        case S2Access::ReadOnly: return d | kMemNormalWb | kShInner | kS2apRead | kXn;
        case S2Access::ReadWrite: return d | kMemNormalWb | kShInner | kS2apRead | kS2apWrite | kXn;
        case S2Access::ReadExec: return d | kMemNormalWb | kShInner | kS2apRead;
        case S2Access::ReadWriteExec: return d | kMemNormalWb | kShInner | kS2apRead | kS2apWrite;
        case S2Access::Device: return d | kMemDevice | kS2apRead | kS2apWrite | kXn;
    }
    return 0;
}

// SAFETY: table entries hold physical addresses of pool tables, which the
// EL2 identity map makes valid pointers.
std::uint64_t* table_at(std::uint64_t entry) { return phys<std::uint64_t>(entry & kAddrMask); }

}  // namespace

void stage2_global_init() {
    // T0SZ 32 (4 GiB IPA), SL0 1 (start at level 1), inner/outer WB WA,
    // inner shareable, 4 KiB granule, PS 32-bit; bit 31 RES1.
    RVM_MSR(vtcr_el2, 32u | (1u << 6) | (1u << 8) | (1u << 10) | (3u << 12) | (1u << 31));
    isb();
    asm volatile("tlbi alle1\n dsb sy" ::: "memory");
    isb();
}

bool Stage2::init() {
    root_ = alloc_table();
    return root_ != nullptr;
}

std::uint64_t* Stage2::leaf(std::uint64_t ipa, bool create) {
    std::uint64_t* t = root_;
    for (int level = 1; level < 3; ++level) {
        const unsigned shift = 39u - 9u * static_cast<unsigned>(level);
        std::uint64_t& e = t[(ipa >> shift) & 511];
        if ((e & 0b11) != kValidTable) {
            if (!create) return nullptr;
            std::uint64_t* next = alloc_table();
            if (next == nullptr) return nullptr;
            e = reinterpret_cast<std::uint64_t>(next) | kValidTable;
        }
        t = table_at(e);
    }
    return &t[(ipa >> 12) & 511];
}

const std::uint64_t* Stage2::find(std::uint64_t ipa) const {
    const std::uint64_t* t = root_;
    for (int level = 1; level < 3; ++level) {
        const unsigned shift = 39u - 9u * static_cast<unsigned>(level);
        const std::uint64_t e = t[(ipa >> shift) & 511];
        if ((e & 0b11) != kValidTable) return nullptr;
        t = table_at(e);
    }
    return &t[(ipa >> 12) & 511];
}

bool Stage2::map(std::uint64_t ipa, std::uint64_t pa, std::uint64_t size, S2Access access) {
    if (((ipa | pa | size) & (kPage - 1)) != 0 || ipa + size > (1ull << 32)) return false;
    for (std::uint64_t off = 0; off < size; off += kPage) {
        std::uint64_t* e = leaf(ipa + off, true);
        if (e == nullptr) return false;
        *e = descriptor(pa + off, access);
    }
    dsb_sy();
    return true;
}

void Stage2::unmap(std::uint64_t ipa, std::uint64_t size, std::uint16_t vmid) {
    for (std::uint64_t off = 0; off < size; off += kPage) {
        std::uint64_t* e = leaf(ipa + off, false);
        if (e != nullptr) *e = 0;
    }
    // Break before make is trivially kept (nothing is remapped here); flush
    // the VMID's stage-2 entries with it loaded, then restore VTTBR.
    const std::uint64_t saved = RVM_MRS(vttbr_el2);
    dsb_sy();
    RVM_MSR(vttbr_el2, vttbr(vmid));
    isb();
    asm volatile("tlbi vmalls12e1\n dsb sy" ::: "memory");
    RVM_MSR(vttbr_el2, saved);
    isb();
}

std::uint64_t Stage2::translate(std::uint64_t ipa, bool write) const {
    const std::uint64_t* e = find(ipa);
    if (e == nullptr || (*e & 0b11) != kValidTable) return 0;
    if ((*e & kS2apRead) == 0 || (write && (*e & kS2apWrite) == 0)) return 0;
    return (*e & kAddrMask) | (ipa & (kPage - 1));
}

std::uint64_t Stage2::vttbr(std::uint16_t vmid) const {
    return reinterpret_cast<std::uint64_t>(root_) | (std::uint64_t{vmid} << 48);
}

}  // namespace rvm::bm
