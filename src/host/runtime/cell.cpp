#include "host/runtime/cell.hpp"

#include <fmt/format.h>

#include <set>

namespace rvm::host {

namespace {

bool same(const MemMap& a, const MemMap& b) {
    return a.gpa == b.gpa && a.ram == b.ram && a.offset == b.offset && a.size == b.size && a.write == b.write;
}

}  // namespace

Result<std::shared_ptr<Cell>, std::string> Cell::create(const kvm::KvmSystem& sys) {
    auto vm = kvm::KvmVm::create(sys);
    if (!vm) return err(fmt::format("VM: {}", kvm::describe(vm.error())));
    return std::shared_ptr<Cell>(new Cell(std::move(vm.value())));
}

Cell::~Cell() = default;  // the VM goes with its memslots

std::size_t Cell::members() const {
    std::lock_guard<std::mutex> g(mu_);
    return wants_.size();
}

std::vector<MemMap> Cell::maps_of(std::uint64_t who) const {
    std::lock_guard<std::mutex> g(mu_);
    const auto it = wants_.find(who);
    return it != wants_.end() ? it->second : std::vector<MemMap>{};
}

std::uint32_t Cell::next_vcpu_id() {
    std::lock_guard<std::mutex> g(mu_);
    return vm_.next_vcpu_id();
}

std::map<std::uint64_t, MemMap> Cell::wanted() const {
    std::map<std::uint64_t, MemMap> out;
    for (const auto& [who, maps] : wants_) {
        for (const MemMap& m : maps) {
            auto [it, fresh] = out.emplace(m.gpa, m);
            if (!fresh) it->second.write = it->second.write || m.write;
        }
    }
    return out;
}

Result<void, std::string> Cell::reconcile() {
    const auto want = wanted();
    // The same range twice with different memory would be a layout bug:
    // guest-physical addresses are host-wide (cell.hpp).
    for (const auto& [who, maps] : wants_) {
        for (const MemMap& m : maps) {
            const MemMap& w = want.at(m.gpa);
            if (w.ram != m.ram || w.offset != m.offset || w.size != m.size) {
                return err(fmt::format("two members map different memory at guest-physical {:#x}", m.gpa));
            }
        }
    }
    // Remove what is gone or changed, then add what is missing.
    std::set<std::uint32_t> used;
    for (auto it = slots_.begin(); it != slots_.end();) {
        const auto w = want.find(it->first);
        if (w != want.end() && same(w->second, it->second.map)) {
            used.insert(it->second.id);
            ++it;
            continue;
        }
        const auto r = vm_.remove_memslot(it->second.id);
        if (!r) return err(fmt::format("memslot {} at {:#x}: {}", it->second.id, it->first, kvm::describe(r.error())));
        it = slots_.erase(it);
    }
    for (const auto& [gpa, m] : want) {
        if (slots_.contains(gpa)) continue;
        std::uint32_t id = 0;
        while (used.contains(id)) ++id;
        const auto r = vm_.add_memslot(id, gpa, *m.ram, m.offset, m.size, !m.write);
        if (!r) return err(fmt::format("memslot at {:#x}: {}", gpa, kvm::describe(r.error())));
        used.insert(id);
        slots_.emplace(gpa, Slot{id, m});
    }
    return {};
}

Result<void, std::string> Cell::set_maps(std::uint64_t who, std::vector<MemMap> maps) {
    std::lock_guard<std::mutex> g(mu_);
    const auto had = wants_.find(who);
    const bool existed = had != wants_.end();
    std::vector<MemMap> before = existed ? had->second : std::vector<MemMap>{};
    wants_[who] = std::move(maps);
    auto r = reconcile();
    if (r) return r;
    if (existed) {
        wants_[who] = std::move(before);
    } else {
        wants_.erase(who);
    }
    (void)reconcile();  // back to what it was, as far as KVM allows
    return r;
}

Result<void, std::string> Cell::drop(std::uint64_t who) {
    std::lock_guard<std::mutex> g(mu_);
    const auto it = wants_.find(who);
    if (it == wants_.end()) return {};
    std::vector<MemMap> before = std::move(it->second);
    wants_.erase(it);
    auto r = reconcile();
    if (r) return r;
    wants_[who] = std::move(before);
    (void)reconcile();
    return r;
}

}  // namespace rvm::host
