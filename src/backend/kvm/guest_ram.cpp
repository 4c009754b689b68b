#include "backend/kvm/guest_ram.hpp"

#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>

namespace rvm::kvm {

Result<GuestRam, KvmError> GuestRam::create(std::uint64_t bytes, const char* name) {
    if (bytes == 0 || bytes % 4096 != 0) return err(KvmError{"guest memory size is not a multiple of 4 KiB"});
    UniqueFd fd(memfd_create(name, MFD_CLOEXEC));
    if (!fd.valid()) return err(KvmError{"memfd_create", errno});
    if (ftruncate(fd.get(), static_cast<off_t>(bytes)) != 0) return err(KvmError{"ftruncate guest memory", errno});
    // SAFETY: a fresh shared mapping of the whole memfd; owned by Mapping below.
    void* p = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_NORESERVE, fd.get(), 0);
    if (p == MAP_FAILED) return err(KvmError{"mmap guest memory", errno});
    return GuestRam(std::move(fd), Mapping(p, bytes));
}

}  // namespace rvm::kvm
