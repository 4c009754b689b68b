// Communication edges, devices and device leases: capabilities minted on both
// sides, refusals that change nothing, lease expiry against the manual clock
// at the exact boundary, revocation and re-leasing. Every test ends with
// replay == live and the whole-state invariants.
#include <gtest/gtest.h>

#include <cstdint>
#include <memory>
#include <vector>

#include "support/world.hpp"

namespace rvm {
namespace {

using test::holders;
using test::refused;
using test::World;

// Documented edge and lease rights (nucleus/kernel_io.cpp).
constexpr std::uint32_t kSendRights = RVM_RIGHT_WRITE | RVM_RIGHT_GRANT | RVM_RIGHT_REVOKE;
constexpr std::uint32_t kRecvRights = RVM_RIGHT_READ | RVM_RIGHT_GRANT | RVM_RIGHT_REVOKE;
constexpr std::uint32_t kLeaseRights = RVM_RIGHT_READ | RVM_RIGHT_WRITE | RVM_RIGHT_REVOKE;

// Rights of the one capability `holder` has to `o`; 0xffffffff if it has none or several.
std::uint32_t rights_of(const World& w, PartitionId holder, ObjectRef o) {
    std::uint32_t rights = 0xffffffffu;
    int n = 0;
    for (const CapSpace::Slot& s : w.st().caps.table(holder.index)) {
        if (s.live && s.cap.object == o) {
            rights = s.cap.rights.bits;
            ++n;
        }
    }
    return n == 1 ? rights : 0xffffffffu;
}

ObjectRef edge_obj(EdgeId e) { return ObjectRef{RVM_OBJ_COMMEDGE, e.raw()}; }
ObjectRef lease_obj(LeaseId l) { return ObjectRef{RVM_OBJ_DEVICE_LEASE, l.raw()}; }

class Fixture : public ::testing::Test {
protected:
    void TearDown() override {
        EXPECT_TRUE(w.sync());
        EXPECT_TRUE(w.k().invariants_hold());
    }
    void fill_table(PartitionId p) {
        while (w.st().caps.count(p.index) < kCapsPerPartition) {
            ASSERT_TRUE(w.k().grant(p, ObjectRef{RVM_OBJ_PARTITION, p.raw()}, Rights{RVM_RIGHT_READ}).ok());
        }
    }
    DeviceId device(std::uint64_t hw) {
        const auto d = w.k().register_device(hw);
        EXPECT_TRUE(d.ok());
        return d.ok() ? d.value() : DeviceId{};
    }
    LeaseId lease(PartitionId holder, DeviceId d, std::uint64_t ns) {
        const auto l = w.k().acquire_lease(holder, d, ns);
        EXPECT_TRUE(l.ok());
        return l.ok() ? l.value() : LeaseId{};
    }
    World w;
};

using EdgeTest = Fixture;
using DeviceTest = Fixture;
using LeaseTest = Fixture;

// --- edges -----------------------------------------------------------------

TEST_F(EdgeTest, CreateMintsSendAndReceiveCapabilities) {
    const PartitionId a = w.partition();
    const PartitionId b = w.partition();
    const std::size_t n = w.records();
    const auto e = w.k().create_edge(a, b);
    ASSERT_TRUE(e.ok());
    const CommEdge* edge = w.st().edges.get(e.value());
    ASSERT_NE(edge, nullptr);
    EXPECT_EQ(edge->source, a);
    EXPECT_EQ(edge->dest, b);
    EXPECT_EQ(edge->weight, 0u);
    EXPECT_EQ(rights_of(w, a, edge_obj(e.value())), kSendRights);
    EXPECT_EQ(rights_of(w, b, edge_obj(e.value())), kRecvRights);
    EXPECT_EQ(holders(w, edge_obj(e.value())), 2u);
    ASSERT_EQ(w.records(), n + 1);
    const WitnessRecord& rec = w.sink.records.back();
    EXPECT_EQ(rec.kind(), std::uint8_t{RVM_WK_COMMEDGE_CREATE});
    EXPECT_EQ(rec.subject(), a.raw());
    EXPECT_EQ(rec.object(), e.value().raw());
    EXPECT_EQ(rec.aux(), b.raw());
    // Edges are directed and several may join the same pair.
    const auto back = w.k().create_edge(b, a);
    ASSERT_TRUE(back.ok());
    EXPECT_NE(back.value(), e.value());
    EXPECT_EQ(rights_of(w, b, edge_obj(back.value())), kSendRights);
    EXPECT_EQ(rights_of(w, a, edge_obj(back.value())), kRecvRights);
    EXPECT_TRUE(w.k().create_edge(a, b).ok());
}

TEST_F(EdgeTest, CreateRefusesSelfEdgesAndDeadPartitions) {
    const PartitionId a = w.partition();
    const PartitionId b = w.partition();
    EXPECT_TRUE(refused(w, RVM_E_INVALID, [&] { return w.k().create_edge(a, a); }));
    const auto self = w.k().create_edge(a, a);
    ASSERT_FALSE(self.ok());
    EXPECT_EQ(self.error().arg, 0u);  // the kernel layer names no argument; Syscalls does

    const PartitionId failed = w.partition();
    ASSERT_TRUE(w.k().set_partition_state(failed, PartitionState::Failed).ok());
    const PartitionId gone = w.partition();
    ASSERT_TRUE(w.k().destroy_partition(gone).ok());
    for (const PartitionId dead : {failed, gone, PartitionId{}}) {
        EXPECT_TRUE(refused(w, RVM_E_BAD_HANDLE, [&] { return w.k().create_edge(a, dead); }));
        EXPECT_TRUE(refused(w, RVM_E_BAD_HANDLE, [&] { return w.k().create_edge(dead, b); }));
    }
    // Suspended partitions are alive: the host may connect them.
    ASSERT_TRUE(w.k().set_partition_state(b, PartitionState::Suspended).ok());
    EXPECT_TRUE(w.k().create_edge(a, b).ok());
}

TEST_F(EdgeTest, CreateNeedsAFreeSlotOnBothSides) {
    const PartitionId a = w.partition();
    const PartitionId b = w.partition();
    fill_table(b);
    EXPECT_TRUE(refused(w, RVM_E_EXHAUSTED, [&] { return w.k().create_edge(a, b); }));
    EXPECT_TRUE(refused(w, RVM_E_EXHAUSTED, [&] { return w.k().create_edge(b, a); }));
}

TEST_F(EdgeTest, PoolExhaustionIsAStatus) {
    // 256 edges, two capabilities each: spread over a ring of five partitions.
    std::vector<PartitionId> ring;
    for (int i = 0; i < 5; ++i) ring.push_back(w.partition());
    for (std::size_t i = 0; i < kMaxEdges; ++i) {
        ASSERT_TRUE(w.k().create_edge(ring[i % 5], ring[(i + 1) % 5]).ok()) << i;
    }
    EXPECT_EQ(w.st().edges.live(), kMaxEdges);
    const PartitionId x = w.partition();
    const PartitionId y = w.partition();
    EXPECT_TRUE(refused(w, RVM_E_EXHAUSTED, [&] { return w.k().create_edge(x, y); }));
}

TEST_F(EdgeTest, DestroyRemovesBothCapabilitiesAndStaleHandlesFail) {
    const PartitionId a = w.partition();
    const PartitionId b = w.partition();
    const PartitionId c = w.partition();
    const auto e = w.k().create_edge(a, b);
    ASSERT_TRUE(e.ok());
    // The receiver passed its end on to c.
    ASSERT_TRUE(w.k().derive(b, w.cap_to(b, edge_obj(e.value())), c, Rights{RVM_RIGHT_READ}).ok());
    EXPECT_EQ(holders(w, edge_obj(e.value())), 3u);

    const std::size_t n = w.records();
    ASSERT_TRUE(w.k().destroy_edge(e.value()).ok());
    ASSERT_EQ(w.records(), n + 1);
    const WitnessRecord& rec = w.sink.records.back();
    EXPECT_EQ(rec.kind(), std::uint8_t{RVM_WK_COMMEDGE_DESTROY});
    EXPECT_EQ(rec.subject(), a.raw());
    EXPECT_EQ(rec.object(), e.value().raw());
    EXPECT_FALSE(w.st().edges.contains(e.value()));
    EXPECT_EQ(holders(w, edge_obj(e.value())), 0u);

    EXPECT_TRUE(refused(w, RVM_E_BAD_HANDLE, [&] { return w.k().destroy_edge(e.value()); }));
    EXPECT_TRUE(refused(w, RVM_E_BAD_HANDLE, [&] { return w.k().destroy_edge(EdgeId{}); }));
    EXPECT_TRUE(refused(w, RVM_E_BAD_HANDLE, [&] { return w.k().destroy_edge(EdgeId{100000, 1}); }));
    // The slot is reused under a new generation; the old handle stays dead.
    const auto again = w.k().create_edge(b, c);
    ASSERT_TRUE(again.ok());
    EXPECT_EQ(again.value().index, e.value().index);
    EXPECT_NE(again.value().generation, e.value().generation);
    EXPECT_TRUE(refused(w, RVM_E_BAD_HANDLE, [&] { return w.k().destroy_edge(e.value()); }));
    EXPECT_TRUE(w.st().edges.contains(again.value()));
}

// --- devices ---------------------------------------------------------------

TEST_F(DeviceTest, RegisterIsWitnessedAndHardwareIdsAreUnique) {
    const std::size_t n = w.records();
    const DeviceId d = device(0xabcdef);
    ASSERT_FALSE(d.is_null());
    ASSERT_EQ(w.records(), n + 1);
    const WitnessRecord& rec = w.sink.records.back();
    EXPECT_EQ(rec.kind(), std::uint8_t{RVM_WK_DEVICE_REGISTER});
    EXPECT_EQ(rec.subject(), 0u);
    EXPECT_EQ(rec.object(), d.raw());
    EXPECT_EQ(rec.aux(), 0xabcdefu);
    EXPECT_EQ(w.st().devices.get(d)->hw_id, 0xabcdefu);
    EXPECT_TRUE(w.st().devices.get(d)->lease.is_null());
    EXPECT_TRUE(refused(w, RVM_E_BUSY, [&] { return w.k().register_device(0xabcdef); }));
    EXPECT_FALSE(device(0).is_null());
    EXPECT_TRUE(refused(w, RVM_E_BUSY, [&] { return w.k().register_device(0); }));
}

TEST_F(DeviceTest, TableExhaustionIsAStatus) {
    for (std::uint64_t i = 0; i < kMaxDevices; ++i) ASSERT_FALSE(device(100 + i).is_null());
    EXPECT_TRUE(refused(w, RVM_E_EXHAUSTED, [&] { return w.k().register_device(7); }));
}

// --- leases ----------------------------------------------------------------

TEST_F(LeaseTest, AcquireMintsALeaseCapabilityAndBindsTheDevice) {
    const PartitionId p = w.partition();
    const DeviceId d = device(0x51);
    const std::uint64_t now = w.clock.now_ns();
    const std::size_t n = w.records();
    const auto l = w.k().acquire_lease(p, d, 5000);
    ASSERT_TRUE(l.ok());
    const DeviceLease* lease = w.st().leases.get(l.value());
    ASSERT_NE(lease, nullptr);
    EXPECT_EQ(lease->device, d);
    EXPECT_EQ(lease->holder, p);
    EXPECT_EQ(lease->expires_ns, now + 5000);
    EXPECT_EQ(w.st().devices.get(d)->lease, l.value());
    EXPECT_EQ(rights_of(w, p, lease_obj(l.value())), kLeaseRights);
    EXPECT_EQ(holders(w, lease_obj(l.value())), 1u);
    EXPECT_TRUE(w.k().lease_valid(l.value()));
    ASSERT_EQ(w.records(), n + 1);
    const WitnessRecord& rec = w.sink.records.back();
    EXPECT_EQ(rec.kind(), std::uint8_t{RVM_WK_LEASE_ACQUIRE});
    EXPECT_EQ(rec.subject(), p.raw());
    EXPECT_EQ(rec.object(), l.value().raw());
    EXPECT_EQ(rec.aux(), now + 5000);
    EXPECT_EQ(rec.flags(), d.index << 8);
}

TEST_F(LeaseTest, DurationBounds) {
    const PartitionId p = w.partition();
    const DeviceId d = device(1);
    EXPECT_TRUE(refused(w, RVM_E_INVALID, [&] { return w.k().acquire_lease(p, d, 0); }));
    EXPECT_TRUE(refused(w, RVM_E_INVALID, [&] { return w.k().acquire_lease(p, d, kMaxLeaseNs + 1); }));
    EXPECT_TRUE(refused(w, RVM_E_INVALID, [&] { return w.k().acquire_lease(p, d, ~std::uint64_t{0}); }));
    for (const std::uint64_t ns : {std::uint64_t{1}, kMaxLeaseNs}) {
        const LeaseId l = lease(p, d, ns);
        ASSERT_FALSE(l.is_null());
        EXPECT_EQ(w.st().leases.get(l)->expires_ns, w.clock.now_ns() + ns);
        ASSERT_TRUE(w.k().revoke_lease(l).ok());
    }
    // Expiry must not wrap around the clock.
    w.clock.set(~std::uint64_t{0} - 10);
    EXPECT_TRUE(refused(w, RVM_E_INVALID, [&] { return w.k().acquire_lease(p, d, 11); }));
    const LeaseId last = lease(p, d, 10);
    ASSERT_FALSE(last.is_null());
    EXPECT_EQ(w.st().leases.get(last)->expires_ns, ~std::uint64_t{0});
}

TEST_F(LeaseTest, AcquireRefusals) {
    const PartitionId p = w.partition();
    const PartitionId q = w.partition();
    const DeviceId d = device(2);
    EXPECT_TRUE(refused(w, RVM_E_BAD_HANDLE, [&] { return w.k().acquire_lease(p, DeviceId{}, 100); }));
    EXPECT_TRUE(refused(w, RVM_E_BAD_HANDLE, [&] { return w.k().acquire_lease(p, DeviceId{d.index + 1, 1}, 100); }));
    EXPECT_TRUE(refused(w, RVM_E_BAD_HANDLE, [&] { return w.k().acquire_lease(p, DeviceId{d.index, 2}, 100); }));
    EXPECT_TRUE(refused(w, RVM_E_BAD_HANDLE, [&] { return w.k().acquire_lease(PartitionId{}, d, 100); }));
    const PartitionId failed = w.partition();
    ASSERT_TRUE(w.k().set_partition_state(failed, PartitionState::Failed).ok());
    EXPECT_TRUE(refused(w, RVM_E_BAD_HANDLE, [&] { return w.k().acquire_lease(failed, d, 100); }));
    const PartitionId full = w.partition();
    fill_table(full);
    EXPECT_TRUE(refused(w, RVM_E_EXHAUSTED, [&] { return w.k().acquire_lease(full, d, 100); }));

    // One lease per device, whoever asks.
    const LeaseId l = lease(p, d, 1000);
    ASSERT_FALSE(l.is_null());
    EXPECT_TRUE(refused(w, RVM_E_BUSY, [&] { return w.k().acquire_lease(p, d, 1000); }));
    EXPECT_TRUE(refused(w, RVM_E_BUSY, [&] { return w.k().acquire_lease(q, d, 1000); }));
    // Another device is independent.
    EXPECT_FALSE(lease(q, device(3), 1000).is_null());
}

TEST_F(LeaseTest, ValidityAndExpiryAtTheExactBoundary) {
    const PartitionId p = w.partition();
    const PartitionId q = w.partition();
    const DeviceId d = device(4);
    const std::uint64_t start = w.clock.now_ns();
    const LeaseId l = lease(p, d, 1000);
    ASSERT_FALSE(l.is_null());
    const std::uint64_t expires = start + 1000;

    w.clock.advance(999);  // now == expires - 1
    EXPECT_TRUE(w.k().lease_valid(l));
    {
        const auto before = std::make_unique<NucleusState>(w.st());
        const std::size_t n = w.records();
        EXPECT_EQ(w.k().expire_leases(), 0u);
        EXPECT_EQ(w.records(), n);
        EXPECT_TRUE(*before == w.st());
    }
    w.clock.advance(1);  // now == expires: the lease is over
    ASSERT_EQ(w.clock.now_ns(), expires);
    EXPECT_FALSE(w.k().lease_valid(l));
    // Until it is reaped the device is still bound to it.
    EXPECT_TRUE(refused(w, RVM_E_BUSY, [&] { return w.k().acquire_lease(q, d, 1000); }));

    const std::size_t n = w.records();
    EXPECT_EQ(w.k().expire_leases(), 1u);
    ASSERT_EQ(w.records(), n + 1);
    const WitnessRecord& rec = w.sink.records.back();
    EXPECT_EQ(rec.kind(), std::uint8_t{RVM_WK_LEASE_EXPIRE});
    EXPECT_EQ(rec.subject(), p.raw());
    EXPECT_EQ(rec.object(), l.raw());
    EXPECT_EQ(rec.aux(), expires);
    EXPECT_FALSE(w.st().leases.contains(l));
    EXPECT_EQ(holders(w, lease_obj(l)), 0u);
    EXPECT_TRUE(w.st().devices.get(d)->lease.is_null());
    EXPECT_EQ(w.k().expire_leases(), 0u);  // nothing left to expire
    EXPECT_TRUE(refused(w, RVM_E_BAD_HANDLE, [&] { return w.k().revoke_lease(l); }));
    EXPECT_TRUE(w.sync());

    // The device is leasable again, by anyone.
    const LeaseId again = lease(q, d, 10);
    ASSERT_FALSE(again.is_null());
    EXPECT_TRUE(w.k().lease_valid(again));
    EXPECT_FALSE(w.k().lease_valid(l));
}

TEST_F(LeaseTest, ExpireReapsOnlyTheLeasesThatAreDue) {
    const PartitionId p = w.partition();
    const LeaseId a = lease(p, device(10), 5);
    const LeaseId b = lease(p, device(11), 10);
    const LeaseId c = lease(p, device(12), 10);
    const LeaseId d = lease(p, device(13), 11);
    w.clock.advance(4);
    EXPECT_EQ(w.k().expire_leases(), 0u);
    w.clock.advance(1);
    EXPECT_EQ(w.k().expire_leases(), 1u);
    EXPECT_FALSE(w.st().leases.contains(a));
    w.clock.advance(5);
    EXPECT_EQ(w.k().expire_leases(), 2u);
    EXPECT_FALSE(w.st().leases.contains(b));
    EXPECT_FALSE(w.st().leases.contains(c));
    EXPECT_TRUE(w.st().leases.contains(d));
    EXPECT_TRUE(w.k().lease_valid(d));
    w.clock.advance(100);
    EXPECT_EQ(w.k().expire_leases(), 1u);
    EXPECT_EQ(w.st().leases.live(), 0u);
}

TEST_F(LeaseTest, RevokeUnbindsTheDeviceAndRemovesTheCapability) {
    const PartitionId p = w.partition();
    const PartitionId q = w.partition();
    const DeviceId d = device(5);
    const LeaseId l = lease(p, d, 1'000'000);
    ASSERT_FALSE(l.is_null());
    // The host also let q watch the lease.
    ASSERT_TRUE(w.k().grant(q, lease_obj(l), Rights{RVM_RIGHT_READ}).ok());
    EXPECT_EQ(holders(w, lease_obj(l)), 2u);

    const std::size_t n = w.records();
    ASSERT_TRUE(w.k().revoke_lease(l).ok());
    ASSERT_EQ(w.records(), n + 1);
    const WitnessRecord& rec = w.sink.records.back();
    EXPECT_EQ(rec.kind(), std::uint8_t{RVM_WK_LEASE_REVOKE});
    EXPECT_EQ(rec.subject(), p.raw());
    EXPECT_EQ(rec.object(), l.raw());
    EXPECT_FALSE(w.st().leases.contains(l));
    EXPECT_FALSE(w.k().lease_valid(l));
    EXPECT_EQ(holders(w, lease_obj(l)), 0u);
    EXPECT_TRUE(w.st().devices.get(d)->lease.is_null());
    EXPECT_TRUE(refused(w, RVM_E_BAD_HANDLE, [&] { return w.k().revoke_lease(l); }));
    EXPECT_TRUE(refused(w, RVM_E_BAD_HANDLE, [&] { return w.k().revoke_lease(LeaseId{}); }));
    EXPECT_FALSE(w.k().lease_valid(LeaseId{}));
    // Nothing left to expire, and the device is leasable again.
    w.clock.advance(2'000'000);
    EXPECT_EQ(w.k().expire_leases(), 0u);
    const LeaseId again = lease(q, d, 100);
    ASSERT_FALSE(again.is_null());
    EXPECT_EQ(again.index, l.index);
    EXPECT_NE(again.generation, l.generation);
    EXPECT_FALSE(w.k().lease_valid(l));
}

TEST_F(LeaseTest, DestroyingTheHolderReleasesTheDevice) {
    const PartitionId p = w.partition();
    const PartitionId q = w.partition();
    const DeviceId d = device(6);
    const LeaseId l = lease(p, d, 1000);
    ASSERT_FALSE(l.is_null());
    ASSERT_TRUE(w.k().destroy_partition(p).ok());
    EXPECT_FALSE(w.st().leases.contains(l));
    EXPECT_TRUE(w.st().devices.get(d)->lease.is_null());
    EXPECT_FALSE(lease(q, d, 1000).is_null());
}

}  // namespace
}  // namespace rvm
