// libFuzzer target: hostile witness files and hostile witness records.
// (1) The reader and the audit take arbitrary bytes: they must answer, never
//     crash or read out of bounds.
// (2) Replay takes arbitrary records: apply() must refuse what it cannot do
//     and never break the nucleus invariants.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <span>

#include "host/witness/sodium_hash.hpp"
#include "host/witness/witness_audit.hpp"
#include "host/witness/witness_reader.hpp"
#include "nucleus/assert.hpp"
#include "nucleus/kernel.hpp"

namespace {

using namespace rvm;

void fuzz_file(std::span<const std::uint8_t> bytes) {
    const host::AuditReport report = host::audit_witness(bytes, host::AuditOptions{});
    RVM_ASSERT(report.records <= bytes.size() / 64);
    (void)host::describe(report);
    const auto reader = host::WitnessReader::open(bytes);
    if (!reader) return;
    for (std::uint64_t i = 0; i < reader.value().record_count(); ++i) (void)reader.value().record(i);
    for (const host::SegmentView& v : reader.value().segments()) {
        if (v.sealed) (void)reader.value().seal(v);
    }
}

void fuzz_replay(std::span<const std::uint8_t> bytes) {
    static host::SodiumHash hash;
    ManualClock clock;
    auto k = std::make_unique<Kernel>(KernelEnv{hash, clock, MacKey{}, ProofPolicy{}, nullptr});
    // A little state for hostile records to aim at.
    const PartitionId p = k->create_partition({}, PartitionConfig{}).value();
    (void)k->create_region(p, 4, RVM_REGION_IMMUTABLE, RVM_TIER_HOT);
    (void)k->spawn_task(p);
    for (std::size_t off = 0; off + 64 <= bytes.size(); off += 64) {
        const auto r = WitnessRecord::from_bytes(std::span<const std::uint8_t, 64>(bytes.data() + off, 64));
        (void)k->apply(r);
        RVM_ASSERT(k->invariants_hold());
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    RVM_ASSERT(host::sodium_ready());
    if (size == 0) return 0;
    const std::span<const std::uint8_t> rest(data + 1, size - 1);
    if (data[0] & 1) {
        fuzz_file(rest);
    } else {
        fuzz_replay(rest);
    }
    return 0;
}
