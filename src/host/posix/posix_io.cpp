#include "host/posix/posix_io.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <fmt/format.h>

namespace rvm::host {

namespace {

const char* errc_text(IoErrc c) {
    switch (c) {
        case IoErrc::kExists: return "file already exists (refusing to overwrite)";
        case IoErrc::kOpen: return "cannot open";
        case IoErrc::kRead: return "read failed";
        case IoErrc::kWrite: return "write failed";
        case IoErrc::kSync: return "fsync failed";
        case IoErrc::kTooLarge: return "file exceeds the size limit";
        case IoErrc::kBadKeyFile: return "not a valid hex key file";
        case IoErrc::kCrypto: return "libsodium unavailable";
        case IoErrc::kOverflow: return "witness buffer overflowed before flush (records lost)";
        case IoErrc::kOutOfOrder: return "records or seals arrived out of order";
    }
    return "unknown error";
}

IoError sys_error(IoErrc c) { return IoError{c, errno}; }

}  // namespace

std::string describe(const IoError& e) {
    if (e.sys_errno == 0) return errc_text(e.code);
    return fmt::format("{}: {}", errc_text(e.code), std::strerror(e.sys_errno));
}

Result<UniqueFd, IoError> create_new_file(const std::string& path, mode_t mode, bool append) {
    const int flags = O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | (append ? O_APPEND : 0);
    UniqueFd fd(::open(path.c_str(), flags, mode));
    if (!fd.valid()) return err(errno == EEXIST ? IoError{IoErrc::kExists, 0} : sys_error(IoErrc::kOpen));
    return fd;
}

Result<void, IoError> write_all(int fd, std::span<const std::uint8_t> bytes) {
    while (!bytes.empty()) {
        const ssize_t n = ::write(fd, bytes.data(), bytes.size());
        if (n < 0) {
            if (errno == EINTR) continue;
            return err(sys_error(IoErrc::kWrite));
        }
        if (n == 0) return err(IoError{IoErrc::kWrite, EIO});
        bytes = bytes.subspan(static_cast<std::size_t>(n));
    }
    return {};
}

Result<std::vector<std::uint8_t>, IoError> read_file(const std::string& path, std::size_t max_bytes) {
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd.valid()) return err(sys_error(IoErrc::kOpen));
    std::vector<std::uint8_t> out;
    std::uint8_t chunk[64 * 1024];
    for (;;) {
        const ssize_t n = ::read(fd.get(), chunk, sizeof chunk);
        if (n < 0) {
            if (errno == EINTR) continue;
            return err(sys_error(IoErrc::kRead));
        }
        if (n == 0) break;
        const auto got = static_cast<std::size_t>(n);
        if (out.size() + got > max_bytes) return err(IoError{IoErrc::kTooLarge, 0});
        out.insert(out.end(), chunk, chunk + got);
    }
    return out;
}

Result<void, IoError> sync_parent_dir(const std::string& path) {
    const auto slash = path.rfind('/');
    const std::string dir = slash == std::string::npos ? "." : (slash == 0 ? "/" : path.substr(0, slash));
    UniqueFd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!fd.valid()) return err(sys_error(IoErrc::kOpen));
    if (::fsync(fd.get()) != 0) return err(sys_error(IoErrc::kSync));
    return {};
}

Result<void, IoError> write_new_file(const std::string& path, std::span<const std::uint8_t> bytes, mode_t mode) {
    auto fd = create_new_file(path, mode, false);
    if (!fd) return err(fd.error());
    RVM_TRY_VOID(write_all(fd.value().get(), bytes));
    if (::fsync(fd.value().get()) != 0) return err(sys_error(IoErrc::kSync));
    return sync_parent_dir(path);
}

}  // namespace rvm::host
