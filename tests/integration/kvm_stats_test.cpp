// Per-vCPU KVM binary statistics on the real backend (label kvm): the stats
// fd of a fresh vCPU parses, `exits` is present and readable, and a tiny
// CPL3 guest that loops on `out` to the hypercall port makes `exits` (and
// io_exits + insn_emulation) grow by at least one per KVM_RUN. Prints which
// statistics this host offers.
#include <array>
#include <cinttypes>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <memory>
#include <variant>

#include "abi/agent.h"
#include "backend/kvm/guest_ram.hpp"
#include "backend/kvm/kvm_stats.hpp"
#include "backend/kvm/kvm_vcpu.hpp"
#include "backend/kvm/kvm_vm.hpp"
#include "backend/kvm/page_tables.hpp"
#include "integration/kvm_support.hpp"

namespace rvm::test {
namespace {

using kvm::KvmStats;
using kvm::VcpuCounters;
using kvm::VcpuStat;

class KvmStatsKvm : public KvmTest {};

// 64 KiB of guest memory: the TSS at 0, the code at 0x1000, page tables from
// 0x2000; identity-mapped.
constexpr std::uint64_t kRam = 64 * 1024;
constexpr std::uint64_t kTss = 0x0000;
constexpr std::uint64_t kCode = 0x1000;
constexpr std::uint64_t kTables = 0x2000;

// A VM whose vCPU runs `1: out %eax, $RVM_HC_PORT; jmp 1b` at CPL3.
struct TinyGuest {
    kvm::GuestRam ram;
    kvm::KvmVm vm;
    kvm::KvmVcpu vcpu;
};

std::unique_ptr<TinyGuest> make_guest(const kvm::KvmSystem& sys) {
    auto ram = kvm::GuestRam::create(kRam, "kvm-stats-test");
    EXPECT_TRUE(ram.ok()) << kvm::describe(ram.error());
    auto vm = kvm::KvmVm::create(sys);
    EXPECT_TRUE(vm.ok()) << kvm::describe(vm.error());
    if (!ram || !vm) return nullptr;
    auto vcpu = kvm::KvmVcpu::create(vm.value(), 0);
    EXPECT_TRUE(vcpu.ok()) << kvm::describe(vcpu.error());
    if (!vcpu) return nullptr;
    auto g = std::make_unique<TinyGuest>(std::move(ram.value()), std::move(vm.value()), std::move(vcpu.value()));
    const auto mem = g->ram.bytes();
    const std::array<std::uint8_t, 4> code = {0xe7, static_cast<std::uint8_t>(RVM_HC_PORT), 0xeb, 0xfc};
    std::memcpy(mem.data() + kCode, code.data(), code.size());
    kvm::PageTableBuilder pt(mem, kTables, kTables + kvm::PageTableBuilder::table_pages_for(kRam) * 4096);
    EXPECT_TRUE(pt.map(kTss, kTss, 4096, {false, false, false}));
    EXPECT_TRUE(pt.map(kCode, kCode, 4096, {false, true, true}));
    kvm::AgentStart start;
    start.cr3 = pt.root();
    start.tss_base = kTss;
    start.tss_limit = kvm::write_agent_tss(mem.subspan(kTss).first<4096>(), RVM_HC_PORT);
    start.regs.rip = kCode;
    EXPECT_TRUE(g->vm.add_memslot(0, 0, g->ram).ok());
    EXPECT_TRUE(g->vcpu.set_agent_state(start).ok());
    return g;
}

VcpuCounters sample(const KvmStats& s) {
    VcpuCounters c;
    const auto r = s.read(c);
    EXPECT_TRUE(r.ok()) << kvm::describe(r.error());
    return c;
}

TEST_F(KvmStatsKvm, ExitsPresentReadableAndMonotonic) {
    ASSERT_TRUE(sys().stats_fd()) << "this host's KVM lacks KVM_CAP_BINARY_STATS_FD (kvm)";
    auto g = make_guest(sys());
    ASSERT_NE(g, nullptr);
    auto s = KvmStats::open(g->vcpu.fd());
    ASSERT_TRUE(s.ok()) << kvm::describe(s.error());
    const KvmStats& stats = s.value();
    EXPECT_TRUE((stats.present_mask() & kvm::stat_bit(VcpuStat::exits)) != 0);

    const VcpuCounters a = sample(stats);
    const VcpuCounters b = sample(stats);
    ASSERT_TRUE(a.has(VcpuStat::exits));
    EXPECT_GE(b.exits, a.exits);

    constexpr int kRuns = 20;
    for (int i = 0; i < kRuns; ++i) {
        const auto exit = g->vcpu.run();
        ASSERT_TRUE(exit.ok()) << kvm::describe(exit.error());
        ASSERT_TRUE(std::holds_alternative<backend::exits::Hypercall>(exit.value())) << "run " << i;
    }
    const VcpuCounters c = sample(stats);
    EXPECT_GE(c.exits, b.exits + kRuns);
    for (std::size_t i = 0; i < kvm::kVcpuStatCount; ++i) {
        const auto st = static_cast<VcpuStat>(i);
        if (c.has(st)) {
            EXPECT_GE(c.get(st), b.get(st)) << kvm::stat_name(st) << " went backwards";
        }
    }
    // Each `out` is counted as an io_exit on VT-x/AMD-V (kvm_fast_pio) but as
    // an insn_emulation on PVM (measured here: io_exits stays 0): their sum
    // grows by one per run on both.
    if (c.has(VcpuStat::io_exits) && c.has(VcpuStat::insn_emulation)) {
        EXPECT_GE(c.io_exits + c.insn_emulation, b.io_exits + b.insn_emulation + kRuns);
    }
    std::printf("[ stats    ] after %d runs:", kRuns);
    for (std::size_t i = 0; i < kvm::kVcpuStatCount; ++i) {
        const auto st = static_cast<VcpuStat>(i);
        if (c.has(st)) std::printf(" %s=%" PRIu64, kvm::stat_name(st), c.get(st));
    }
    std::printf("\n");
}

TEST_F(KvmStatsKvm, PrintsTheHostCatalog) {
    ASSERT_TRUE(sys().stats_fd()) << "this host's KVM lacks KVM_CAP_BINARY_STATS_FD (kvm)";
    auto vm = kvm::KvmVm::create(sys());
    ASSERT_TRUE(vm.ok());
    auto vcpu = kvm::KvmVcpu::create(vm.value(), 0);
    ASSERT_TRUE(vcpu.ok());
    auto s = KvmStats::open(vcpu.value().fd());
    ASSERT_TRUE(s.ok()) << kvm::describe(s.error());
    const auto cat = s.value().catalog();
    ASSERT_TRUE(cat.ok()) << kvm::describe(cat.error());
    EXPECT_FALSE(cat.value().empty());
    std::printf("[ stats    ] this host offers %zu vCPU statistics (wanted mask 0x%x):\n", cat.value().size(),
                s.value().present_mask());
    for (const auto& d : cat.value()) {
        std::printf("[ stats    ]   %-28s %-11s unit=%-7s exp=%-3d size=%u\n", d.name.c_str(),
                    kvm::stat_type_name(d.flags), kvm::stat_unit_name(d.flags), d.exponent, d.size);
    }
    for (std::size_t i = 0; i < kvm::kVcpuStatCount; ++i) {
        const auto st = static_cast<VcpuStat>(i);
        if ((s.value().present_mask() & kvm::stat_bit(st)) == 0)
            std::printf("[ stats    ] absent: %s\n", kvm::stat_name(st));
    }
}

}  // namespace
}  // namespace rvm::test
