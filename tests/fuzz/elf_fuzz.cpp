// libFuzzer target: hostile agent images. parse_elf must answer for any bytes;
// an image it accepts must satisfy every promise of ElfImage and load into a
// 16 MiB guest. Input byte 0 picks the mode: odd = the rest is the file;
// even = byte 1 picks a position in a valid template image and the rest is
// XORed in from there, so mutations reach the segment checks quickly.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <vector>

#include "backend/kvm/elf_image.hpp"
#include "nucleus/assert.hpp"

namespace {

using namespace rvm;
using namespace rvm::kvm;

constexpr std::uint64_t kGuestBytes = std::uint64_t{16} << 20;
constexpr std::uint64_t kPageMask = kElfPageBytes - 1;

// text R+X at 0x401200, rodata R at 0x402300, data R+W + bss at 0x403380:
// vaddr and offset congruent modulo 4 KiB, in a 0x3c0-byte file.
std::vector<std::uint8_t> make_template() {
    Elf64Header h{};
    h.e_ident = {0x7f, 'E', 'L', 'F', kElfClass64, kElfDataLsb, kElfVersionCurrent};
    h.e_type = kElfTypeExec;
    h.e_machine = kElfMachineX86_64;
    h.e_version = kElfVersionCurrent;
    h.e_entry = 0x401200;
    h.e_phoff = kElfHeaderBytes;
    h.e_ehsize = kElfHeaderBytes;
    h.e_phentsize = kElfPhdrBytes;
    h.e_phnum = 4;
    const Elf64ProgramHeader ph[4] = {
        {kPtLoad, kPfRead | kPfExec, 0x200, 0x401200, 0x401200, 0x100, 0x100, 0x1000},
        {kPtLoad, kPfRead, 0x300, 0x402300, 0x402300, 0x80, 0x80, 0x1000},
        {kPtLoad, kPfRead | kPfWrite, 0x380, 0x403380, 0x403380, 0x40, 0x2000, 0x1000},
        {0x6474e551 /* PT_GNU_STACK */, kPfRead | kPfWrite, 0, 0, 0, 0, 0, 0x10},
    };
    std::vector<std::uint8_t> b(0x3c0, 0x90);
    std::memcpy(b.data(), &h, sizeof h);
    std::memcpy(b.data() + kElfHeaderBytes, ph, sizeof ph);
    return b;
}

void check_accepted(const ElfImage& img, std::span<const std::uint8_t> file, const ElfLimits& limits) {
    RVM_ASSERT(img.count >= 1 && img.count <= kElfMaxLoadSegments);
    bool entry_in_code = false;
    std::uint64_t prev_end = 0;
    for (std::size_t k = 0; k < img.count; ++k) {
        const ElfSegment& s = img.segments[k];
        const std::uint64_t end = s.vaddr + s.memsz;
        RVM_ASSERT(s.memsz > 0 && end > s.vaddr);
        RVM_ASSERT((s.vaddr & ~kPageMask) >= limits.min_va);
        RVM_ASSERT(((end + kPageMask) & ~kPageMask) <= limits.max_va);
        RVM_ASSERT((s.vaddr & ~kPageMask) >= prev_end);  // sorted, no shared page
        prev_end = (end + kPageMask) & ~kPageMask;
        RVM_ASSERT(s.filesz <= s.memsz && s.offset <= file.size() && file.size() - s.offset >= s.filesz);
        RVM_ASSERT((s.vaddr & kPageMask) == (s.offset & kPageMask));
        RVM_ASSERT(!(s.write && s.exec));
        if (img.entry >= s.vaddr && img.entry < end) entry_in_code = s.exec;
    }
    RVM_ASSERT(entry_in_code);
    RVM_ASSERT(img.image_end == prev_end);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static const std::vector<std::uint8_t> kTemplate = make_template();
    static std::vector<std::uint8_t> guest(kGuestBytes);
    if (size < 2) return 0;
    std::vector<std::uint8_t> file;
    if (data[0] & 1) {
        file.assign(data + 1, data + size);
    } else {
        file = kTemplate;
        const std::size_t at = std::size_t{data[1]} * 8;
        const std::size_t n = size - 2;
        if (file.size() < at + n) file.resize(at + n);
        for (std::size_t i = 0; i < n; ++i) file[at + i] ^= data[2 + i];
    }
    ElfLimits limits;
    limits.max_va = kGuestBytes;
    const auto r = parse_elf(file, limits);
    if (!r) {
        RVM_ASSERT(describe(r.error().error) != nullptr);
        return 0;
    }
    check_accepted(r.value(), file, limits);
    // CANNOT FAIL: the image fits below max_va, which is the guest's size.
    const bool loaded = load_elf(r.value(), file, guest);
    RVM_ASSERT(loaded);
    return 0;
}
