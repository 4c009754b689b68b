// Capability and proof checks (DESIGN.md 3: Reflex < 100 ns, Standard
// < 100 us, Deep < 10 ms). Baselines in the same run: a std::unordered_map
// lookup (the obvious capability table) and one bare SipHash-2-4 over the
// same 80 bytes a token MAC covers.
#include <benchmark/benchmark.h>

#include <sodium.h>

#include <memory>
#include <unordered_map>

#include "abi/hypercall.h"
#include "host/witness/sodium_hash.hpp"
#include "nucleus/kernel.hpp"

namespace {

using namespace rvm;

struct Bench {
    host::SodiumHash hash;
    ManualClock clock{1'000'000};
    std::unique_ptr<Kernel> k;
    PartitionId p;
    CapHandle self;

    Bench() {
        (void)host::sodium_ready();
        k = std::make_unique<Kernel>(KernelEnv{hash, clock, host::random_mac_key(), ProofPolicy{}, nullptr});
        p = k->create_partition(PartitionId{}, PartitionConfig{}).value();
        self = CapHandle{0, k->state().caps.table(p.index)[0].generation};
        // A realistic table: 100 capabilities live.
        for (int i = 0; i < 100; ++i) (void)k->create_region(p, 1, RVM_REGION_SLAB, RVM_TIER_HOT);
    }
};

void BM_Baseline_UnorderedMapCapLookup(benchmark::State& state) {
    std::unordered_map<std::uint64_t, Capability> table;
    for (std::uint64_t i = 0; i < 100; ++i) {
        Capability c;
        c.object = ObjectRef{RVM_OBJ_REGION, i};
        c.rights = Rights::all();
        table[i * 7919] = c;
    }
    std::uint64_t i = 0;
    for (auto _ : state) {
        const auto it = table.find((i++ % 100) * 7919);
        benchmark::DoNotOptimize(it != table.end() && it->second.rights.has(RVM_RIGHT_READ));
    }
}
BENCHMARK(BM_Baseline_UnorderedMapCapLookup);

void BM_CapLookup(benchmark::State& state) {
    Bench b;
    const auto& t = b.k->state().caps.table(b.p.index);
    std::uint32_t i = 0;
    for (auto _ : state) {
        const std::uint32_t slot = 1 + (i++ % 100);
        const auto c = b.k->state().caps.lookup(b.p.index, CapHandle{slot, t[slot].generation}, RVM_OBJ_REGION,
                                                Rights{RVM_RIGHT_READ});
        benchmark::DoNotOptimize(c.ok());
    }
}
BENCHMARK(BM_CapLookup);

void BM_Baseline_SipHash80(benchmark::State& state) {
    (void)host::sodium_ready();
    unsigned char key[crypto_shorthash_KEYBYTES] = {1};
    unsigned char msg[80] = {2};
    unsigned char out[crypto_shorthash_BYTES];
    for (auto _ : state) {
        crypto_shorthash(out, msg, sizeof msg, key);
        benchmark::DoNotOptimize(out);
        ++msg[0];
    }
}
BENCHMARK(BM_Baseline_SipHash80);

void proof_check(benchmark::State& state, std::uint8_t tier) {
    Bench b;
    const CallArgs args{1, 2, 3, 4, 5};
    const auto t = b.k->mint_proof(b.p, b.self, tier, RVM_HC_COMMEDGE_CREATE, args, 2'000'000).value();
    for (auto _ : state) {
        const auto r = b.k->check_proof(b.p, t, RVM_HC_COMMEDGE_CREATE, args, tier);
        benchmark::DoNotOptimize(r.ok());
    }
}
void BM_ProofCheck_Reflex(benchmark::State& s) { proof_check(s, RVM_PROOF_REFLEX); }
void BM_ProofCheck_Standard(benchmark::State& s) { proof_check(s, RVM_PROOF_STANDARD); }
void BM_ProofCheck_Deep(benchmark::State& s) { proof_check(s, RVM_PROOF_DEEP); }
BENCHMARK(BM_ProofCheck_Reflex);
BENCHMARK(BM_ProofCheck_Standard);
BENCHMARK(BM_ProofCheck_Deep);

// Mint + check + consume: the whole life of a token.
void BM_ProofMintCheckConsume_Standard(benchmark::State& state) {
    Bench b;
    const CallArgs args{1, 2, 3, 4, 5};
    for (auto _ : state) {
        const auto t = b.k->mint_proof(b.p, b.self, RVM_PROOF_STANDARD, 17, args, 2'000'000).value();
        const auto r = b.k->check_proof(b.p, t, 17, args, RVM_PROOF_STANDARD);
        b.k->consume_proof(b.p, t, r.value());
    }
}
BENCHMARK(BM_ProofMintCheckConsume_Standard);

}  // namespace
