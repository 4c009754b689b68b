#include "nucleus/cap_space.hpp"

namespace rvm {

namespace {
constexpr std::uint32_t next_generation(std::uint32_t g) { return g >= kMaxGeneration ? 1u : g + 1u; }
}  // namespace

KResult<CapLoc> CapSpace::find(std::uint32_t table, CapHandle h) {
    if (table >= kMaxPartitions || h.index >= kCapsPerPartition || h.generation == 0) return fail(RVM_E_BAD_HANDLE);
    const Slot& s = tables_[table][h.index];
    if (!s.live || s.generation != h.generation) return fail(RVM_E_BAD_HANDLE);
    return CapLoc{static_cast<std::uint16_t>(table), static_cast<std::uint16_t>(h.index)};
}

KResult<CapLoc> CapSpace::alloc_slot(std::uint32_t table) {
    if (table >= kMaxPartitions) return fail(RVM_E_BAD_HANDLE);
    for (std::uint16_t i = 0; i < kCapsPerPartition; ++i) {
        if (!tables_[table][i].live) return CapLoc{static_cast<std::uint16_t>(table), i};
    }
    return fail(RVM_E_EXHAUSTED);
}

KResult<CapHandle> CapSpace::mint(std::uint32_t table, ObjectRef object, Rights rights) {
    const auto loc = alloc_slot(table);
    if (!loc) return err(loc.error());
    Slot* s = at(loc.value());
    s->live = true;
    s->generation = next_generation(s->generation);
    s->cap = Capability{object, rights, 0, {}, {}, {}, {}};
    return CapHandle{loc.value().slot, s->generation};
}

KResult<const Capability&> CapSpace::lookup(std::uint32_t table, CapHandle h, std::uint8_t type,
                                            Rights required) const {
    if (table >= kMaxPartitions || h.index >= kCapsPerPartition || h.generation == 0) return fail(RVM_E_BAD_HANDLE);
    const Slot& s = tables_[table][h.index];
    if (!s.live || s.generation != h.generation) return fail(RVM_E_BAD_HANDLE);
    if (type != RVM_OBJ_TYPE_COUNT_ && s.cap.object.type != type) return fail(RVM_E_WRONG_TYPE);
    if (!s.cap.rights.has(required.bits)) return fail(RVM_E_RIGHTS);
    return s.cap;
}

DeriveFault derive_fault(const Capability& src, Rights rights) {
    const bool grant = src.rights.has(RVM_RIGHT_GRANT);
    if (!grant && !src.rights.has(RVM_RIGHT_GRANT_ONCE)) return DeriveFault::SourceCannotGrant;
    if (src.depth + 1u > RVM_CAP_MAX_DEPTH) return DeriveFault::TooDeep;
    if (!Rights::valid(rights.bits) || !rights.subset_of(src.rights)) return DeriveFault::RightsExceed;
    // A copy made under GRANT_ONCE is a leaf: it can never be delegated on.
    if (!grant && (rights.bits & (RVM_RIGHT_GRANT | RVM_RIGHT_GRANT_ONCE)) != 0) return DeriveFault::RightsExceed;
    return DeriveFault::None;
}

KResult<CapHandle> CapSpace::derive(std::uint32_t src_table, CapHandle src, std::uint32_t dst_table, Rights rights) {
    const auto src_loc = find(src_table, src);
    if (!src_loc) return err(src_loc.error());
    Capability& parent = at(src_loc.value())->cap;
    switch (derive_fault(parent, rights)) {
        case DeriveFault::None: break;
        case DeriveFault::TooDeep: return fail(RVM_E_DEPTH);
        case DeriveFault::SourceCannotGrant:
        case DeriveFault::RightsExceed: return fail(RVM_E_RIGHTS);
    }
    const bool grant = parent.rights.has(RVM_RIGHT_GRANT);
    const auto dst_loc = alloc_slot(dst_table);
    if (!dst_loc) return err(dst_loc.error());

    Slot* child = at(dst_loc.value());
    child->live = true;
    child->generation = next_generation(child->generation);
    child->cap = Capability{parent.object, rights, static_cast<std::uint8_t>(parent.depth + 1u), {}, {}, {}, {}};
    link_child(src_loc.value(), dst_loc.value());
    if (!grant) parent.rights = parent.rights.without(RVM_RIGHT_GRANT_ONCE);
    return CapHandle{dst_loc.value().slot, child->generation};
}

void CapSpace::link_child(CapLoc parent, CapLoc child) {
    Capability& p = at(parent)->cap;
    Capability& c = at(child)->cap;
    c.parent = parent;
    c.prev_sibling = CapLoc{};
    c.next_sibling = p.first_child;
    if (!p.first_child.none()) at(p.first_child)->cap.prev_sibling = child;
    p.first_child = child;
}

void CapSpace::unlink(CapLoc l) {
    Capability& c = at(l)->cap;
    if (!c.prev_sibling.none()) {
        at(c.prev_sibling)->cap.next_sibling = c.next_sibling;
    } else if (!c.parent.none()) {
        at(c.parent)->cap.first_child = c.next_sibling;
    }
    if (!c.next_sibling.none()) at(c.next_sibling)->cap.prev_sibling = c.prev_sibling;
    c.parent = c.prev_sibling = c.next_sibling = CapLoc{};
}

// Post-order removal without recursion: descend to a leaf, remove it, climb.
// Terminates: each step either descends (depth <= RVM_CAP_MAX_DEPTH) or frees a slot.
std::uint32_t CapSpace::remove_subtree(CapLoc root, bool include_self) {
    std::uint32_t removed = 0;
    CapLoc cur = root;
    for (;;) {
        Slot* s = at(cur);
        if (!s->cap.first_child.none()) {
            cur = s->cap.first_child;
            continue;
        }
        if (cur == root) break;
        const CapLoc parent = s->cap.parent;
        unlink(cur);
        s->live = false;
        s->cap = Capability{};
        ++removed;
        cur = parent;
    }
    if (include_self) {
        Slot* s = at(root);
        unlink(root);
        s->live = false;
        s->cap = Capability{};
        ++removed;
    }
    return removed;
}

KResult<std::uint32_t> CapSpace::revoke(std::uint32_t table, CapHandle h, bool include_self) {
    const auto loc = find(table, h);
    if (!loc) return err(loc.error());
    if (!at(loc.value())->cap.rights.has(RVM_RIGHT_REVOKE)) return fail(RVM_E_RIGHTS);
    return remove_subtree(loc.value(), include_self);
}

std::uint32_t CapSpace::revoke_object(ObjectRef object) {
    std::uint32_t removed = 0;
    for (std::uint16_t t = 0; t < kMaxPartitions; ++t) {
        for (std::uint16_t i = 0; i < kCapsPerPartition; ++i) {
            const Slot& s = tables_[t][i];
            if (s.live && s.cap.object == object) removed += remove_subtree(CapLoc{t, i}, true);
        }
    }
    return removed;
}

std::uint32_t CapSpace::clear_table(std::uint32_t table) {
    std::uint32_t removed = 0;
    if (table >= kMaxPartitions) return 0;
    for (std::uint16_t i = 0; i < kCapsPerPartition; ++i) {
        if (tables_[table][i].live) removed += remove_subtree(CapLoc{static_cast<std::uint16_t>(table), i}, true);
    }
    return removed;
}

bool CapSpace::chain_to_root_valid(std::uint32_t table, CapHandle h) const {
    if (table >= kMaxPartitions || h.index >= kCapsPerPartition) return false;
    CapLoc cur{static_cast<std::uint16_t>(table), static_cast<std::uint16_t>(h.index)};
    const Slot* s = at(cur);
    if (!s->live || s->generation != h.generation) return false;
    for (std::uint32_t steps = 0; steps <= RVM_CAP_MAX_DEPTH; ++steps) {
        if (s->cap.parent.none()) return s->cap.depth == 0;
        const Slot* p = at(s->cap.parent);
        if (!p->live || p->cap.depth + 1u != s->cap.depth || !s->cap.rights.subset_of(p->cap.rights) ||
            !(p->cap.object == s->cap.object)) {
            return false;
        }
        s = p;
    }
    return false;
}

bool CapSpace::invariants_hold() const {
    for (std::uint16_t t = 0; t < kMaxPartitions; ++t) {
        for (std::uint16_t i = 0; i < kCapsPerPartition; ++i) {
            const Slot& s = tables_[t][i];
            if (!s.live) continue;
            const Capability& c = s.cap;
            if (!Rights::valid(c.rights.bits) || c.depth > RVM_CAP_MAX_DEPTH) return false;
            if (c.parent.none()) {
                if (c.depth != 0 || !c.prev_sibling.none()) return false;
            } else {
                const Slot* p = at(c.parent);
                if (!p->live || p->cap.depth + 1u != c.depth || !c.rights.subset_of(p->cap.rights)) return false;
                if (!(p->cap.object == c.object)) return false;
            }
            if (!c.next_sibling.none() && !(at(c.next_sibling)->cap.prev_sibling == CapLoc{t, i})) return false;
            std::size_t bound = kMaxPartitions * kCapsPerPartition;  // a cycle is a broken invariant
            for (CapLoc k = c.first_child; !k.none(); k = at(k)->cap.next_sibling) {
                if (bound-- == 0 || !at(k)->live || !(at(k)->cap.parent == CapLoc{t, i})) return false;
            }
        }
    }
    return true;
}

CapHandle CapSpace::handle_of(std::uint32_t table, ObjectRef object, bool root_only) const {
    if (table >= kMaxPartitions) return CapHandle{};
    for (std::uint32_t i = 0; i < kCapsPerPartition; ++i) {
        const Slot& s = tables_[table][i];
        if (s.live && s.cap.object == object && (!root_only || s.cap.depth == 0)) return CapHandle{i, s.generation};
    }
    return CapHandle{};
}

bool CapSpace::holds(std::uint32_t table, ObjectRef object, Rights required) const {
    if (table >= kMaxPartitions) return false;
    for (const Slot& s : tables_[table]) {
        if (s.live && s.cap.object == object && s.cap.rights.has(required.bits)) return true;
    }
    return false;
}

std::uint32_t CapSpace::count(std::uint32_t table) const {
    std::uint32_t n = 0;
    if (table >= kMaxPartitions) return 0;
    for (const Slot& s : tables_[table]) n += s.live ? 1u : 0u;
    return n;
}

}  // namespace rvm
