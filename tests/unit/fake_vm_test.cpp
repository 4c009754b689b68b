// The fake backend's VM: memslots and vCPU ids kept, and refused, as KVM does.
#include <gtest/gtest.h>

#include <cerrno>

#include "backend/fake/fake_vm.hpp"

namespace rvm {
namespace {

using fake::FakeRam;
using fake::FakeVm;

constexpr std::uint64_t kMiB = std::uint64_t{1} << 20;

TEST(FakeVm, MemslotsMapAndTranslate) {
    FakeVm vm;
    const FakeRam ram(2 * kMiB);
    ASSERT_TRUE(vm.add_memslot(0, 0x100000, ram, 0, kMiB, false).ok());
    ASSERT_TRUE(vm.add_memslot(1, 0x200000, ram, kMiB, kMiB, true).ok());
    const auto t = vm.translate(0x200000 + 5);
    ASSERT_TRUE(t.has_value());
    EXPECT_EQ(t->slot, 1u);
    EXPECT_EQ(t->ram, &ram);
    EXPECT_EQ(t->ram_offset, kMiB + 5);
    EXPECT_TRUE(t->readonly);
    EXPECT_FALSE(vm.translate(0xfffff).has_value());
    EXPECT_FALSE(vm.translate(0x300000).has_value());
    EXPECT_EQ(vm.memslots().size(), 2u);
}

TEST(FakeVm, OverlappingOrMalformedMemslotsAreRefused) {
    FakeVm vm;
    const FakeRam ram(4 * kMiB);
    ASSERT_TRUE(vm.add_memslot(0, kMiB, ram, 0, kMiB, false).ok());
    const auto overlap = vm.add_memslot(1, kMiB + 4096, ram, 0, 4096, false);
    ASSERT_FALSE(overlap.ok());
    EXPECT_EQ(overlap.error().err, EEXIST);
    EXPECT_FALSE(vm.add_memslot(1, 0, ram, 0, kMiB + 4096, false).ok());  // runs into slot 0
    EXPECT_FALSE(vm.add_memslot(0, 8 * kMiB, ram, 0, 4096, false).ok());  // slot 0 is taken
    EXPECT_FALSE(vm.add_memslot(2, 8 * kMiB + 1, ram, 0, 4096, false).ok());
    EXPECT_FALSE(vm.add_memslot(2, 8 * kMiB, ram, 0, 0, false).ok());
    EXPECT_FALSE(vm.add_memslot(2, 8 * kMiB, ram, 4 * kMiB, 4096, false).ok());  // past the RAM
    EXPECT_FALSE(vm.add_memslot(2, ~std::uint64_t{0} & ~(FakeVm::kPage - 1), ram, 0, 8192, false).ok());
    EXPECT_FALSE(vm.add_memslot(FakeVm::kMaxMemslots, 8 * kMiB, ram, 0, 4096, false).ok());
    EXPECT_EQ(vm.memslots().size(), 1u);  // nothing refused was kept
    // Adjacent is not overlapping.
    EXPECT_TRUE(vm.add_memslot(1, 2 * kMiB, ram, 0, kMiB, false).ok());
}

TEST(FakeVm, DeleteFreesTheRangeAndUnknownSlotsAreRefused) {
    FakeVm vm;
    const FakeRam ram(kMiB);
    ASSERT_TRUE(vm.add_memslot(3, 0, ram, 0, kMiB, false).ok());
    EXPECT_FALSE(vm.remove_memslot(4).ok());
    ASSERT_TRUE(vm.remove_memslot(3).ok());
    EXPECT_FALSE(vm.remove_memslot(3).ok());
    EXPECT_FALSE(vm.translate(0).has_value());
    EXPECT_TRUE(vm.add_memslot(4, 0, ram, 0, kMiB, true).ok());  // the range is free again
}

TEST(FakeVm, VcpuIdsAreUniqueAndBounded) {
    FakeVm vm(3);
    EXPECT_EQ(vm.max_vcpus(), 3u);
    for (std::uint32_t want = 0; want < 3; ++want) {
        const std::uint32_t id = vm.next_vcpu_id();
        EXPECT_EQ(id, want);
        EXPECT_TRUE(vm.create_vcpu(id).ok());
    }
    const auto again = vm.create_vcpu(1);
    ASSERT_FALSE(again.ok());
    EXPECT_EQ(again.error().err, EEXIST);
    EXPECT_FALSE(vm.create_vcpu(3).ok());  // beyond max_vcpus
    EXPECT_EQ(vm.vcpu_ids().size(), 3u);
}

TEST(FakeVm, MsrsAreRoutedOnceBeforeTheFirstVcpu) {
    FakeVm vm;
    EXPECT_FALSE(vm.route_msrs(0x4b564d00, 0).ok());
    EXPECT_FALSE(vm.route_msrs(0x4b564d00, 65).ok());
    ASSERT_TRUE(vm.route_msrs(0x4b564d00, 3).ok());
    EXPECT_TRUE(vm.routes_msr(0x4b564d02));
    EXPECT_FALSE(vm.routes_msr(0x4b564d03));
    EXPECT_FALSE(vm.route_msrs(0x10, 1).ok());  // once per VM
    FakeVm late;
    ASSERT_TRUE(late.create_vcpu(late.next_vcpu_id()).ok());
    EXPECT_FALSE(late.route_msrs(0x10, 1).ok());  // after a vCPU exists
}

TEST(FakeVm, ACreatedVcpuRunsAsAFakeVcpu) {
    FakeVm vm;
    auto v = vm.create_vcpu(vm.next_vcpu_id());
    ASSERT_TRUE(v.ok());
    const auto e = v.value().run();
    ASSERT_TRUE(e.ok());
    EXPECT_TRUE(std::holds_alternative<backend::exits::Preempted>(e.value()));
}

}  // namespace
}  // namespace rvm
