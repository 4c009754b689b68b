// The agent ELF parser and loader: a valid static image parses and loads
// byte-exactly; every refusal names the right error and program header; no
// prefix of a valid file is accepted; a real dynamic PIE is refused.
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "backend/kvm/elf_image.hpp"

namespace rvm::kvm {
namespace {

using Bytes = std::vector<std::uint8_t>;

constexpr std::uint64_t kMaxVa = 0x800000;  // 8 MiB of guest memory in these tests
constexpr std::uint64_t kTextVa = 0x401000;
constexpr std::uint64_t kRodataVa = 0x402000;
constexpr std::uint64_t kDataVa = 0x403000;
constexpr std::uint64_t kDataMemsz = 0x2000;  // 0x40 bytes of data, then bss into the next page

ElfLimits limits() {
    ElfLimits l;
    l.max_va = kMaxVa;
    return l;
}

Elf64ProgramHeader phdr(std::uint32_t type, std::uint32_t flags, std::uint64_t offset, std::uint64_t vaddr,
                        std::uint64_t filesz, std::uint64_t memsz) {
    return Elf64ProgramHeader{type, flags, offset, vaddr, vaddr, filesz, memsz, kElfPageBytes};
}

// A file under construction: header, program headers and a size. bytes()
// fills the file with a position-dependent pattern, then writes the headers.
struct ElfSpec {
    Elf64Header header{};
    std::vector<Elf64ProgramHeader> phdrs;
    std::size_t size = 0;
    bool fix_phnum = true;  // e_phnum = phdrs.size()

