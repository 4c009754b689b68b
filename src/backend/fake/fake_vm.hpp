// FakeVm: a VM of the deterministic fake backend. It keeps the memslot table
// and the vCPU ids as KVM would, with KVM's refusals (overlapping or
// misaligned slots, an unknown slot, a reused vCPU id, MSR routing after the
// first vCPU), so that the runtime's cells, partitions and reshaping run in
// unit tests without /dev/kvm. Guest memory is a FakeRam; translate() says
// which host bytes a guest-physical address reaches.
#pragma once

#include <cerrno>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <span>
#include <vector>

#include "backend/fake/fake_vcpu.hpp"
#include "backend/vm.hpp"

namespace rvm::fake {

// Guest RAM of the fake backend: plain host bytes.
class FakeRam {
public:
    explicit FakeRam(std::uint64_t size) : bytes_(size) {}
    [[nodiscard]] std::uint64_t size() const { return bytes_.size(); }
    [[nodiscard]] std::span<std::uint8_t> bytes() { return bytes_; }
    [[nodiscard]] std::span<const std::uint8_t> bytes() const { return bytes_; }

private:
    std::vector<std::uint8_t> bytes_;
};

class FakeVm {
public:
    using Memory = FakeRam;
    using VcpuType = FakeVcpu;
    using Error = backend::BackendError;

    static constexpr std::uint64_t kPage = 4096;
    static constexpr std::uint32_t kMaxMemslots = 509;  // KVM's KVM_USER_MEM_SLOTS on x86

    explicit FakeVm(std::uint32_t max_vcpus = 16) : max_vcpus_(max_vcpus) {}

    struct Memslot {
        std::uint64_t gpa = 0, size = 0;
        const FakeRam* ram = nullptr;
        std::uint64_t offset = 0;
        bool readonly = false;
    };

    Result<void, Error> add_memslot(std::uint32_t slot, std::uint64_t gpa, const FakeRam& ram, std::uint64_t offset,
                                    std::uint64_t size, bool readonly) {
        if (slot >= kMaxMemslots || size == 0 || gpa % kPage != 0 || size % kPage != 0 || offset % kPage != 0) {
            return err(Error{"fake KVM_SET_USER_MEMORY_REGION", EINVAL});
        }
        std::uint64_t end = 0, ram_end = 0;
        if (__builtin_add_overflow(gpa, size, &end) || __builtin_add_overflow(offset, size, &ram_end) ||
            ram_end > ram.size()) {
            return err(Error{"fake KVM_SET_USER_MEMORY_REGION", EINVAL});
        }
        if (slots_.count(slot) != 0) return err(Error{"fake KVM_SET_USER_MEMORY_REGION (slot in use)", EINVAL});
        for (const auto& [id, s] : slots_) {
            if (gpa < s.gpa + s.size && s.gpa < end) {
                return err(Error{"fake KVM_SET_USER_MEMORY_REGION (overlap)", EEXIST});
            }
        }
        slots_.emplace(slot, Memslot{gpa, size, &ram, offset, readonly});
        return {};
    }

    Result<void, Error> remove_memslot(std::uint32_t slot) {
        if (slots_.erase(slot) == 0) return err(Error{"fake KVM_SET_USER_MEMORY_REGION (delete)", EINVAL});
        return {};
    }

    Result<void, Error> route_msrs(std::uint32_t first, std::uint32_t count) {
        if (count == 0 || count > 64 || first > UINT32_MAX - count || routed_ || !vcpus_.empty()) {
            return err(Error{"fake KVM_X86_SET_MSR_FILTER", EINVAL});
        }
        routed_ = true;
        msr_first_ = first;
        msr_count_ = count;
        return {};
    }

    std::uint32_t next_vcpu_id() { return next_vcpu_id_++; }
    [[nodiscard]] std::uint32_t max_vcpus() const { return max_vcpus_; }

    Result<FakeVcpu, Error> create_vcpu(std::uint32_t id) {
        if (id >= max_vcpus_) return err(Error{"fake KVM_CREATE_VCPU", EINVAL});
        if (!vcpus_.insert(id).second) return err(Error{"fake KVM_CREATE_VCPU (id in use)", EEXIST});
        return FakeVcpu(std::deque<backend::VcpuExit>{});
    }

    // What guest-physical `gpa` reaches: the memslot and the host byte.
    struct Target {
        std::uint32_t slot = 0;
        const FakeRam* ram = nullptr;
        std::uint64_t ram_offset = 0;
        bool readonly = false;
    };
    [[nodiscard]] std::optional<Target> translate(std::uint64_t gpa) const {
        for (const auto& [id, s] : slots_) {
            if (gpa >= s.gpa && gpa - s.gpa < s.size) return Target{id, s.ram, s.offset + (gpa - s.gpa), s.readonly};
        }
        return std::nullopt;
    }

    [[nodiscard]] const std::map<std::uint32_t, Memslot>& memslots() const { return slots_; }
    [[nodiscard]] const std::set<std::uint32_t>& vcpu_ids() const { return vcpus_; }
    [[nodiscard]] bool routes_msr(std::uint32_t index) const {
        return routed_ && index >= msr_first_ && index - msr_first_ < msr_count_;
    }

private:
    std::uint32_t max_vcpus_;
    std::map<std::uint32_t, Memslot> slots_;
    std::set<std::uint32_t> vcpus_;
    std::uint32_t next_vcpu_id_ = 0;
    bool routed_ = false;
    std::uint32_t msr_first_ = 0, msr_count_ = 0;
};

static_assert(backend::Vm<FakeVm>);

}  // namespace rvm::fake
