// libFuzzer target: arbitrary hypercall frames from arbitrary partitions
// against a populated nucleus. Every result must be a valid ABI value, and the
// nucleus invariants must hold after every call (RVM_ASSERT aborts otherwise).
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>

#include "abi/hypercall.h"
#include "backend/fake/fake_guest_memory.hpp"
#include "host/witness/sodium_hash.hpp"
#include "nucleus/assert.hpp"
#include "nucleus/kernel.hpp"
#include "nucleus/syscalls.hpp"

namespace {

using namespace rvm;

struct Fixture {
    host::SodiumHash hash;
    ManualClock clock{1'000'000};
    std::unique_ptr<Kernel> k;
    fake::FakeGuestMemory mem;
    PartitionId parts[3];

    Fixture() {
        RVM_ASSERT(host::sodium_ready());
        k = std::make_unique<Kernel>(KernelEnv{hash, clock, MacKey{}, ProofPolicy{}, nullptr});
        for (auto& p : parts) p = k->create_partition({}, PartitionConfig{}).value();
        (void)k->create_region(parts[0], 4, RVM_REGION_IMMUTABLE, RVM_TIER_HOT);
        (void)k->create_region(parts[1], 2, RVM_REGION_SLAB, RVM_TIER_HOT);
        (void)k->grant(parts[0], ObjectRef{RVM_OBJ_PARTITION, parts[1].raw()}, Rights::all());
        (void)k->grant(parts[1], ObjectRef{RVM_OBJ_PARTITION, parts[2].raw()}, Rights{RVM_RIGHT_WRITE});
        const DeviceId d = k->register_device(7).value();
        (void)k->grant(parts[2], ObjectRef{RVM_OBJ_DEVICE, d.raw()}, Rights{RVM_RIGHT_LEASE});
        // Some readable guest memory, including a few genuine tokens.
        std::uint8_t junk[256];
        for (std::size_t i = 0; i < sizeof junk; ++i) junk[i] = static_cast<std::uint8_t>(i * 37);
        for (const auto& p : parts) mem.write(p, 0x1000, junk, sizeof junk);
        for (std::uint64_t i = 0; i < 3; ++i) {
            const CapHandle self{0, k->state().caps.table(parts[i].index)[0].generation};
            const auto t = k->mint_proof(parts[i], self, RVM_PROOF_STANDARD, RVM_HC_COMMEDGE_CREATE,
                                         {0x1'0000'0001, 0, 0, 0, 0}, 2'000'000);
            mem.write(parts[i], 0x2000, &t.value().raw, sizeof t.value().raw);
        }
    }
};

std::uint64_t take(const std::uint8_t*& d, std::size_t& n) {
    std::uint64_t v = 0;
    const std::size_t k = n < 8 ? n : 8;
    std::memcpy(&v, d, k);
    d += k;
    n -= k;
    return v;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    Fixture f;
    Syscalls sys(*f.k);
    while (size > 0) {
        const std::uint8_t sel = data[0];
        ++data;
        --size;
        SyscallFrame frame;
        // Small call numbers most of the time, so the decoders get exercised.
        frame.nr = take(data, size);
        if ((sel & 0x80) == 0) frame.nr %= 0x102;
        for (auto& a : frame.args) {
            a = take(data, size);
            // Bias arguments towards small handles and the token address.
            if (sel & 0x40) a &= 0x3'0000'00ff;
        }
        if (sel & 0x20) frame.args[5] = 0x2000;
        const PartitionId caller = (sel & 0x10) ? PartitionId::from_raw(frame.args[4]) : f.parts[sel % 3];
        const rvm_ret_t r = sys.dispatch(caller, frame, f.mem);
        if (r < 0) {
            const std::uint64_t e = static_cast<std::uint64_t>(-r);
            RVM_ASSERT((e & 0xff) > 0 && (e & 0xff) < RVM_E_STATUS_COUNT_ && (e >> 8) <= 6);
        }
        RVM_ASSERT(f.k->invariants_hold());
        f.clock.advance(1000);
    }
    return 0;
}
