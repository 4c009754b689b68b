// World: a nucleus wired for tests: real SipHash, a manual clock, a witness
// log captured in memory, and a replica kernel that replays every record.
#pragma once

#include <gtest/gtest.h>

#include <cstring>
#include <map>
#include <memory>
#include <vector>

#include "backend/fake/fake_guest_memory.hpp"
#include "host/witness/sodium_hash.hpp"
#include "nucleus/kernel.hpp"
#include "nucleus/syscalls.hpp"

namespace rvm::test {

class CaptureSink final : public WitnessSink {
public:
    std::vector<WitnessRecord> records;
    void accept(const WitnessRecord& r) override { records.push_back(r); }
    void segment_closed(std::uint64_t, const MacKey&) override {}
};

using FakeMemory = fake::FakeGuestMemory;

struct World {
    host::SodiumHash hash;
    ManualClock clock{1'000'000};
    CaptureSink sink;
    MacKey proof_key;
    std::unique_ptr<WitnessLog> log;
    std::unique_ptr<Kernel> kernel;
    std::unique_ptr<Kernel> replica;  // fed every record by sync()
    std::size_t replayed = 0;
    FakeMemory memory;
    std::unique_ptr<Syscalls> syscalls;

    World() {
        EXPECT_TRUE(host::sodium_ready());
        proof_key = host::random_mac_key();
        log = std::make_unique<WitnessLog>(hash, clock, host::random_mac_key(), &sink);
        kernel = std::make_unique<Kernel>(KernelEnv{hash, clock, proof_key, ProofPolicy{}, log.get()});
        replica = std::make_unique<Kernel>(KernelEnv{hash, clock, proof_key, ProofPolicy{}, nullptr});
        syscalls = std::make_unique<Syscalls>(*kernel);
    }

    Kernel& k() { return *kernel; }
    const NucleusState& st() const { return kernel->state(); }
    std::size_t records() const { return sink.records.size(); }

    // Applies the records appended since the last sync to the replica.
    // Returns false (with a message) on the first record that fails.
    ::testing::AssertionResult sync() {
        for (; replayed < sink.records.size(); ++replayed) {
            const auto r = replica->apply(sink.records[replayed]);
            if (!r) {
                return ::testing::AssertionFailure()
                       << "replay of record " << replayed << " (kind 0x" << std::hex
                       << int{sink.records[replayed].kind()} << ") failed: " << status_name(r.error().code);
            }
        }
        if (!(replica->state() == kernel->state())) return ::testing::AssertionFailure() << "replica diverged";
        return ::testing::AssertionSuccess();
    }

    PartitionId partition(PartitionConfig c = {}) {
        const auto p = kernel->create_partition(PartitionId{}, c);
        EXPECT_TRUE(p.ok());
        return p.value();
    }
    // The partition's capability to itself (minted at creation).
    CapHandle self_cap(PartitionId p) const { return cap_to(p, ObjectRef{RVM_OBJ_PARTITION, p.raw()}); }
    CapHandle cap_to(PartitionId holder, ObjectRef o) const { return kernel->state().caps.handle_of(holder.index, o); }

    // A token for `call` written into guest memory at `gpa`; returns the frame
    // with args and the token pointer set.
    SyscallFrame proved(PartitionId p, CapHandle prove_cap, std::uint64_t call, std::array<std::uint64_t, 5> args,
                        std::uint8_t tier = RVM_PROOF_STANDARD, std::uint64_t gpa = 0x1000) {
        const auto t = kernel->mint_proof(p, prove_cap, tier, static_cast<std::uint32_t>(call), args,
                                          clock.now_ns() + 1'000'000'000);
        EXPECT_TRUE(t.ok());
        memory.write(p, gpa, &t.value().raw, sizeof t.value().raw);
        return SyscallFrame{call, {args[0], args[1], args[2], args[3], args[4], gpa}};
    }
    rvm_ret_t call(PartitionId p, const SyscallFrame& f) { return syscalls->dispatch(p, f, memory); }
};

// Runs `op`, which must fail with `s` without changing any state or
// appending any witness record.
template <typename F>
::testing::AssertionResult refused(World& w, rvm_status s, F&& op) {
    const auto before = std::make_unique<NucleusState>(w.st());
    const std::size_t n = w.records();
    const auto r = op();
    if (r.ok()) return ::testing::AssertionFailure() << "succeeded, expected " << status_name(s);
    if (r.error().code != s) {
        return ::testing::AssertionFailure()
               << "failed with " << status_name(r.error().code) << ", expected " << status_name(s);
    }
    if (w.records() != n) return ::testing::AssertionFailure() << "appended " << (w.records() - n) << " record(s)";
    if (!(*before == w.st())) return ::testing::AssertionFailure() << "changed the nucleus state";
    return ::testing::AssertionSuccess();
}

// Live capabilities, in every table, naming `o`.
inline std::uint32_t holders(const World& w, ObjectRef o) {
    std::uint32_t n = 0;
    for (std::uint32_t t = 0; t < kMaxPartitions; ++t) {
        for (const CapSpace::Slot& s : w.st().caps.table(t)) n += (s.live && s.cap.object == o) ? 1u : 0u;
    }
    return n;
}

// RVM_ERR_STATUS / RVM_ERR_ARG of abi/status.h, without the C casts.
inline rvm_status status_of(rvm_ret_t r) { return r >= 0 ? RVM_OK : static_cast<rvm_status>((-r) & 0xff); }
inline std::uint32_t arg_of(rvm_ret_t r) { return r >= 0 ? 0u : static_cast<std::uint32_t>(((-r) >> 8) & 0x7); }

}  // namespace rvm::test