    [[nodiscard]] Bytes bytes() const {
        Bytes b(size);
        for (std::size_t i = 0; i < size; ++i) b[i] = static_cast<std::uint8_t>(i * 131 + 7);
        Elf64Header h = header;
        if (fix_phnum) h.e_phnum = static_cast<std::uint16_t>(phdrs.size());
        if (size == 0) return b;
        std::memcpy(b.data(), &h, std::min(sizeof h, size));
        for (std::size_t i = 0; i < phdrs.size() && h.e_phoff <= size; ++i) {
            const std::size_t at = h.e_phoff + i * kElfPhdrBytes;
            if (at + kElfPhdrBytes <= size) std::memcpy(b.data() + at, &phdrs[i], kElfPhdrBytes);
        }
        return b;
    }
};

// text R+X (0x100 bytes), rodata R (0x80), data R+W (0x40) + bss, PT_GNU_STACK.
// The data segment's file bytes end the file, so every prefix cuts something.
ElfSpec valid_spec() {
    ElfSpec s;
    s.header.e_ident = {0x7f, 'E', 'L', 'F', kElfClass64, kElfDataLsb, kElfVersionCurrent};
    s.header.e_type = kElfTypeExec;
    s.header.e_machine = kElfMachineX86_64;
    s.header.e_version = kElfVersionCurrent;
    s.header.e_entry = kTextVa + 0x10;
    s.header.e_phoff = kElfHeaderBytes;
    s.header.e_ehsize = kElfHeaderBytes;
    s.header.e_phentsize = kElfPhdrBytes;
    s.phdrs = {
        phdr(kPtLoad, kPfRead | kPfExec, 0x1000, kTextVa, 0x100, 0x100),
        phdr(kPtLoad, kPfRead, 0x2000, kRodataVa, 0x80, 0x80),
        phdr(kPtLoad, kPfRead | kPfWrite, 0x3000, kDataVa, 0x40, kDataMemsz),
        phdr(0x6474e551 /* PT_GNU_STACK */, kPfRead | kPfWrite, 0, 0, 0, 0),
    };
    s.size = 0x3040;
    return s;
}

void expect_fault(const ElfSpec& spec, ElfError error, std::uint32_t segment, const ElfLimits& l = limits()) {
    const Bytes b = spec.bytes();
    const auto r = parse_elf(b, l);
    ASSERT_FALSE(r.ok()) << "accepted; expected " << describe(error);
    EXPECT_EQ(r.error().error, error) << "got: " << describe(r.error().error) << "; expected: " << describe(error);
    EXPECT_EQ(r.error().segment, segment);
}

void expect_ok(const ElfSpec& spec, const ElfLimits& l = limits()) {
    const Bytes b = spec.bytes();
    const auto r = parse_elf(b, l);
    EXPECT_TRUE(r.ok()) << "refused: " << describe(r.error().error) << " at phdr " << r.error().segment;
}

TEST(ElfImage, ValidImageParses) {
    const Bytes b = valid_spec().bytes();
    const auto r = parse_elf(b, limits());
    ASSERT_TRUE(r.ok()) << describe(r.error().error) << " at phdr " << r.error().segment;
    const ElfImage& img = r.value();
    EXPECT_EQ(img.entry, kTextVa + 0x10);
    ASSERT_EQ(img.count, 3u);
    EXPECT_EQ(img.image_end, kDataVa + kDataMemsz);
    const ElfSegment& text = img.segments[0];
    EXPECT_EQ(text.vaddr, kTextVa);
    EXPECT_EQ(text.offset, 0x1000u);
    EXPECT_EQ(text.filesz, 0x100u);
    EXPECT_TRUE(text.read && text.exec && !text.write);
    const ElfSegment& rodata = img.segments[1];
    EXPECT_TRUE(rodata.read && !rodata.exec && !rodata.write);
    const ElfSegment& data = img.segments[2];
    EXPECT_TRUE(data.read && data.write && !data.exec);
    EXPECT_EQ(data.filesz, 0x40u);
    EXPECT_EQ(data.memsz, kDataMemsz);
    EXPECT_EQ(data.phdr, 2u);
}

TEST(ElfImage, LoadCopiesBytesZeroesBssAndTouchesNothingElse) {
    const Bytes file = valid_spec().bytes();
    const auto r = parse_elf(file, limits());
    ASSERT_TRUE(r.ok());
    Bytes guest(kMaxVa, 0xcc);
    ASSERT_TRUE(load_elf(r.value(), file, guest));

    // Spelled out from valid_spec(): each segment's pages are zeroed, then
    // its file bytes copied; everything else keeps its old content.
    Bytes expected(kMaxVa, 0xcc);
    const auto place = [&](std::uint64_t pages_lo, std::uint64_t pages_hi, std::uint64_t va, std::uint64_t offset,
                           std::uint64_t filesz) {
        std::fill(expected.begin() + static_cast<std::ptrdiff_t>(pages_lo),
                  expected.begin() + static_cast<std::ptrdiff_t>(pages_hi), std::uint8_t{0});
        std::copy_n(file.begin() + static_cast<std::ptrdiff_t>(offset), filesz,
                    expected.begin() + static_cast<std::ptrdiff_t>(va));
    };
    place(0x401000, 0x402000, kTextVa, 0x1000, 0x100);
    place(0x402000, 0x403000, kRodataVa, 0x2000, 0x80);
    place(0x403000, 0x405000, kDataVa, 0x3000, 0x40);
    const auto diff = std::mismatch(guest.begin(), guest.end(), expected.begin());
    EXPECT_EQ(diff.first, guest.end()) << std::hex << "first difference at 0x" << (diff.first - guest.begin());
}

TEST(ElfImage, LoadRefusesWithoutWritingWhenGuestOrFileIsTooSmall) {
    const Bytes file = valid_spec().bytes();
    const auto r = parse_elf(file, limits());
    ASSERT_TRUE(r.ok());
    const Bytes untouched(kDataVa + kDataMemsz, 0xcc);  // exactly the image's extent
    Bytes guest = untouched;
    const std::span<std::uint8_t> one_short(guest.data(), guest.size() - 1);
    EXPECT_FALSE(load_elf(r.value(), file, one_short));
    const std::span<const std::uint8_t> short_file(file.data(), file.size() - 1);
    EXPECT_FALSE(load_elf(r.value(), short_file, guest));

    // Images that did not come from parse_elf on this file. Segment 0 is fine
    // in each, so a loader that wrote before checking would show it.
    ElfImage bogus = r.value();
    bogus.segments[2].offset = UINT64_MAX - 8;
    EXPECT_FALSE(load_elf(bogus, file, guest));
    bogus = r.value();
    bogus.segments[1].vaddr = UINT64_MAX - 0x10;
    EXPECT_FALSE(load_elf(bogus, file, guest));
    bogus = r.value();
    bogus.segments[1].filesz = bogus.segments[1].memsz + 1;
    EXPECT_FALSE(load_elf(bogus, file, guest));
    bogus = r.value();
    bogus.count = kElfMaxLoadSegments + 1;
    EXPECT_FALSE(load_elf(bogus, file, guest));
    EXPECT_TRUE(guest == untouched);

    EXPECT_TRUE(load_elf(r.value(), file, guest));
}

TEST(ElfImage, EveryPrefixOfAValidFileIsRefused) {
    const Bytes b = valid_spec().bytes();
    for (std::size_t n = 0; n < b.size(); ++n) {
        const auto r = parse_elf(std::span<const std::uint8_t>(b.data(), n), limits());
        ASSERT_FALSE(r.ok()) << "accepted a prefix of " << n << " bytes";
        const ElfError e = r.error().error;
        if (n < kElfHeaderBytes) {
            EXPECT_EQ(e, ElfError::TooSmall) << n;
        } else if (n < kElfHeaderBytes + 4 * kElfPhdrBytes) {
            EXPECT_EQ(e, ElfError::SegmentTableOutOfFile) << n;
        } else {
            EXPECT_EQ(e, ElfError::SegmentOutOfFile) << n;
        }
    }
}

TEST(ElfImage, SegmentsAreSortedByAddressAndOtherTypesIgnored) {
    ElfSpec s = valid_spec();
    std::swap(s.phdrs[0], s.phdrs[2]);
    s.phdrs.push_back(phdr(4 /* PT_NOTE */, kPfRead, 0x1000, kTextVa, 0x20, 0x20));
    s.phdrs.push_back(phdr(6 /* PT_PHDR */, kPfRead, 0x40, 0x400040, 0xe0, 0xe0));
    s.phdrs.push_back(phdr(0x6474e553 /* PT_GNU_PROPERTY */, kPfRead, 0x1000, kTextVa, 0x20, 0x20));
    s.phdrs.push_back(phdr(kPtLoad, kPfRead, 0x2000, 0x600000, 0, 0));  // empty: dropped
    const Bytes b = s.bytes();
    const auto r = parse_elf(b, limits());
    ASSERT_TRUE(r.ok()) << describe(r.error().error);
    ASSERT_EQ(r.value().count, 3u);
    EXPECT_EQ(r.value().segments[0].vaddr, kTextVa);
    EXPECT_EQ(r.value().segments[0].phdr, 2u);
    EXPECT_EQ(r.value().segments[1].vaddr, kRodataVa);
    EXPECT_EQ(r.value().segments[2].vaddr, kDataVa);
    EXPECT_EQ(r.value().segments[2].phdr, 0u);
}

TEST(ElfImage, AlignmentZeroOneAndLargePowersOfTwoAreAccepted) {
    for (const std::uint64_t align : std::array<std::uint64_t, 4>{0, 1, 0x1000, 0x200000}) {
        ElfSpec s = valid_spec();
        for (auto& p : s.phdrs) p.p_align = align;
        expect_ok(s);
    }
}

TEST(ElfImage, HeaderFieldsAreChecked) {
    expect_fault(ElfSpec{}, ElfError::TooSmall, kElfNoSegment);
    ElfSpec s = valid_spec();
    s.size = kElfHeaderBytes - 1;
    expect_fault(s, ElfError::TooSmall, kElfNoSegment);

    s = valid_spec();
    s.header.e_ident[1] = 'e';
    expect_fault(s, ElfError::BadMagic, kElfNoSegment);
    s = valid_spec();
    s.header.e_ident[4] = 1;  // ELFCLASS32
    expect_fault(s, ElfError::NotElf64, kElfNoSegment);
    s = valid_spec();
    s.header.e_ident[5] = 2;  // ELFDATA2MSB
    expect_fault(s, ElfError::NotLittleEndian, kElfNoSegment);
    s = valid_spec();
    s.header.e_ident[6] = 0;
    expect_fault(s, ElfError::BadVersion, kElfNoSegment);
    s = valid_spec();
    s.header.e_version = 2;
    expect_fault(s, ElfError::BadVersion, kElfNoSegment);
    for (const std::uint16_t type :
         std::array<std::uint16_t, 4>{0, 1 /* ET_REL */, 3 /* ET_DYN: PIE */, 4 /* ET_CORE */}) {
        s = valid_spec();
        s.header.e_type = type;
        expect_fault(s, ElfError::NotExecutable, kElfNoSegment);
    }
    s = valid_spec();
    s.header.e_machine = 183;  // EM_AARCH64
    expect_fault(s, ElfError::NotX86_64, kElfNoSegment);
    s = valid_spec();
    s.header.e_ehsize = 52;
    expect_fault(s, ElfError::BadHeaderSize, kElfNoSegment);
    s = valid_spec();
    s.header.e_phentsize = 32;
    expect_fault(s, ElfError::BadHeaderSize, kElfNoSegment);
}

TEST(ElfImage, ProgramHeaderTableIsBounded) {
    ElfSpec s = valid_spec();
    s.fix_phnum = false;
    s.header.e_phnum = kElfMaxPhdrs + 1;
    expect_fault(s, ElfError::TooManySegments, kElfNoSegment);
    s.header.e_phnum = 0xffff;  // PN_XNUM: the real count would live in a section header
    expect_fault(s, ElfError::TooManySegments, kElfNoSegment);

    s = valid_spec();
    s.header.e_phoff = s.size - kElfPhdrBytes;  // the first entry fits, the rest do not
    expect_fault(s, ElfError::SegmentTableOutOfFile, kElfNoSegment);
    s.header.e_phoff = UINT64_MAX - 8;  // e_phoff + table size overflows
    expect_fault(s, ElfError::SegmentTableOutOfFile, kElfNoSegment);

    s = valid_spec();
    s.phdrs.clear();
    expect_fault(s, ElfError::NoLoadableSegment, kElfNoSegment);
    s = valid_spec();
    s.phdrs.resize(4);
    for (std::size_t i = 0; i < 3; ++i) s.phdrs[i].p_type = 4;  // PT_NOTE
    expect_fault(s, ElfError::NoLoadableSegment, kElfNoSegment);
}

TEST(ElfImage, MoreThanSixteenLoadSegmentsAreRefused) {
    ElfSpec s = valid_spec();
    s.phdrs.clear();
    s.header.e_entry = kTextVa;
    s.size = 0x1000 + 17 * 0x1000;
    for (std::uint64_t i = 0; i < 17; ++i) {
        s.phdrs.push_back(phdr(kPtLoad, kPfRead | kPfExec, 0x1000 * (i + 1), kTextVa + 0x1000 * i, 0x10, 0x10));
    }
    expect_fault(s, ElfError::TooManySegments, 16);
    s.phdrs.pop_back();
    expect_ok(s);
}

TEST(ElfImage, DynamicAndTlsAreRefused) {
    ElfSpec s = valid_spec();
    s.phdrs.insert(s.phdrs.begin() + 1, phdr(kPtInterp, kPfRead, 0x2000, kRodataVa, 0x1c, 0x1c));
    expect_fault(s, ElfError::NotStatic, 1);
    s = valid_spec();
    s.phdrs.push_back(phdr(kPtDynamic, kPfRead | kPfWrite, 0x3000, kDataVa, 0x10, 0x10));
    expect_fault(s, ElfError::NotStatic, 4);
    s = valid_spec();
    s.phdrs.insert(s.phdrs.begin() + 3, phdr(kPtTls, kPfRead, 0x3000, kDataVa, 0x8, 0x10));
    expect_fault(s, ElfError::UnsupportedSegment, 3);
}

TEST(ElfImage, SegmentSizesAndFileRangesAreChecked) {
    ElfSpec s = valid_spec();
    s.phdrs[1].p_filesz = s.phdrs[1].p_memsz + 1;
    expect_fault(s, ElfError::FileSizeExceedsMemSize, 1);

    s = valid_spec();
    s.phdrs[2].p_filesz = 0x41;  // one byte past the end of the file
    expect_fault(s, ElfError::SegmentOutOfFile, 2);
    s = valid_spec();
    s.phdrs[0].p_filesz = s.phdrs[0].p_memsz = UINT64_MAX - 0x2000;  // huge filesz
    expect_fault(s, ElfError::SegmentOutOfFile, 0);
    s = valid_spec();
    s.phdrs[1].p_offset = UINT64_MAX - 0x7f;  // offset + filesz (0x80) overflows
    expect_fault(s, ElfError::SegmentOutOfFile, 1);
}

TEST(ElfImage, SegmentAddressesAreChecked) {
    ElfSpec s = valid_spec();
    s.phdrs[2].p_vaddr = UINT64_MAX - 0xfff;  // vaddr + memsz overflows
    expect_fault(s, ElfError::AddressOverflow, 2);
    s = valid_spec();
    s.phdrs[2].p_vaddr = 0xffff'ffff'ffff'd800;  // ends at ...f800: no overflow, but rounding up to a page would
    expect_fault(s, ElfError::AddressOverflow, 2);

    s = valid_spec();
    s.phdrs[0].p_vaddr = 0x1000;  // in the null guard / info page region
    expect_fault(s, ElfError::SegmentBelowMinimum, 0);
    s = valid_spec();
    s.phdrs[0].p_vaddr = RVM_IMAGE_MIN_VA - 0x1000;
    expect_fault(s, ElfError::SegmentBelowMinimum, 0);

    s = valid_spec();
    s.phdrs[2].p_memsz = std::uint64_t{1} << 40;  // huge memsz
    expect_fault(s, ElfError::SegmentAboveLimit, 2);
    s = valid_spec();
    s.phdrs[2].p_memsz = kMaxVa - kDataVa + 1;  // one byte too many
    expect_fault(s, ElfError::SegmentAboveLimit, 2);
    s.phdrs[2].p_memsz = kMaxVa - kDataVa;  // ends exactly at the limit
    expect_ok(s);
}

TEST(ElfImage, AlignmentIsChecked) {
    ElfSpec s = valid_spec();
    s.phdrs[1].p_align = 3;
    expect_fault(s, ElfError::MisalignedSegment, 1);
    s = valid_spec();
    s.phdrs[2].p_align = 0x3000;
    expect_fault(s, ElfError::MisalignedSegment, 2);
    s = valid_spec();
    s.phdrs[1].p_vaddr += 0x10;  // vaddr and offset no longer congruent modulo 4 KiB
    expect_fault(s, ElfError::MisalignedSegment, 1);
}

TEST(ElfImage, SegmentsMayNotSharePages) {
    ElfSpec s = valid_spec();
    s.phdrs[1].p_vaddr = kTextVa + 0x800;  // same page as the end of text
    s.phdrs[1].p_offset = 0x2800;
    expect_fault(s, ElfError::OverlappingSegments, 1);
    s = valid_spec();
    s.phdrs[1].p_vaddr = kTextVa;  // exactly on top of text; ties keep file order
    s.phdrs[1].p_offset = 0x2000;
    expect_fault(s, ElfError::OverlappingSegments, 1);
    s = valid_spec();
    s.phdrs[2].p_vaddr = kRodataVa + 0xfe0;  // data starts in rodata's page
    s.phdrs[2].p_offset = 0x2fe0;
    s.size = 0x3020;
    expect_fault(s, ElfError::OverlappingSegments, 2);
    s = valid_spec();
    s.phdrs[0].p_memsz = 0x3000;                        // text's bss runs over rodata and data
    expect_fault(s, ElfError::OverlappingSegments, 1);  // the later one by address is named
    s = valid_spec();
    std::swap(s.phdrs[0], s.phdrs[1]);
    s.phdrs[1].p_memsz = 0x1001;  // text (now phdr 1) ends one byte into rodata's page (phdr 0)
    expect_fault(s, ElfError::OverlappingSegments, 0);
}

TEST(ElfImage, WritableAndExecutableIsRefused) {
    ElfSpec s = valid_spec();
    s.phdrs[2].p_flags = kPfRead | kPfWrite | kPfExec;
    expect_fault(s, ElfError::WritableAndExecutable, 2);
    s = valid_spec();
    s.phdrs[0].p_flags = kPfWrite | kPfExec;
    expect_fault(s, ElfError::WritableAndExecutable, 0);
}

TEST(ElfImage, EntryMustBeInCode) {
    ElfSpec s = valid_spec();
    s.header.e_entry = 0;
    expect_fault(s, ElfError::EntryOutsideCode, kElfNoSegment);
    s.header.e_entry = kTextVa + 0x100;  // one past the end of text
    expect_fault(s, ElfError::EntryOutsideCode, kElfNoSegment);
    s.header.e_entry = kTextVa - 1;
    expect_fault(s, ElfError::EntryOutsideCode, kElfNoSegment);
    s.header.e_entry = kRodataVa + 4;  // readable, not executable
    expect_fault(s, ElfError::EntryOutsideCode, 1);
    s.header.e_entry = kDataVa + 0x1000;  // in the bss
    expect_fault(s, ElfError::EntryOutsideCode, 2);
    s.header.e_entry = kTextVa + 0xff;
    expect_ok(s);
}

TEST(ElfImage, SizeLimitsAreEnforced) {
    ElfLimits l = limits();
    l.max_file_bytes = 0x3000;
    expect_fault(valid_spec(), ElfError::ImageTooLarge, kElfNoSegment, l);
    l = limits();
    l.max_image_bytes = 0x3000;  // text, rodata: 2 pages; data: 2 more
    expect_fault(valid_spec(), ElfError::ImageTooLarge, 2, l);
    l.max_image_bytes = 0x4000;
    expect_ok(valid_spec(), l);
}

TEST(ElfImage, EveryErrorHasADistinctDescription) {
    std::vector<std::string> seen;
    for (std::size_t i = 0; i < kElfErrorCount; ++i) {
        const std::string d = describe(static_cast<ElfError>(i));
        EXPECT_FALSE(d.empty());
        EXPECT_EQ(std::count(seen.begin(), seen.end(), d), 0) << d;
        seen.push_back(d);
    }
}

TEST(ElfImage, RealDynamicPieIsRefused) {
    std::ifstream in("/bin/true", std::ios::binary);
    ASSERT_TRUE(in) << "/bin/true is part of every Debian system (coreutils)";
    const Bytes b{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
    const auto r = parse_elf(b, limits());
    ASSERT_FALSE(r.ok());
    EXPECT_TRUE(r.error().error == ElfError::NotExecutable || r.error().error == ElfError::NotStatic)
        << describe(r.error().error);
}

}  // namespace
}  // namespace rvm::kvm
