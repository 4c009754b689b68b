// Per-vCPU KVM statistics, read every epoch for every vCPU (DESIGN.md
// section 6), against a baseline in the same run:
//   BM_KvmStats_Read             KvmStats::read: one pread covering the wanted
//                                counters (128 bytes on x86) and the decode
//   BM_Baseline_Pread8           one 8-byte pread of `exits` from the same fd
//   BM_Naive_PreadPerCounter     one 8-byte pread per wanted counter (what
//                                read() avoids)
//   BM_KvmStats_Open             KVM_GET_STATS_FD + header/descriptor parse,
//                                once per vCPU (for context)
// Goal: read within 1.5x of the baseline. Without /dev/kvm every benchmark
// here skips with "KVM ...".
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <memory>
#include <optional>
#include <string>

#include "backend/kvm/kvm_stats.hpp"
#include "backend/kvm/kvm_system.hpp"
#include "backend/kvm/kvm_vcpu.hpp"
#include "backend/kvm/kvm_vm.hpp"

namespace {

using namespace rvm;

// One VM with one (never run) vCPU and its stats.
struct StatsEnv {
    std::optional<kvm::KvmSystem> sys;
    std::optional<kvm::KvmVm> vm;
    std::optional<kvm::KvmVcpu> vcpu;
    std::optional<kvm::KvmStats> stats;
    std::string error;

    StatsEnv() {
        auto s = kvm::KvmSystem::open();
        if (!s) {
            error = "KVM unavailable: " + kvm::describe(s.error());
            return;
        }
        sys.emplace(std::move(s.value()));
        auto v = kvm::KvmVm::create(*sys);
        if (!v) {
            error = "KVM VM: " + kvm::describe(v.error());
            return;
        }
        vm.emplace(std::move(v.value()));
        auto c = kvm::KvmVcpu::create(*vm, 0);
        if (!c) {
            error = "KVM vCPU: " + kvm::describe(c.error());
            return;
        }
        vcpu.emplace(std::move(c.value()));
        auto st = kvm::KvmStats::open(vcpu->fd());
        if (!st) {
            error = "KVM stats: " + kvm::describe(st.error());
            return;
        }
        stats.emplace(std::move(st.value()));
        if (stats->layout().present_mask == 0) error = "KVM stats: no wanted counter on this host";
    }
};

StatsEnv& env() {
    static StatsEnv e;
    return e;
}

std::uint64_t file_offset(kvm::VcpuStat s) {
    const auto& l = env().stats->layout();
    return l.data_offset + l.offset[static_cast<std::size_t>(s)];
}

void BM_KvmStats_Read(benchmark::State& state) {
    if (!env().error.empty()) {
        state.SkipWithError(env().error.c_str());
        return;
    }
    kvm::VcpuCounters c;
    for (auto _ : state) {
        if (!env().stats->read(c).ok()) {
            state.SkipWithError("KvmStats::read failed");
            return;
        }
        benchmark::DoNotOptimize(c);
    }
    state.counters["bytes"] = env().stats->read_bytes();
}
BENCHMARK(BM_KvmStats_Read);

void BM_Baseline_Pread8(benchmark::State& state) {
    if (!env().error.empty()) {
        state.SkipWithError(env().error.c_str());
        return;
    }
    const int fd = env().stats->fd();
    const auto off = static_cast<off_t>(file_offset(kvm::VcpuStat::exits));
    std::uint64_t v = 0;
    for (auto _ : state) {
        if (::pread(fd, &v, sizeof v, off) != sizeof v) {
            state.SkipWithError("pread failed");
            return;
        }
        benchmark::DoNotOptimize(v);
    }
}
BENCHMARK(BM_Baseline_Pread8);

void BM_Naive_PreadPerCounter(benchmark::State& state) {
    if (!env().error.empty()) {
        state.SkipWithError(env().error.c_str());
        return;
    }
    const int fd = env().stats->fd();
    const std::uint32_t mask = env().stats->present_mask();
    std::uint64_t v = 0;
    for (auto _ : state) {
        for (std::size_t i = 0; i < kvm::kVcpuStatCount; ++i) {
            if ((mask & (1u << i)) == 0) continue;
            const auto off = static_cast<off_t>(file_offset(static_cast<kvm::VcpuStat>(i)));
            if (::pread(fd, &v, sizeof v, off) != sizeof v) {
                state.SkipWithError("pread failed");
                return;
            }
            benchmark::DoNotOptimize(v);
        }
    }
}
BENCHMARK(BM_Naive_PreadPerCounter);

void BM_KvmStats_Open(benchmark::State& state) {
    if (!env().error.empty()) {
        state.SkipWithError(env().error.c_str());
        return;
    }
    for (auto _ : state) {
        auto s = kvm::KvmStats::open(env().vcpu->fd());
        if (!s) {
            state.SkipWithError("KvmStats::open failed");
            return;
        }
        benchmark::DoNotOptimize(s.value().present_mask());
    }
}
BENCHMARK(BM_KvmStats_Open)->Unit(benchmark::kMicrosecond);

}  // namespace
