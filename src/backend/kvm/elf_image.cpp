#include "backend/kvm/elf_image.hpp"

#include <algorithm>
#include <cstring>

namespace rvm::kvm {

namespace {

constexpr std::uint64_t kPageMask = kElfPageBytes - 1;
constexpr std::size_t kIdentClass = 4;
constexpr std::size_t kIdentData = 5;
constexpr std::size_t kIdentVersion = 6;

Err<ElfFault> fail(ElfError e, std::uint32_t segment = kElfNoSegment) { return err(ElfFault{e, segment}); }

constexpr std::uint64_t page_floor(std::uint64_t a) { return a & ~kPageMask; }
// Precondition: a <= UINT64_MAX - kPageMask (checked where a comes from the file).
constexpr std::uint64_t page_ceil(std::uint64_t a) { return (a + kPageMask) & ~kPageMask; }

// Elf64Header and Elf64ProgramHeader have no padding and no invalid bit
// patterns, so a byte copy is a complete decode.
template <typename T>
T read_struct(std::span<const std::uint8_t> file, std::uint64_t offset) {
    static_assert(std::has_unique_object_representations_v<T>);
    RVM_ASSERT(offset <= file.size() && file.size() - offset >= sizeof(T));  // callers bound-check first
    T value{};
    std::memcpy(&value, file.data() + offset, sizeof(T));
    return value;
}

Result<Elf64Header, ElfFault> check_header(std::span<const std::uint8_t> file, const ElfLimits& limits) {
    if (file.size() < kElfHeaderBytes) return fail(ElfError::TooSmall);
    if (file.size() > limits.max_file_bytes) return fail(ElfError::ImageTooLarge);
    const auto h = read_struct<Elf64Header>(file, 0);
    if (!std::equal(kElfMagic.begin(), kElfMagic.end(), h.e_ident.begin())) return fail(ElfError::BadMagic);
    if (h.e_ident[kIdentClass] != kElfClass64) return fail(ElfError::NotElf64);
    if (h.e_ident[kIdentData] != kElfDataLsb) return fail(ElfError::NotLittleEndian);
    if (h.e_ident[kIdentVersion] != kElfVersionCurrent || h.e_version != kElfVersionCurrent) {
        return fail(ElfError::BadVersion);
    }
    if (h.e_type != kElfTypeExec) return fail(ElfError::NotExecutable);
    if (h.e_machine != kElfMachineX86_64) return fail(ElfError::NotX86_64);
    if (h.e_ehsize != kElfHeaderBytes || h.e_phentsize != kElfPhdrBytes) return fail(ElfError::BadHeaderSize);
    if (h.e_phnum > kElfMaxPhdrs) return fail(ElfError::TooManySegments);
    // e_phnum <= 64, so the product cannot overflow; the sum can.
    std::uint64_t table_end = 0;
    if (__builtin_add_overflow(h.e_phoff, std::uint64_t{h.e_phnum} * kElfPhdrBytes, &table_end) ||
        table_end > file.size()) {
        return fail(ElfError::SegmentTableOutOfFile);
    }
    return h;
}

// One PT_LOAD on its own: sizes, file range, address window, alignment, rights.
Result<ElfSegment, ElfFault> check_load(const Elf64ProgramHeader& ph, std::uint32_t index, std::uint64_t file_size,
                                        const ElfLimits& limits) {
    if (ph.p_filesz > ph.p_memsz) return fail(ElfError::FileSizeExceedsMemSize, index);
    std::uint64_t file_end = 0;
    if (__builtin_add_overflow(ph.p_offset, ph.p_filesz, &file_end) || file_end > file_size) {
        return fail(ElfError::SegmentOutOfFile, index);
    }
    std::uint64_t end = 0;
    if (__builtin_add_overflow(ph.p_vaddr, ph.p_memsz, &end) || end > UINT64_MAX - kPageMask) {
        return fail(ElfError::AddressOverflow, index);
    }
    if (page_floor(ph.p_vaddr) < limits.min_va) return fail(ElfError::SegmentBelowMinimum, index);
    if (page_ceil(end) > limits.max_va) return fail(ElfError::SegmentAboveLimit, index);
    // Only page congruence matters to us: p_align may exceed the page size
    // (2 MiB from older linkers) without constraining where we place bytes.
    if ((ph.p_align > 1 && !std::has_single_bit(ph.p_align)) || (ph.p_vaddr & kPageMask) != (ph.p_offset & kPageMask)) {
        return fail(ElfError::MisalignedSegment, index);
    }
    ElfSegment s;
    s.vaddr = ph.p_vaddr;
    s.memsz = ph.p_memsz;
    s.offset = ph.p_offset;
    s.filesz = ph.p_filesz;
    s.read = (ph.p_flags & kPfRead) != 0;
    s.write = (ph.p_flags & kPfWrite) != 0;
    s.exec = (ph.p_flags & kPfExec) != 0;
    s.phdr = index;
    if (s.write && s.exec) return fail(ElfError::WritableAndExecutable, index);
    return s;
}

// Walks the program header table; fills image.segments in file order.
Result<void, ElfFault> collect_segments(std::span<const std::uint8_t> file, const Elf64Header& h,
                                        const ElfLimits& limits, ElfImage& image) {
    std::uint64_t total_pages_bytes = 0;
    for (std::uint32_t i = 0; i < h.e_phnum; ++i) {
        const auto ph = read_struct<Elf64ProgramHeader>(file, h.e_phoff + std::uint64_t{i} * kElfPhdrBytes);
        if (ph.p_type == kPtInterp || ph.p_type == kPtDynamic) return fail(ElfError::NotStatic, i);
        if (ph.p_type == kPtTls) return fail(ElfError::UnsupportedSegment, i);
        if (ph.p_type != kPtLoad) continue;  // PT_NOTE, PT_PHDR, PT_GNU_STACK, ...: nothing to load
        const auto s = check_load(ph, i, file.size(), limits);
        if (!s) return err(s.error());
        // An empty segment occupies no page: validated above, then dropped.
        if (s.value().memsz == 0) continue;
        if (image.count == kElfMaxLoadSegments) return fail(ElfError::TooManySegments, i);
        const std::uint64_t pages_bytes = page_ceil(s.value().vaddr + s.value().memsz) - page_floor(s.value().vaddr);
        if (__builtin_add_overflow(total_pages_bytes, pages_bytes, &total_pages_bytes) ||
            total_pages_bytes > limits.max_image_bytes) {
            return fail(ElfError::ImageTooLarge, i);
        }
        image.segments[image.count++] = s.value();
    }
    if (image.count == 0) return fail(ElfError::NoLoadableSegment);
    return {};
}

// Sorts by vaddr (stable: ties keep file order) and refuses shared pages.
Result<void, ElfFault> check_layout(ElfImage& image) {
    const auto first = image.segments.begin();
    const auto last = first + static_cast<std::ptrdiff_t>(image.count);
    std::stable_sort(first, last, [](const ElfSegment& a, const ElfSegment& b) { return a.vaddr < b.vaddr; });
    // Page floors are sorted too, so disjoint neighbours mean disjoint pairs.
    for (std::size_t k = 1; k < image.count; ++k) {
        const ElfSegment& prev = image.segments[k - 1];
        if (page_floor(image.segments[k].vaddr) < page_ceil(prev.vaddr + prev.memsz)) {
            return fail(ElfError::OverlappingSegments, image.segments[k].phdr);
        }
    }
    const ElfSegment& top = image.segments[image.count - 1];
    image.image_end = page_ceil(top.vaddr + top.memsz);
    return {};
}

Result<void, ElfFault> check_entry(const ElfImage& image) {
    for (std::size_t k = 0; k < image.count; ++k) {
        const ElfSegment& s = image.segments[k];
        if (image.entry < s.vaddr || image.entry - s.vaddr >= s.memsz) continue;
        if (!s.exec) return fail(ElfError::EntryOutsideCode, s.phdr);
        return {};
    }
    return fail(ElfError::EntryOutsideCode);
}

}  // namespace

const char* describe(ElfError e) {
    switch (e) {
        case ElfError::TooSmall: return "file is smaller than an ELF64 header (64 bytes)";
        case ElfError::BadMagic: return "not an ELF file (bad magic)";
        case ElfError::NotElf64: return "not a 64-bit ELF file (EI_CLASS is not ELFCLASS64)";
        case ElfError::NotLittleEndian: return "not a little-endian ELF file (EI_DATA is not ELFDATA2LSB)";
        case ElfError::BadVersion: return "unsupported ELF version (EI_VERSION or e_version is not EV_CURRENT)";
        case ElfError::NotExecutable:
            return "not a static executable (e_type is not ET_EXEC: PIE, shared object or relocatable)";
        case ElfError::NotX86_64: return "not an x86-64 executable (e_machine is not EM_X86_64)";
        case ElfError::BadHeaderSize: return "e_ehsize or e_phentsize does not match ELF64";
        case ElfError::TooManySegments: return "too many program headers (max 64) or PT_LOAD segments (max 16)";
        case ElfError::SegmentTableOutOfFile: return "program header table extends past the end of the file";
        case ElfError::NotStatic: return "dynamically linked (PT_INTERP or PT_DYNAMIC): link statically";
        case ElfError::UnsupportedSegment: return "thread-local storage (PT_TLS) is not supported";
        case ElfError::FileSizeExceedsMemSize: return "segment's p_filesz exceeds its p_memsz";
        case ElfError::SegmentOutOfFile: return "segment's file bytes extend past the end of the file";
        case ElfError::AddressOverflow: return "segment's p_vaddr + p_memsz overflows the address space";
        case ElfError::SegmentBelowMinimum: return "segment starts below the image base (RVM_IMAGE_MIN_VA)";
        case ElfError::SegmentAboveLimit: return "segment ends above the partition's image limit";
        case ElfError::MisalignedSegment:
            return "segment alignment is not a power of two, or p_vaddr and p_offset differ modulo 4 KiB";
        case ElfError::OverlappingSegments: return "two loadable segments share a 4 KiB page";
        case ElfError::WritableAndExecutable: return "segment is both writable and executable";
        case ElfError::NoLoadableSegment: return "no non-empty PT_LOAD segment";
        case ElfError::EntryOutsideCode: return "entry point is not inside an executable segment";
        case ElfError::ImageTooLarge: return "file or total segment size exceeds the loader's limit";
    }
    return "unknown ELF error";
}

Result<ElfImage, ElfFault> parse_elf(std::span<const std::uint8_t> file, const ElfLimits& limits) {
    const auto header = check_header(file, limits);
    if (!header) return err(header.error());
    ElfImage image;
    image.entry = header.value().e_entry;
    RVM_TRY_VOID(collect_segments(file, header.value(), limits, image));
    RVM_TRY_VOID(check_layout(image));
    RVM_TRY_VOID(check_entry(image));
    return image;
}

bool load_elf(const ElfImage& image, std::span<const std::uint8_t> file, std::span<std::uint8_t> guest) {
    // The image may not come from parse_elf on this file: check everything
    // before the first write so a refusal leaves `guest` untouched.
    if (image.count > kElfMaxLoadSegments) return false;
    for (std::size_t k = 0; k < image.count; ++k) {
        const ElfSegment& s = image.segments[k];
        std::uint64_t file_end = 0;
        std::uint64_t end = 0;
        if (s.filesz > s.memsz || __builtin_add_overflow(s.offset, s.filesz, &file_end) || file_end > file.size() ||
            __builtin_add_overflow(s.vaddr, s.memsz, &end) || end > UINT64_MAX - kPageMask ||
            page_ceil(end) > guest.size()) {
            return false;
        }
    }
    for (std::size_t k = 0; k < image.count; ++k) {
        const ElfSegment& s = image.segments[k];
        const std::uint64_t start = page_floor(s.vaddr);
        const auto pages = guest.subspan(start, page_ceil(s.vaddr + s.memsz) - start);
        std::fill(pages.begin(), pages.end(), std::uint8_t{0});
        const auto bytes = file.subspan(s.offset, s.filesz);
        std::copy(bytes.begin(), bytes.end(), guest.begin() + static_cast<std::ptrdiff_t>(s.vaddr));
    }
    return true;
}

}  // namespace rvm::kvm
