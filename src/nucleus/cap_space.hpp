// CapSpace: every partition's capability table plus the derivation tree that
// links them (NOVA capability.hpp, seL4's CDT). The only place a
// guest-supplied capability index becomes an object (STYLE.md 8).
//
// Rules: a root capability (depth 0) is minted when its object is created;
// derive() copies a capability into a (possibly other) partition with rights
// that are a subset of the source's, one level deeper, at most
// RVM_CAP_MAX_DEPTH; GRANT allows repeated derivation, GRANT_ONCE exactly one
// (the right is consumed and the copy cannot be delegated further); revoke
// removes a capability's whole subtree.
#pragma once

#include <array>
#include <cstdint>

#include "abi/object.h"
#include "nucleus/config.hpp"
#include "nucleus/handle.hpp"
#include "nucleus/rights.hpp"
#include "nucleus/status.hpp"

namespace rvm {

struct ObjectRef {
    std::uint8_t type = RVM_OBJ_TYPE_COUNT_;  // enum rvm_object_type
    std::uint64_t id = 0;                     // raw handle of the object
    friend constexpr bool operator==(ObjectRef, ObjectRef) = default;
};

// Location of a capability: (partition table index, slot). Tables are indexed
// by the partition's pool index, which is stable for its lifetime.
struct CapLoc {
    static constexpr std::uint16_t kNone = 0xffff;
    std::uint16_t table = kNone;
    std::uint16_t slot = kNone;
    [[nodiscard]] constexpr bool none() const { return table == kNone; }
    friend constexpr bool operator==(CapLoc, CapLoc) = default;
};

struct Capability {
    ObjectRef object;
    Rights rights;
    std::uint8_t depth = 0;
    CapLoc parent, first_child, next_sibling, prev_sibling;
    friend constexpr bool operator==(const Capability&, const Capability&) = default;
};

// Why a derivation is refused (the rules of CapSpace::derive, in the order
// they are checked), so the hypercall boundary can name the argument at fault.
enum class DeriveFault : std::uint8_t { None, SourceCannotGrant, TooDeep, RightsExceed };

// The derivation rules, in one place: the source holds GRANT or GRANT_ONCE,
// the copy stays within RVM_CAP_MAX_DEPTH, its rights are valid and a subset
// of the source's, and a copy made under GRANT_ONCE alone carries no grant right.
[[nodiscard]] DeriveFault derive_fault(const Capability& src, Rights rights);

class CapSpace {
public:
    struct Slot {
        Capability cap;
        std::uint32_t generation = 0;
        bool live = false;
        friend constexpr bool operator==(const Slot&, const Slot&) = default;
    };
    using Table = std::array<Slot, kCapsPerPartition>;

    // Root capability in `table` for a new object.
    KResult<CapHandle> mint(std::uint32_t table, ObjectRef object, Rights rights);

    // The one validation of a guest-supplied handle: live slot, matching
    // generation, expected object type (RVM_OBJ_TYPE_COUNT_ = any), all of
    // `required` rights.
    KResult<const Capability&> lookup(std::uint32_t table, CapHandle h, std::uint8_t type, Rights required) const;

    // Derives an attenuated copy of (src_table, src) into dst_table.
    KResult<CapHandle> derive(std::uint32_t src_table, CapHandle src, std::uint32_t dst_table, Rights rights);

    // Removes the subtree below `h` (and `h` itself when include_self). The
    // caller must hold REVOKE on `h`. Returns the number of capabilities removed.
    KResult<std::uint32_t> revoke(std::uint32_t table, CapHandle h, bool include_self);

    // Object teardown: removes every capability naming `object` and their subtrees.
    std::uint32_t revoke_object(ObjectRef object);
    // Partition teardown: removes every capability in the table and their subtrees.
    std::uint32_t clear_table(std::uint32_t table);

    // Walks from `h` to its root checking that each link is live, one level
    // shallower, and holds a superset of the rights below it (Deep proofs).
    [[nodiscard]] bool chain_to_root_valid(std::uint32_t table, CapHandle h) const;

    // Structural invariants over every table (tests and replay audits).
    [[nodiscard]] bool invariants_hold() const;

    // The lowest-slot capability in `table` naming `object` (only a root one,
    // depth 0, when `root_only`); the null handle if there is none.
    [[nodiscard]] CapHandle handle_of(std::uint32_t table, ObjectRef object, bool root_only = false) const;

    // Does any capability held in `table` name `object` with `required` rights?
    [[nodiscard]] bool holds(std::uint32_t table, ObjectRef object, Rights required) const;
    [[nodiscard]] std::uint32_t count(std::uint32_t table) const;
    [[nodiscard]] bool has_free_slot(std::uint32_t table) const {
        return table < kMaxPartitions && count(table) < kCapsPerPartition;
    }
    [[nodiscard]] const Table& table(std::uint32_t t) const { return tables_[t]; }

    friend bool operator==(const CapSpace&, const CapSpace&) = default;

private:
    Slot* at(CapLoc l) { return &tables_[l.table][l.slot]; }
    [[nodiscard]] const Slot* at(CapLoc l) const { return &tables_[l.table][l.slot]; }
    KResult<CapLoc> find(std::uint32_t table, CapHandle h);
    KResult<CapLoc> alloc_slot(std::uint32_t table);
    void link_child(CapLoc parent, CapLoc child);
    void unlink(CapLoc l);
    std::uint32_t remove_subtree(CapLoc root, bool include_self);

    std::array<Table, kMaxPartitions> tables_{};
};

}  // namespace rvm
