// Small, checked wrappers over the POSIX file calls the host needs: create a
// file exclusively, write all bytes, read a whole file under a size limit.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "backend/unique_fd.hpp"
#include "nucleus/result.hpp"

namespace rvm::host {

enum class IoErrc : std::uint8_t {
    kExists,  // refused to overwrite an existing file
    kOpen,
    kRead,
    kWrite,
    kSync,
    kTooLarge,    // the file exceeds the reader's size limit
    kBadKeyFile,  // a key file is not the expected hex string
    kCrypto,      // libsodium could not be initialized or failed
    kOverflow,    // a writer's preallocated buffer filled up before flush()
    kOutOfOrder,  // a sink was fed records or seals out of order
};

struct IoError {
    IoErrc code;
    int sys_errno;  // 0 when the error is not from a system call
};

[[nodiscard]] std::string describe(const IoError& e);

// O_CREAT|O_EXCL: never replaces an existing file. `append` adds O_APPEND.
[[nodiscard]] Result<UniqueFd, IoError> create_new_file(const std::string& path, mode_t mode, bool append);

[[nodiscard]] Result<void, IoError> write_all(int fd, std::span<const std::uint8_t> bytes);

// Reads at most `max_bytes`; a longer file is kTooLarge. The size reported
// by stat() is not trusted: the loop stops at EOF or at the limit.
[[nodiscard]] Result<std::vector<std::uint8_t>, IoError> read_file(const std::string& path, std::size_t max_bytes);

// Writes `bytes` to a new file (exclusive), fsyncs it and its directory.
[[nodiscard]] Result<void, IoError> write_new_file(const std::string& path, std::span<const std::uint8_t> bytes,
                                                   mode_t mode);

// fsync of the directory holding `path`, so a newly created name survives a crash.
[[nodiscard]] Result<void, IoError> sync_parent_dir(const std::string& path);

}  // namespace rvm::host
