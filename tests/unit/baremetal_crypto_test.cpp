// The bare-metal image's own crypto, built for the host: SHA-256 (measured
// boot) against the FIPS 180-4 examples, and its SipHash-2-4 against
// libsodium's, which verifies the image's witness chain on the host.
#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <random>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "host/witness/sodium_hash.hpp"
#include "platform/aarch64-virt/sha256.hpp"
#include "platform/aarch64-virt/siphash.hpp"

namespace rvm {
namespace {

std::string hex(std::span<const std::uint8_t> b) {
    static constexpr char kDigits[] = "0123456789abcdef";
    std::string s;
    for (std::uint8_t x : b) {
        s += kDigits[x >> 4];
        s += kDigits[x & 0xf];
    }
    return s;
}

std::vector<std::uint8_t> bytes(std::string_view s) { return {s.begin(), s.end()}; }

TEST(BaremetalSha256, MatchesTheStandardExamples) {
    EXPECT_EQ(hex(bm::sha256({})), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    EXPECT_EQ(hex(bm::sha256(bytes("abc"))), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    EXPECT_EQ(hex(bm::sha256(bytes("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"))),
              "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

TEST(BaremetalSha256, EveryLengthAroundTheBlockBoundaryDiffers) {
    // 55, 56 and 64 bytes take the one- and two-block padding paths.
    std::vector<std::string> seen;
    for (std::size_t n : {0u, 1u, 55u, 56u, 63u, 64u, 65u, 119u, 120u, 128u}) {
        const std::vector<std::uint8_t> data(n, 0x61);
        const std::string h = hex(bm::sha256(data));
        for (const auto& s : seen) EXPECT_NE(s, h) << n;
        seen.push_back(h);
    }
    EXPECT_EQ(hex(bm::sha256(std::vector<std::uint8_t>(64, 0x61))),
              "ffe054fe7ae0cb6dc65c3af9b61d5209f439851db43d0ba5997337df154668eb");
}

TEST(BaremetalSipHash, AgreesWithLibsodiumOnEveryLength) {
    const bm::SipHash24 ours;
    const host::SodiumHash sodium;
    std::mt19937_64 rng(0x51b4a54);
    for (std::size_t n = 0; n < 200; ++n) {
        MacKey key;
        for (auto& b : key.bytes) b = static_cast<std::uint8_t>(rng());
        std::vector<std::uint8_t> data(n);
        for (auto& b : data) b = static_cast<std::uint8_t>(rng());
        EXPECT_EQ(ours.mac(key, data), sodium.mac(key, data)) << "length " << n;
    }
}

}  // namespace
}  // namespace rvm
