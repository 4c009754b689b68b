// The witness file writer, keys and reader: round trips through a real
// WitnessLog, the writer's refusals and failure modes, concurrent appenders.
#include <gtest/gtest.h>

#include <sys/stat.h>

#include <atomic>
#include <thread>

#include "fixtures/witness_tamper.hpp"
#include "host/witness/witness_audit.hpp"
#include "host/witness/witness_reader.hpp"

namespace rvm {
namespace {

using testing::Bytes;
using testing::TempDir;

host::AuditOptions trusted(const host::PublicKey& key) {
    host::AuditOptions o;
    o.trusted_key = key;
    return o;
}

class WitnessFile : public ::testing::TestWithParam<std::uint64_t> {
protected:
    void SetUp() override {
        ASSERT_TRUE(host::sodium_ready());
        ASSERT_TRUE(dir_.ok());
    }
    TempDir dir_;
    host::SigningKeyPair keys_ = testing::fixed_keys(0x11);
};

TEST_P(WitnessFile, RoundTripAuditsClean) {
    const std::uint64_t n = GetParam();
    const std::string path = dir_.file("log.witness");
    ASSERT_TRUE(testing::write_log(path, n, keys_, testing::fixed_chain_key()));
    const Bytes bytes = testing::read_bytes(path);
    const std::uint64_t sealed = n / kWitnessSegmentRecords;
    EXPECT_EQ(bytes.size(),
              host::kWitnessHeaderBytes + n * host::kWitnessRecordBytes + sealed * host::kWitnessSealBytes);

    host::AuditOptions trusted;
    trusted.trusted_key = keys_.public_key();
    const host::AuditReport r = host::audit_witness(bytes, trusted);
    EXPECT_TRUE(r.intact()) << host::describe(r);
    EXPECT_EQ(r.records, n);
    EXPECT_EQ(r.sealed_segments, sealed);
    EXPECT_EQ(r.tail_records, n % kWitnessSegmentRecords);
    EXPECT_TRUE(r.authenticity_verified);
    EXPECT_FALSE(r.tail_hashes_checked);  // that needs the master chain key

    const host::AuditReport unverified = host::audit_witness(bytes, {});
    EXPECT_TRUE(unverified.intact()) << host::describe(unverified);
    EXPECT_FALSE(unverified.authenticity_verified);
    EXPECT_NE(host::describe(unverified).find("UNVERIFIED"), std::string::npos);

    // With the master chain key the tail's hashes are checked too.
    host::AuditOptions with_k0 = trusted;
    with_k0.chain_master = testing::fixed_chain_key();
    const host::AuditReport keyed = host::audit_witness(bytes, with_k0);
    EXPECT_TRUE(keyed.intact()) << host::describe(keyed);
    EXPECT_TRUE(keyed.tail_hashes_checked);

    // The key next to the log is the writer's, as hex.
    const auto pub = host::load_public_key(path + ".pub");
    ASSERT_TRUE(pub.ok());
    EXPECT_EQ(pub.value(), keys_.public_key());
}
INSTANTIATE_TEST_SUITE_P(Counts, WitnessFile, ::testing::Values(0, 1, 63, 64, 65, 200));

TEST_F(WitnessFile, FlushCadenceDoesNotChangeTheBytes) {
    ASSERT_TRUE(testing::write_log(dir_.file("a"), 150, keys_, testing::fixed_chain_key(), 1));
    ASSERT_TRUE(testing::write_log(dir_.file("b"), 150, keys_, testing::fixed_chain_key(), 64));
    ASSERT_TRUE(testing::write_log(dir_.file("c"), 150, keys_, testing::fixed_chain_key(), 100));
    EXPECT_EQ(testing::read_bytes(dir_.file("a")), testing::read_bytes(dir_.file("b")));
    EXPECT_EQ(testing::read_bytes(dir_.file("a")), testing::read_bytes(dir_.file("c")));
}

TEST_F(WitnessFile, CreateNeverOverwrites) {
    const std::string path = dir_.file("log.witness");
    ASSERT_TRUE(testing::write_log(path, 70, keys_, testing::fixed_chain_key()));
    const Bytes before = testing::read_bytes(path);
    auto again = host::WitnessFileWriter::create(path, keys_);
    ASSERT_FALSE(again.ok());
    EXPECT_EQ(again.error().code, host::IoErrc::kExists);
    EXPECT_EQ(testing::read_bytes(path), before);

    // A stale .pub also refuses, and the half-made log is not left behind.
    ASSERT_TRUE(host::save_public_key(dir_.file("other.witness.pub"), keys_.public_key()));
    auto blocked = host::WitnessFileWriter::create(dir_.file("other.witness"), keys_);
    ASSERT_FALSE(blocked.ok());
    EXPECT_EQ(blocked.error().code, host::IoErrc::kExists);
    struct stat st {};
    EXPECT_NE(::stat(dir_.file("other.witness").c_str(), &st), 0);
}

TEST_F(WitnessFile, RecordsReachTheFileOnlyOnFlushAndSealsFollowTheirSegment) {
    const std::string path = dir_.file("log.witness");
    auto writer = host::WitnessFileWriter::create(path, keys_);
    ASSERT_TRUE(writer.ok());
    host::SodiumHash hash;
    ManualClock clock;
    WitnessLog log(hash, clock, testing::fixed_chain_key(), writer.value().get());
    for (int i = 0; i < 64; ++i) (void)log.append({RVM_WK_TASK_SPAWN});
    EXPECT_EQ(testing::read_bytes(path).size(), host::kWitnessHeaderBytes);
    ASSERT_TRUE(writer.value()->flush().ok());
    EXPECT_EQ(testing::read_bytes(path).size(), host::seal_offset(0) + host::kWitnessSealBytes);
    (void)log.append({RVM_WK_TASK_SPAWN});
    writer.value().reset();  // the destructor flushes the tail
    EXPECT_EQ(testing::read_bytes(path).size(), host::record_offset(65));
}

TEST_F(WitnessFile, OverflowFailsLoudlyAndKeepsAValidPrefix) {
    const std::string path = dir_.file("log.witness");
    auto writer = host::WitnessFileWriter::create(path, keys_, host::WitnessWriterOptions{64});
    ASSERT_TRUE(writer.ok());
    host::SodiumHash hash;
    ManualClock clock;
    WitnessLog log(hash, clock, testing::fixed_chain_key(), writer.value().get());
    for (int i = 0; i < 33; ++i) (void)log.append({RVM_WK_TASK_SPAWN});
    EXPECT_TRUE(writer.value()->wants_flush());
    for (int i = 0; i < 40; ++i) (void)log.append({RVM_WK_TASK_SPAWN});
    const auto flushed = writer.value()->flush();
    ASSERT_FALSE(flushed.ok());
    EXPECT_EQ(flushed.error().code, host::IoErrc::kOverflow);
    EXPECT_FALSE(writer.value()->flush().ok()) << "a failed writer stays failed";
    const host::AuditReport r = host::audit_witness(testing::read_bytes(path), trusted(keys_.public_key()));
    EXPECT_TRUE(r.intact()) << host::describe(r);
    EXPECT_EQ(r.records, 64u);
    EXPECT_EQ(r.sealed_segments, 1u);
}

TEST_F(WitnessFile, ConcurrentAppendersAndFlusherProduceAnIntactLog) {
    const std::string path = dir_.file("log.witness");
    auto writer = host::WitnessFileWriter::create(path, keys_);
    ASSERT_TRUE(writer.ok());
    host::SodiumHash hash;
    ManualClock clock(5);
    WitnessLog log(hash, clock, testing::fixed_chain_key(), writer.value().get());
    std::atomic<int> running{2};
    std::atomic<bool> flush_failed{false};
    auto appender = [&] {
        for (int i = 0; i < 700; ++i) (void)log.append({RVM_WK_ZERO_COPY_SEND, RVM_PROOF_NONE, 1, 2, 3, 0});
        running.fetch_sub(1);
    };
    std::thread a(appender), b(appender);
    std::thread flusher([&] {
        while (running.load() > 0) {
            if (!writer.value()->flush()) flush_failed = true;
        }
    });
    a.join();
    b.join();
    flusher.join();
    ASSERT_FALSE(flush_failed.load());
    ASSERT_TRUE(writer.value()->flush().ok());
    const host::AuditReport r = host::audit_witness(testing::read_bytes(path), trusted(keys_.public_key()));
    EXPECT_TRUE(r.intact()) << host::describe(r);
    EXPECT_EQ(r.records, 1400u);
}

TEST(WitnessKeys, SaveLoadRoundTripAndRefusals) {
    ASSERT_TRUE(host::sodium_ready());
    TempDir dir;
    auto kp = host::SigningKeyPair::generate();
    ASSERT_TRUE(kp.ok());
    ASSERT_TRUE(kp.value().save(dir.file("secret")).ok());
    struct stat st {};
    ASSERT_EQ(::stat(dir.file("secret").c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u);
    EXPECT_EQ(kp.value().save(dir.file("secret")).error().code, host::IoErrc::kExists);
    auto loaded = host::SigningKeyPair::load(dir.file("secret"));
    ASSERT_TRUE(loaded.ok());
    EXPECT_EQ(loaded.value().public_key(), kp.value().public_key());
    const Bytes msg = {1, 2, 3};
    EXPECT_TRUE(host::signature_valid(kp.value().public_key(), msg, loaded.value().sign(msg)));

    const std::vector<std::string> bad = {
        "", "zz", "00", std::string(64, 'g'), std::string(66, '0'), std::string(5000, '0')};
    for (const std::string& text : bad) {
        const std::string p = dir.file("bad" + std::to_string(text.size()) + text.substr(0, 1));
        ASSERT_TRUE(host::write_new_file(p, Bytes(text.begin(), text.end()), 0600).ok());
        EXPECT_FALSE(host::load_public_key(p).ok()) << text;
        EXPECT_FALSE(host::SigningKeyPair::load(p).ok()) << text;
    }
    EXPECT_EQ(host::load_public_key(dir.file("missing")).error().code, host::IoErrc::kOpen);
}

TEST(WitnessLayoutTest, SizeAloneDeterminesTheLayout) {
    using End = host::WitnessLayout::End;
    EXPECT_EQ(host::compute_layout(0).end, End::kNoHeader);
    EXPECT_EQ(host::compute_layout(63).end, End::kNoHeader);
    EXPECT_EQ(host::compute_layout(64).end, End::kClean);
    EXPECT_EQ(host::compute_layout(65).end, End::kTruncatedRecord);
    const auto missing_seal = host::compute_layout(host::seal_offset(0));
    EXPECT_EQ(missing_seal.end, End::kTruncatedSeal);
    EXPECT_EQ(missing_seal.records, 64u);
    const auto sealed = host::compute_layout(host::record_offset(64));
    EXPECT_EQ(sealed.end, End::kClean);
    EXPECT_EQ(sealed.sealed_segments, 1u);
    const auto huge = host::compute_layout(~std::uint64_t{0});
    EXPECT_GE(huge.records, huge.sealed_segments * kWitnessSegmentRecords);
    EXPECT_LE(huge.records, (huge.sealed_segments + 1) * kWitnessSegmentRecords);
}

}  // namespace
}  // namespace rvm
