// libFuzzer target: the witness verifier on tampered logs. The input is an
// edit script applied to a real closed log (written once by the writer with
// fixed keys); the property is that no edit that changes the bytes is ever
// verified "complete" under the trusted key, and that the audit answers
// every input without crashing. Seed corpus: tests/fuzz/corpus/witness_tamper.
//
// Script: a sequence of 8-byte operations [op, a0, a1, a2, b0, b1, v0, v1]:
// op % 6 = 0 flip bits v0 at a; 1 delete b bytes at a; 2 insert b bytes of v0
// at a; 3 truncate to a; 4 swap the 64-byte entries at a and b; 5 copy 64
// bytes from b to a. Offsets are taken modulo the current size.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <vector>

#include "../fixtures/witness_tamper.hpp"
#include "nucleus/assert.hpp"

namespace {

using namespace rvm;
using testing::Bytes;

struct Subject {
    Bytes good;
    host::PublicKey key;
};

const Subject& subject() {
    static const Subject s = [] {
        RVM_ASSERT(host::sodium_ready());
        testing::TempDir dir;
        const auto keys = testing::fixed_keys(0x11);
        testing::LogShape shape;
        shape.seal_every = 16;
        RVM_ASSERT(testing::write_log(dir.file("good"), 60, keys, testing::fixed_chain_key(), shape));
        return Subject{testing::read_bytes(dir.file("good")), keys.public_key()};
    }();
    return s;
}

std::size_t at(std::size_t size, std::uint32_t x) { return size == 0 ? 0 : x % size; }

void apply(Bytes& b, const std::uint8_t* op) {
    const auto u = [op](int i) { return static_cast<std::uint32_t>(op[i]); };
    const std::uint32_t a = u(1) | (u(2) << 8) | (u(3) << 16);
    const std::uint32_t n = u(4) | (u(5) << 8);
    const auto pos = static_cast<std::ptrdiff_t>(at(b.size(), a));
    switch (op[0] % 6) {
        case 0:
            if (!b.empty()) b[static_cast<std::size_t>(pos)] ^= static_cast<std::uint8_t>(op[6] | 1);
            break;
        case 1:
            b.erase(b.begin() + pos, b.begin() + pos +
                                         static_cast<std::ptrdiff_t>(
                                             std::min<std::size_t>(n, b.size() - static_cast<std::size_t>(pos))));
            break;
        case 2: b.insert(b.begin() + pos, std::min<std::uint32_t>(n, 4096), op[6]); break;
        case 3: b.resize(static_cast<std::size_t>(pos)); break;
        case 4:
        case 5: {
            if (b.size() < 64) break;
            const std::size_t x = at(b.size() - 63, a);
            const std::size_t y = at(b.size() - 63, n | (u(7) << 16));
            if (op[0] % 6 == 4 && (x + 64 <= y || y + 64 <= x)) {
                std::swap_ranges(b.begin() + static_cast<std::ptrdiff_t>(x),
                                 b.begin() + static_cast<std::ptrdiff_t>(x + 64),
                                 b.begin() + static_cast<std::ptrdiff_t>(y));
            } else if (op[0] % 6 == 5) {
                const Bytes copy(b.begin() + static_cast<std::ptrdiff_t>(y),
                                 b.begin() + static_cast<std::ptrdiff_t>(y + 64));
                std::copy(copy.begin(), copy.end(), b.begin() + static_cast<std::ptrdiff_t>(x));
            }
            break;
        }
        default: break;
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const Subject& s = subject();
    Bytes b = s.good;
    for (std::size_t i = 0; i + 8 <= size && i < 8 * 32; i += 8) apply(b, data + i);
    host::AuditOptions o;
    o.trusted_key = s.key;
    const host::AuditReport r = host::audit_witness(b, o);
    (void)host::describe(r);
    // The one property that matters: a changed closed log is never complete.
    if (b != s.good && r.verdict() == host::WitnessVerdict::kComplete) std::abort();
    if (b == s.good && r.verdict() != host::WitnessVerdict::kComplete) std::abort();
    return 0;
}
