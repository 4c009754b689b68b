// BuddyAllocator: one allocate + free pair of mixed sizes (1 B .. 1 MiB) per
// iteration, with `background` blocks already live (the first-fit scan and the
// sorted insert are O(live), live <= 64). Baseline in the same run: glibc
// malloc/free of the same sizes with the same number of live background blocks.
#include <benchmark/benchmark.h>

#include <array>
#include <cstdint>
#include <cstdlib>
#include <random>
#include <vector>

#include "nucleus/buddy.hpp"

namespace {

using rvm::BuddyAllocator;

constexpr std::size_t kSizes = 1024;  // a power of two: index with & (kSizes - 1)

// Log-uniform sizes from 1 B to 1 MiB, fixed seed: the same for every benchmark.
const std::array<std::uint64_t, kSizes>& sizes() {
    static const std::array<std::uint64_t, kSizes> s = [] {
        std::array<std::uint64_t, kSizes> out{};
        std::mt19937_64 rng(0xb0dd1e);
        std::uniform_int_distribution<unsigned> shift(0, 20);
        for (auto& v : out) {
            const std::uint64_t hi = std::uint64_t{1} << shift(rng);
            v = std::uniform_int_distribution<std::uint64_t>(hi / 2 + 1, hi)(rng);
        }
        return out;
    }();
    return s;
}

void BM_Baseline_MallocFree(benchmark::State& state) {
    const auto& sz = sizes();
    std::vector<void*> background;
    for (std::int64_t i = 0; i < state.range(0); ++i)
        background.push_back(std::malloc(sz[static_cast<std::size_t>(i) * 7 % kSizes]));
    std::size_t i = 0;
    for (auto _ : state) {
        void* p = std::malloc(sz[i++ & (kSizes - 1)]);
        benchmark::DoNotOptimize(p);
        std::free(p);
    }
    for (void* p : background) std::free(p);
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Baseline_MallocFree)->Arg(0)->Arg(32)->Arg(63);

void BM_BuddyAllocFree(benchmark::State& state) {
    const auto& sz = sizes();
    auto created = BuddyAllocator::create(std::uint64_t{1} << 32, 32);  // 4 GiB: never out of memory here
    if (!created.ok()) {
        state.SkipWithError("create failed");
        return;
    }
    BuddyAllocator a = created.value();
    for (std::int64_t i = 0; i < state.range(0); ++i) {
        if (!a.allocate(sz[static_cast<std::size_t>(i) * 7 % kSizes]).ok()) {
            state.SkipWithError("background allocate failed");
            return;
        }
    }
    std::size_t i = 0;
    bool ok = true;
    for (auto _ : state) {
        const std::uint64_t bytes = sz[i++ & (kSizes - 1)];
        auto r = a.allocate(bytes);
        ok &= r.ok();
        benchmark::DoNotOptimize(r);
        ok &= a.free(r.ok() ? r.value() : 0, bytes).ok();
    }
    if (!ok) state.SkipWithError("allocate/free failed");
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_BuddyAllocFree)->Arg(0)->Arg(32)->Arg(63);

}  // namespace
