#include <gtest/gtest.h>

#include "host/witness/sodium_hash.hpp"
#include "nucleus/witness_log.hpp"

namespace rvm {
namespace {

class VectorSink final : public WitnessSink {
public:
    std::vector<WitnessRecord> records;
    std::vector<WitnessSegmentEnd> ends;
    WitnessLog* attached = nullptr;
    int detached = 0;
    void accept(const WitnessRecord& r) override { records.push_back(r); }
    void segment_ended(const WitnessSegmentEnd& e) override { ends.push_back(e); }
    void attach(WitnessLog* log) override {
        if (log == nullptr) ++detached;
        attached = log;
    }
};

// Checks every record's chain link and keyed hash against the segment ends.
void expect_chained(const KeyedHash& hash, const MacKey& k0, const VectorSink& sink) {
    std::uint64_t prev = 0;
    std::size_t e = 0;
    for (const auto& r : sink.records) {
        while (e < sink.ends.size() && r.sequence() >= sink.ends[e].first_sequence + sink.ends[e].record_count) ++e;
        ASSERT_LT(e, sink.ends.size()) << "record " << r.sequence() << " is in no ended segment";
        EXPECT_EQ(sink.ends[e].key, segment_key(hash, k0, sink.ends[e].segment));
        EXPECT_EQ(r.chain_hash_before(), prev);
        EXPECT_EQ(r.record_hash(), compute_record_hash(hash, sink.ends[e].key, r));
        prev = r.record_hash();
    }
}

TEST(WitnessLog, SegmentsEndByCountByRequestAndAtClose) {
    ASSERT_TRUE(host::sodium_ready());
    host::SodiumHash hash;
    ManualClock clock(100);
    VectorSink sink;
    const MacKey k0 = host::random_mac_key();
    {
        WitnessLog log(hash, clock, k0, &sink);
        EXPECT_EQ(sink.attached, &log);
        for (std::uint64_t i = 0; i < 10; ++i) {
            clock.advance(3);
            EXPECT_EQ(log.append({RVM_WK_REGION_CREATE, RVM_PROOF_NONE, i, i * 2, i * 3, 0}), i);
        }
        log.end_segment();  // by time: 10 records
        log.end_segment();  // nothing new: no empty segment
        for (std::uint64_t i = 10; i < 10 + kWitnessSegmentRecords + 5; ++i) {
            (void)log.append({RVM_WK_REGION_CREATE, RVM_PROOF_NONE, i, 0, 0, 0});
        }
        EXPECT_FALSE(log.closed());
        log.close();
        log.close();  // idempotent
        EXPECT_TRUE(log.closed());
    }
    EXPECT_EQ(sink.detached, 1);
    EXPECT_EQ(sink.attached, nullptr);
    ASSERT_EQ(sink.ends.size(), 3u);
    EXPECT_EQ(sink.ends[0].record_count, 10u);
    EXPECT_FALSE(sink.ends[0].last);
    EXPECT_EQ(sink.ends[1].first_sequence, 10u);
    EXPECT_EQ(sink.ends[1].record_count, kWitnessSegmentRecords);  // by count
    EXPECT_EQ(sink.ends[2].segment, 2u);
    EXPECT_EQ(sink.ends[2].record_count, 5u);
    EXPECT_TRUE(sink.ends[2].last);
    EXPECT_NE(sink.ends[0].key, sink.ends[1].key);
    expect_chained(hash, k0, sink);
}

TEST(WitnessLog, DestructionClosesWithAnEmptyEndMarkerWhenNothingIsOpen) {
    ASSERT_TRUE(host::sodium_ready());
    host::SodiumHash hash;
    ManualClock clock(1);
    VectorSink sink;
    {
        WitnessLog log(hash, clock, MacKey{}, &sink);
        (void)log.append({RVM_WK_TASK_SPAWN, RVM_PROOF_NONE, 1, 2, 3, 0});
        log.end_segment();
    }
    ASSERT_EQ(sink.ends.size(), 2u);
    EXPECT_EQ(sink.ends[1].record_count, 0u);
    EXPECT_TRUE(sink.ends[1].last);
    EXPECT_EQ(sink.ends[1].first_sequence, 1u);
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
