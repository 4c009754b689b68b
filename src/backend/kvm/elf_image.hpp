// ElfImage: a checked static x86-64 executable for an agent partition, and
// the loader that copies it into guest memory. The file is hostile input: the
// parser reads only the ELF header and program headers (never sections), with
// overflow-checked arithmetic, and accepts only the one shape an agent image
// may have: ELF64, little-endian, ET_EXEC, EM_X86_64, no interpreter, no
// dynamic section, no TLS, no W+X, PT_LOAD segments inside the limits and not
// sharing a 4 KiB page.
#pragma once

#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <span>
#include <type_traits>

#include "abi/agent.h"
#include "nucleus/result.hpp"

namespace rvm::kvm {

// Fields are decoded with memcpy on a little-endian host (the file is
// little-endian; anything else is refused before a multi-byte field is used).
static_assert(std::endian::native == std::endian::little);

inline constexpr std::uint64_t kElfPageBytes = 4096;
inline constexpr std::size_t kElfHeaderBytes = 64;
inline constexpr std::size_t kElfPhdrBytes = 56;
inline constexpr std::uint16_t kElfMaxPhdrs = 64;
inline constexpr std::size_t kElfMaxLoadSegments = 16;
inline constexpr std::uint32_t kElfNoSegment = UINT32_MAX;

// The values of the fields the parser checks (System V gABI, x86-64 psABI).
inline constexpr std::array<std::uint8_t, 4> kElfMagic = {0x7f, 'E', 'L', 'F'};
inline constexpr std::uint8_t kElfClass64 = 2;         // e_ident[EI_CLASS]
inline constexpr std::uint8_t kElfDataLsb = 1;         // e_ident[EI_DATA]
inline constexpr std::uint8_t kElfVersionCurrent = 1;  // e_ident[EI_VERSION], e_version
inline constexpr std::uint16_t kElfTypeExec = 2;       // ET_EXEC
inline constexpr std::uint16_t kElfMachineX86_64 = 62;
inline constexpr std::uint32_t kPtLoad = 1;
inline constexpr std::uint32_t kPtDynamic = 2;
inline constexpr std::uint32_t kPtInterp = 3;
inline constexpr std::uint32_t kPtTls = 7;
inline constexpr std::uint32_t kPfExec = 1;
inline constexpr std::uint32_t kPfWrite = 2;
inline constexpr std::uint32_t kPfRead = 4;

// Elf64_Ehdr.
struct Elf64Header {
    std::array<std::uint8_t, 16> e_ident;  // [0..16)  magic, class, data, version, OS ABI
    std::uint16_t e_type;                  // [16..18)
    std::uint16_t e_machine;               // [18..20)
    std::uint32_t e_version;               // [20..24)
    std::uint64_t e_entry;                 // [24..32)
    std::uint64_t e_phoff;                 // [32..40)
    std::uint64_t e_shoff;                 // [40..48)  ignored
    std::uint32_t e_flags;                 // [48..52)  ignored
    std::uint16_t e_ehsize;                // [52..54)  64
    std::uint16_t e_phentsize;             // [54..56)  56
    std::uint16_t e_phnum;                 // [56..58)
    std::uint16_t e_shentsize;             // [58..60)  ignored
    std::uint16_t e_shnum;                 // [60..62)  ignored
    std::uint16_t e_shstrndx;              // [62..64)  ignored
};
static_assert(sizeof(Elf64Header) == kElfHeaderBytes);
static_assert(offsetof(Elf64Header, e_type) == 16);
static_assert(offsetof(Elf64Header, e_machine) == 18);
static_assert(offsetof(Elf64Header, e_version) == 20);
static_assert(offsetof(Elf64Header, e_entry) == 24);
static_assert(offsetof(Elf64Header, e_phoff) == 32);
static_assert(offsetof(Elf64Header, e_shoff) == 40);
static_assert(offsetof(Elf64Header, e_flags) == 48);
static_assert(offsetof(Elf64Header, e_ehsize) == 52);
static_assert(offsetof(Elf64Header, e_phentsize) == 54);
static_assert(offsetof(Elf64Header, e_phnum) == 56);
static_assert(offsetof(Elf64Header, e_shentsize) == 58);
static_assert(offsetof(Elf64Header, e_shnum) == 60);
static_assert(offsetof(Elf64Header, e_shstrndx) == 62);
static_assert(std::has_unique_object_representations_v<Elf64Header>);

// Elf64_Phdr.
struct Elf64ProgramHeader {
    std::uint32_t p_type;    // [0..4)
    std::uint32_t p_flags;   // [4..8)   kPfRead | kPfWrite | kPfExec
    std::uint64_t p_offset;  // [8..16)
    std::uint64_t p_vaddr;   // [16..24)
    std::uint64_t p_paddr;   // [24..32) ignored (agent partitions map va == gpa)
    std::uint64_t p_filesz;  // [32..40)
    std::uint64_t p_memsz;   // [40..48)
    std::uint64_t p_align;   // [48..56)
};
static_assert(sizeof(Elf64ProgramHeader) == kElfPhdrBytes);
static_assert(offsetof(Elf64ProgramHeader, p_flags) == 4);
static_assert(offsetof(Elf64ProgramHeader, p_offset) == 8);
static_assert(offsetof(Elf64ProgramHeader, p_vaddr) == 16);
static_assert(offsetof(Elf64ProgramHeader, p_paddr) == 24);
static_assert(offsetof(Elf64ProgramHeader, p_filesz) == 32);
static_assert(offsetof(Elf64ProgramHeader, p_memsz) == 40);
static_assert(offsetof(Elf64ProgramHeader, p_align) == 48);
static_assert(std::has_unique_object_representations_v<Elf64ProgramHeader>);

enum class ElfError : std::uint8_t {
    TooSmall,
    BadMagic,
    NotElf64,
    NotLittleEndian,
    BadVersion,
    NotExecutable,  // ET_DYN (PIE, shared object), ET_REL, ...
    NotX86_64,
    BadHeaderSize,
    TooManySegments,
    SegmentTableOutOfFile,
    NotStatic,           // PT_INTERP or PT_DYNAMIC
    UnsupportedSegment,  // PT_TLS
    FileSizeExceedsMemSize,
    SegmentOutOfFile,
    AddressOverflow,
    SegmentBelowMinimum,
    SegmentAboveLimit,
    MisalignedSegment,
    OverlappingSegments,
    WritableAndExecutable,
    NoLoadableSegment,
    EntryOutsideCode,
    ImageTooLarge,
};
inline constexpr std::size_t kElfErrorCount = static_cast<std::size_t>(ElfError::ImageTooLarge) + 1;

// A one-line message naming what is wrong with the file.
[[nodiscard]] const char* describe(ElfError e);

// The window an image must fit in. Segments are checked at page granularity:
// [page_floor(vaddr), page_ceil(vaddr + memsz)) must lie in [min_va, max_va).
struct ElfLimits {
    std::uint64_t min_va = RVM_IMAGE_MIN_VA;
    std::uint64_t max_va = 0;  // exclusive end; the caller sets it (0 accepts nothing)
    std::uint64_t max_file_bytes = std::uint64_t{64} << 20;
    std::uint64_t max_image_bytes = std::uint64_t{256} << 20;  // sum of page-rounded memsz
};

struct ElfSegment {
    std::uint64_t vaddr = 0;
    std::uint64_t memsz = 0;  // > 0: empty PT_LOAD segments are dropped
    std::uint64_t offset = 0;
    std::uint64_t filesz = 0;  // <= memsz; [offset, offset + filesz) is inside the file
    bool read = false;
    bool write = false;
    bool exec = false;       // never together with write
    std::uint32_t phdr = 0;  // program header index, for diagnostics
};

struct ElfImage {
    std::uint64_t entry = 0;                                 // inside an executable segment
    std::array<ElfSegment, kElfMaxLoadSegments> segments{};  // [0, count) sorted by vaddr, no shared pages
    std::size_t count = 0;                                   // >= 1
    std::uint64_t image_end = 0;                             // page-rounded end of the highest segment, <= max_va
};

struct ElfFault {
    ElfError error;
    std::uint32_t segment;  // program header index, or kElfNoSegment
};

[[nodiscard]] Result<ElfImage, ElfFault> parse_elf(std::span<const std::uint8_t> file, const ElfLimits& limits);

// Copies each segment's file bytes to guest memory at its vaddr and zeroes the
// rest of its pages (bss and the page padding on both sides), so no earlier
// content of `guest` survives inside the image. `guest` is guest-physical
// memory starting at gpa 0 (agent partitions map va == gpa). Refuses, before
// writing anything, if a segment would fall outside `guest` or `file`.
[[nodiscard]] bool load_elf(const ElfImage& image, std::span<const std::uint8_t> file, std::span<std::uint8_t> guest);

}  // namespace rvm::kvm
