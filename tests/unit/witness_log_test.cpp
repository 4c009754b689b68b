#include <gtest/gtest.h>

#include "host/witness/sodium_hash.hpp"
#include "nucleus/witness_log.hpp"

namespace rvm {
namespace {

class VectorSink final : public WitnessSink {
public:
    std::vector<WitnessRecord> records;
    std::vector<std::pair<std::uint64_t, MacKey>> closed;
    void accept(const WitnessRecord& r) override { records.push_back(r); }
    void segment_closed(std::uint64_t s, const MacKey& k) override { closed.emplace_back(s, k); }
};

TEST(WitnessLog, ChainsEveryRecordWithTheSegmentKey) {
    ASSERT_TRUE(host::sodium_ready());
    host::SodiumHash hash;
    ManualClock clock(100);
    VectorSink sink;
    const MacKey k0 = host::random_mac_key();
    WitnessLog log(hash, clock, k0, &sink);
    for (std::uint64_t i = 0; i < 130; ++i) {
        clock.advance(3);
        EXPECT_EQ(log.append({RVM_WK_REGION_CREATE, RVM_PROOF_NONE, i, i * 2, i * 3, 0}), i);
    }
    ASSERT_EQ(sink.records.size(), 130u);
    ASSERT_EQ(sink.closed.size(), 2u);
    EXPECT_EQ(sink.closed[0].first, 0u);
    EXPECT_EQ(sink.closed[0].second, segment_key(hash, k0, 0));
    EXPECT_EQ(sink.closed[1].first, 1u);
    EXPECT_EQ(sink.closed[1].second, segment_key(hash, k0, 1));
    EXPECT_NE(segment_key(hash, k0, 0), segment_key(hash, k0, 1));
    std::uint64_t prev = 0;
    for (const auto& r : sink.records) {
        const MacKey key = segment_key(hash, k0, r.sequence() / kWitnessSegmentRecords);
        EXPECT_EQ(r.chain_hash_before(), prev);
        EXPECT_EQ(r.record_hash(), compute_record_hash(hash, key, r));
        EXPECT_EQ(r.aux(), r.sequence() * 3);
        prev = r.record_hash();
    }
    EXPECT_EQ(log.head().next_sequence, 130u);
    EXPECT_EQ(log.head().last_hash, prev);
}

TEST(WitnessLog, EveryByteOfARecordIsCovered) {
    ASSERT_TRUE(host::sodium_ready());
    host::SodiumHash hash;
    const MacKey k = host::random_mac_key();
    WitnessRecord r;
    r.raw.sequence = 7;
    r.set_subject(1);
    r.set_record_hash(compute_record_hash(hash, k, r));
    for (std::size_t byte = 0; byte < 64; ++byte) {
        if (byte >= 52 && byte < 60) continue;  // the hash field itself: checked by comparison
        auto b = r.bytes();
        std::array<std::uint8_t, 64> copy{};
        std::copy(b.begin(), b.end(), copy.begin());
        copy[byte] ^= 0x01;
        const auto t = WitnessRecord::from_bytes(copy);
        EXPECT_NE(compute_record_hash(hash, k, t), t.record_hash()) << "byte " << byte;
    }
}

}  // namespace
}  // namespace rvm
