// Kernel: regions. A region is owned by exactly one partition and placed in
// its guest-physical space by the partition's buddy allocator. Only Immutable
// and AppendOnly regions may be shared, read-only; transfer moves ownership and
// the old owner loses every capability to it.
#include "nucleus/kernel.hpp"

namespace rvm {

namespace {

constexpr std::uint64_t kMaxRegionPages = std::uint64_t{1} << (BuddyAllocator::kMaxSpaceShift - 12);

Rights owner_rights(std::uint8_t policy) {
    // Immutable contents are fixed at creation: the owner cannot write them.
    return policy == RVM_REGION_IMMUTABLE ? Rights::all().without(RVM_RIGHT_WRITE) : Rights::all();
}

constexpr std::uint64_t region_aux(std::uint64_t pages, std::uint8_t policy, std::uint8_t tier) {
    return pages | (std::uint64_t{policy} << 40) | (std::uint64_t{tier} << 48);
}

}  // namespace

KResult<RegionId> Kernel::create_region(PartitionId owner, std::uint64_t pages, std::uint8_t policy,
                                        std::uint8_t tier) {
    Partition* part = live_partition(owner);
    if (part == nullptr) return fail(RVM_E_BAD_HANDLE);
    if (pages == 0 || pages > kMaxRegionPages) return fail(RVM_E_INVALID);
    if (policy > RVM_REGION_SLAB || tier > RVM_TIER_COLD) return fail(RVM_E_INVALID);
    if (part->regions >= part->config.max_regions) return fail(RVM_E_POLICY);
    if (part->config.mem_quota_pages != 0 && part->mem_pages + pages > part->config.mem_quota_pages) {
        return fail(RVM_E_POLICY);
    }
    // Checked before anything is taken: a released pool slot would advance
    // its generation, and replay would diverge.
    if (!st_.caps.has_free_slot(owner.index) || st_.regions.live() == st_.regions.capacity()) {
        return fail(RVM_E_EXHAUSTED);
    }
    const auto gpa = part->gpa.allocate(pages * kPageSize);
    if (!gpa) return fail(RVM_E_NO_MEMORY);
    // CANNOT FAIL: the pool and the owner's table have room (checked above).
    const RegionId r = *st_.regions.allocate();
    (void)st_.caps.mint(owner.index, ObjectRef{RVM_OBJ_REGION, r.raw()}, owner_rights(policy));
    Region& region = st_.regions.at(r);
    region.owner = owner;
    region.policy = policy;
    region.tier = tier;
    region.pages = pages;
    region.gpa = gpa.value();
    ++part->regions;
    part->mem_pages += pages;
    witness(RVM_WK_REGION_CREATE, owner.raw(), r.raw(), region_aux(pages, policy, tier));
    return r;
}

KResult<std::uint64_t> Kernel::share_region(RegionId r, PartitionId with) {
    Region* region = st_.regions.get(r);
    if (region == nullptr) return fail(RVM_E_BAD_HANDLE);
    Partition* target = live_partition(with);
    if (target == nullptr) return fail(RVM_E_BAD_HANDLE);
    if (region->policy == RVM_REGION_SLAB) return fail(RVM_E_INVALID);  // mutable memory is never shared
    if (with == region->owner) return fail(RVM_E_INVALID);
    RegionShare* slot = nullptr;
    for (RegionShare& s : region->shares) {
        if (s.partition == with) return fail(RVM_E_BUSY);
        if (slot == nullptr && s.partition.is_null()) slot = &s;
    }
    if (slot == nullptr) return fail(RVM_E_EXHAUSTED);
    const auto gpa = target->gpa.allocate(region->pages * kPageSize);
    if (!gpa) return fail(RVM_E_NO_MEMORY);
    const auto c = st_.caps.mint(with.index, ObjectRef{RVM_OBJ_REGION, r.raw()}, Rights{RVM_RIGHT_READ});
    if (!c) {
        // The buddy allocator's state is canonical: freeing restores it exactly.
        (void)target->gpa.free(gpa.value(), region->pages * kPageSize);
        return err(c.error());
    }
    *slot = RegionShare{with, gpa.value()};
    witness(RVM_WK_REGION_SHARE, with.raw(), r.raw(), gpa.value());
    return gpa.value();
}

KResult<void> Kernel::transfer_region(RegionId r, PartitionId to) {
    Region* region = st_.regions.get(r);
    if (region == nullptr) return fail(RVM_E_BAD_HANDLE);
    Partition* target = live_partition(to);
    if (target == nullptr) return fail(RVM_E_BAD_HANDLE);
    if (to == region->owner) return fail(RVM_E_INVALID);
    for (const RegionShare& s : region->shares) {
        if (!s.partition.is_null()) return fail(RVM_E_BUSY);  // readers would keep a view of moved memory
    }
    if (target->regions >= target->config.max_regions) return fail(RVM_E_POLICY);
    if (target->config.mem_quota_pages != 0 && target->mem_pages + region->pages > target->config.mem_quota_pages) {
        return fail(RVM_E_POLICY);
    }
    // Everything that can fail is checked before anything changes.
    if (!st_.caps.has_free_slot(to.index)) return fail(RVM_E_EXHAUSTED);
    const std::uint64_t bytes = region->pages * kPageSize;
    const auto gpa = target->gpa.allocate(bytes);
    if (!gpa) return fail(RVM_E_NO_MEMORY);
    const ObjectRef obj{RVM_OBJ_REGION, r.raw()};
    st_.caps.revoke_object(obj);
    // CANNOT FAIL: the target table has a free slot (checked above).
    (void)st_.caps.mint(to.index, obj, owner_rights(region->policy));
    Partition& old = st_.partitions.at(region->owner);
    (void)old.gpa.free(region->gpa, bytes);
    --old.regions;
    old.mem_pages -= region->pages;
    region->owner = to;
    region->gpa = gpa.value();
    ++target->regions;
    target->mem_pages += region->pages;
    witness(RVM_WK_REGION_TRANSFER, to.raw(), r.raw(), gpa.value());
    return {};
}

KResult<void> Kernel::set_region_tier(RegionId r, std::uint8_t tier) {
    Region* region = st_.regions.get(r);
    if (region == nullptr) return fail(RVM_E_BAD_HANDLE);
    if (tier > RVM_TIER_COLD) return fail(RVM_E_INVALID);
    if (tier == region->tier) return fail(RVM_E_STATE);
    const std::uint8_t from = region->tier;
    region->tier = tier;
    witness(RVM_WK_REGION_TIER_CHANGE, region->owner.raw(), r.raw(), 0,
            (std::uint32_t{from} << 8) | (std::uint32_t{tier} << 16));
    return {};
}

void Kernel::teardown_region(RegionId r, Region& region) {
    const std::uint64_t bytes = region.pages * kPageSize;
    for (const RegionShare& s : region.shares) {
        if (Partition* p = st_.partitions.get(s.partition)) (void)p->gpa.free(s.gpa, bytes);
    }
    Partition& owner = st_.partitions.at(region.owner);
    (void)owner.gpa.free(region.gpa, bytes);
    --owner.regions;
    owner.mem_pages -= region.pages;
    st_.caps.revoke_object(ObjectRef{RVM_OBJ_REGION, r.raw()});
    (void)st_.regions.release(r);
}

KResult<void> Kernel::destroy_region(RegionId r) {
    Region* region = st_.regions.get(r);
    if (region == nullptr) return fail(RVM_E_BAD_HANDLE);
    const PartitionId owner = region->owner;
    teardown_region(r, *region);
    witness(RVM_WK_REGION_DESTROY, owner.raw(), r.raw(), 0);
    return {};
}

}  // namespace rvm
