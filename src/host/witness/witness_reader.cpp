#include "host/witness/witness_reader.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

namespace rvm::host {

Result<WitnessReader, WitnessFault> WitnessReader::open(std::span<const std::uint8_t> file, std::uint64_t max_bytes) {
    if (file.size() > max_bytes) return err(WitnessFault{WitnessProblem::kTooLarge, 0, max_bytes});
    if (file.size() < kWitnessFileMagic.size() ||
        !std::equal(kWitnessFileMagic.begin(), kWitnessFileMagic.end(), file.begin())) {
        return err(WitnessFault{WitnessProblem::kNotWitness, 0, 0});
    }
    if (file.size() < kWitnessHeaderBytes) return err(WitnessFault{WitnessProblem::kTruncatedHeader, 0, 0});
    const WitnessFileHeader h = decode_header(file.first<kWitnessHeaderBytes>());
    // Each check names the first bad field's offset; nothing here is a length
    // the reader would act on: every value must equal the one constant we support.
    if (h.version != kWitnessFormatVersion) return err(WitnessFault{WitnessProblem::kBadVersion, 0, 8});
    if (h.header_size != kWitnessHeaderBytes) return err(WitnessFault{WitnessProblem::kBadHeader, 0, 12});
    if (h.max_segment_records != kWitnessSegmentRecords) return err(WitnessFault{WitnessProblem::kBadHeader, 0, 16});
    if (h.record_size != kWitnessRecordBytes) return err(WitnessFault{WitnessProblem::kBadHeader, 0, 20});
    if (h.seal_size != kWitnessSealBytes) return err(WitnessFault{WitnessProblem::kBadHeader, 0, 24});
    if ((h.flags & ~kHeaderForwardSecure) != 0) return err(WitnessFault{WitnessProblem::kBadHeader, 0, 28});
    WitnessReader r(file, h);
    r.index();
    return r;
}

void WitnessReader::index() {
    std::uint64_t pos = kWitnessHeaderBytes;
    SegmentView open{0, 0, pos, false, 0};
    while (pos < file_.size()) {
        const auto rest = file_.subspan(pos);
        if (starts_seal(rest)) {
            if (rest.size() < kWitnessSealBytes) break;
            open.sealed = true;
            open.seal_offset = pos;
            segments_.push_back(open);
            ++sealed_;
            pos += kWitnessSealBytes;
            open = SegmentView{records_, 0, pos, false, 0};
            continue;
        }
        if (rest.size() < kWitnessRecordBytes) break;
        ++open.record_count;
        ++records_;
        pos += kWitnessRecordBytes;
    }
    if (open.record_count > 0) segments_.push_back(open);
    partial_offset_ = pos;
}

std::uint64_t WitnessReader::record_offset(std::uint64_t index) const {
    RVM_ASSERT(index < records_);
    const auto it = std::upper_bound(segments_.begin(), segments_.end(), index,
                                     [](std::uint64_t i, const SegmentView& s) { return i < s.first_record; });
    const SegmentView& s = *(it - 1);
    return s.records_offset + (index - s.first_record) * kWitnessRecordBytes;
}

WitnessRecord WitnessReader::record(std::uint64_t index) const {
    return WitnessRecord::from_bytes(file_.subspan(record_offset(index)).first<kWitnessRecordBytes>());
}

std::span<const std::uint8_t> WitnessReader::record_bytes(const SegmentView& view) const {
    return file_.subspan(view.records_offset, view.record_count * kWitnessRecordBytes);
}

WitnessSeal WitnessReader::seal(const SegmentView& view) const {
    RVM_ASSERT(view.sealed);
    return decode_seal(file_.subspan(view.seal_offset).first<kWitnessSealBytes>());
}

Result<std::vector<std::uint8_t>, IoError> read_regular_file(const std::string& path, std::uint64_t max_bytes) {
    // O_NONBLOCK: opening a FIFO must not wait for a writer before we can refuse it.
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY));
    if (!fd.valid()) return err(IoError{IoErrc::kOpen, errno});
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0) return err(IoError{IoErrc::kOpen, errno});
    if (!S_ISREG(st.st_mode)) return err(IoError{IoErrc::kOpen, EINVAL});
    if (st.st_size < 0 || static_cast<std::uint64_t>(st.st_size) > max_bytes) return err(IoError{IoErrc::kTooLarge, 0});
    // The size is only a hint: the file may grow while we read; stop at the limit.
    std::vector<std::uint8_t> out(static_cast<std::size_t>(st.st_size));
    std::size_t got = 0;
    for (;;) {
        if (got == out.size()) {
            if (out.size() >= max_bytes) {
                std::uint8_t probe = 0;
                const ssize_t extra = ::read(fd.get(), &probe, 1);
                if (extra > 0) return err(IoError{IoErrc::kTooLarge, 0});
                break;
            }
            out.resize(std::min<std::uint64_t>(max_bytes, out.size() + 65536));
        }
        const ssize_t n = ::read(fd.get(), out.data() + got, out.size() - got);
        if (n < 0) {
            if (errno == EINTR) continue;
            return err(IoError{IoErrc::kRead, errno});
        }
        if (n == 0) break;
        got += static_cast<std::size_t>(n);
    }
    out.resize(got);
    return out;
}

}  // namespace rvm::host
