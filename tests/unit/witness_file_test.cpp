// The witness file writer, keys and reader: round trips through a real
// WitnessLog, the writer's refusals and failure modes, concurrent appenders.
#include <gtest/gtest.h>

#include <sys/resource.h>
#include <sys/stat.h>

#include <cerrno>
#include <csignal>

#include <atomic>
#include <thread>

#include "fixtures/witness_tamper.hpp"
#include "host/witness/witness_audit.hpp"
#include "host/witness/witness_reader.hpp"

namespace rvm {
namespace {

using testing::Bytes;
using testing::TempDir;

class WitnessFile : public ::testing::TestWithParam<std::uint64_t> {
protected:
    void SetUp() override {
        ASSERT_TRUE(host::sodium_ready());
        ASSERT_TRUE(dir_.ok());
    }
    TempDir dir_;
    host::SigningKeyPair keys_ = testing::fixed_keys(0x11);
};

TEST_P(WitnessFile, RoundTripAuditsComplete) {
    const std::uint64_t n = GetParam();
    const std::string path = dir_.file("log.witness");
    ASSERT_TRUE(testing::write_log(path, n, keys_, testing::fixed_chain_key()));
    const Bytes bytes = testing::read_bytes(path);
    const std::uint64_t seals = n / 64 + 1;  // full segments, then the end marker (empty if n % 64 == 0)
    EXPECT_EQ(bytes.size(),
              host::kWitnessHeaderBytes + n * host::kWitnessRecordBytes + seals * host::kWitnessSealBytes);

    host::AuditOptions trusted;
    trusted.trusted_key = keys_.public_key();
    const host::AuditReport r = host::audit_witness(bytes, trusted);
    EXPECT_EQ(r.verdict(), host::WitnessVerdict::kComplete) << host::describe(r);
    EXPECT_EQ(r.records, n);
    EXPECT_EQ(r.sealed_segments, seals);
    EXPECT_EQ(r.tail_records, 0u);
    EXPECT_TRUE(r.authenticity_verified);

    const host::AuditReport unverified = host::audit_witness(bytes, {});
    EXPECT_TRUE(unverified.complete) << host::describe(unverified);
    EXPECT_FALSE(unverified.authenticity_verified);
    EXPECT_NE(host::describe(unverified).find("UNVERIFIED"), std::string::npos);

    // With the master chain key every disclosed key is checked too.
    host::AuditOptions with_k0 = trusted;
    with_k0.chain_master = testing::fixed_chain_key();
    EXPECT_TRUE(host::audit_witness(bytes, with_k0).complete);

    // Not closed: the sealed part verifies, the tail is named, never complete.
    testing::LogShape open;
    open.close = false;
    ASSERT_TRUE(testing::write_log(dir_.file("open.witness"), n, keys_, testing::fixed_chain_key(), open));
    with_k0.trusted_key = keys_.public_key();
    const host::AuditReport o = host::audit_witness(testing::read_bytes(dir_.file("open.witness")), with_k0);
    EXPECT_EQ(o.verdict(), host::WitnessVerdict::kUnfinished) << host::describe(o);
    EXPECT_EQ(o.sealed_records, n / 64 * 64);
    EXPECT_EQ(o.tail_records, n % 64);
    EXPECT_EQ(o.tail_hashes_checked, n % 64 != 0);

    // The key next to the log is the writer's, as hex.
    const auto pub = host::load_public_key(path + ".pub");
    ASSERT_TRUE(pub.ok());
    EXPECT_EQ(pub.value(), keys_.public_key());
}
INSTANTIATE_TEST_SUITE_P(Counts, WitnessFile, ::testing::Values(0, 1, 63, 64, 65, 200));

TEST_F(WitnessFile, FlushCadenceDoesNotChangeTheBytes) {
    for (const std::uint64_t every : {1u, 64u, 100u}) {
        testing::LogShape shape;
        shape.flush_every = every;
        std::string name = "f";  // not "f" + to_string(): a GCC 12 -Wrestrict false positive at -O3
        name += std::to_string(every);
        ASSERT_TRUE(testing::write_log(dir_.file(name), 150, keys_, testing::fixed_chain_key(), shape));
    }
    EXPECT_EQ(testing::read_bytes(dir_.file("f1")), testing::read_bytes(dir_.file("f64")));
    EXPECT_EQ(testing::read_bytes(dir_.file("f1")), testing::read_bytes(dir_.file("f100")));
}

// The writer of a test: a manual clock, a 100 ms seal interval.
struct TimedLog {
    explicit TimedLog(const std::string& path, const host::SigningKeyPair& keys, std::size_t capacity = 4096) {
        host::WitnessWriterOptions o;
        o.capacity_records = capacity;
        o.clock = &clock;
        o.clock_offset_ns = 0;
        auto w = host::WitnessFileWriter::create(path, keys, std::move(o));
        EXPECT_TRUE(w.ok());
        if (w) {
            writer = std::move(w.value());
        }
        log = std::make_unique<WitnessLog>(hash, clock, testing::fixed_chain_key(), writer.get());
    }
    void tick() {
        if (writer->wants_flush()) {
            EXPECT_TRUE(writer->flush().ok());
        }
    }
    host::SodiumHash hash;
    ManualClock clock{1'000'000};
    std::unique_ptr<host::WitnessFileWriter> writer;
    std::unique_ptr<WitnessLog> log;  // destroyed before the writer
};

TEST_F(WitnessFile, SealsByTimeReachTheFileAtTheSealCadence) {
    const std::string path = dir_.file("log.witness");
    TimedLog t(path, keys_);
    for (int i = 0; i < 10; ++i) {
        (void)t.log->append({RVM_WK_TASK_SPAWN});
        t.clock.advance(5'000'000);  // 5 ms apart
        t.tick();
    }
    // 45 ms after the first record: nothing sealed, nothing written yet.
    EXPECT_FALSE(t.writer->wants_flush());
    EXPECT_EQ(testing::read_bytes(path).size(), host::kWitnessHeaderBytes);
    t.clock.advance(55'000'000);  // the first record is 100 ms old
    EXPECT_TRUE(t.writer->wants_flush());
    t.tick();
    Bytes b = testing::read_bytes(path);
    EXPECT_EQ(b.size(), 64 + 10 * 64 + 256);
    auto r = testing::audit(b, keys_.public_key());
    EXPECT_EQ(r.verdict(), host::WitnessVerdict::kUnfinished);
    EXPECT_EQ(r.sealed_records, 10u);
    // Idle: no seal without records.
    t.clock.advance(1'000'000'000);
    EXPECT_FALSE(t.writer->wants_flush());
    (void)t.log->append({RVM_WK_TASK_SPAWN});
    t.clock.advance(100'000'000);
    t.tick();
    ASSERT_TRUE(t.writer->close().ok());
    r = testing::audit(testing::read_bytes(path), keys_.public_key());
    EXPECT_EQ(r.verdict(), host::WitnessVerdict::kComplete) << host::describe(r);
    EXPECT_EQ(r.sealed_segments, 3u);  // 10 records, 1 record, the empty end marker
    EXPECT_EQ(t.writer->stats().seals, 3u);
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

TEST_F(WitnessFile, AFullBufferMakesAppendersWaitAndNothingIsDropped) {
    const std::string path = dir_.file("log.witness");
    TimedLog t(path, keys_, 64);
    // Nobody flushes: 4 appenders x 3000 records through a 64-record buffer.
    std::vector<std::thread> threads;
    for (int k = 0; k < 4; ++k) {
        threads.emplace_back([&] {
            for (int i = 0; i < 3000; ++i) (void)t.log->append({RVM_WK_ZERO_COPY_SEND, RVM_PROOF_NONE, 1, 2, 3, 0});
        });
    }
    for (auto& th : threads) th.join();
    EXPECT_FALSE(t.writer->failed());
    EXPECT_GT(t.writer->stats().waits, 100u);
    ASSERT_TRUE(t.writer->close().ok());
    const auto r = testing::audit(testing::read_bytes(path), keys_.public_key());
    EXPECT_EQ(r.verdict(), host::WitnessVerdict::kComplete) << host::describe(r);
    EXPECT_EQ(r.records, 12000u);
    EXPECT_EQ(t.writer->stats().records, 12000u);
}

TEST_F(WitnessFile, MisuseFailsLoudlyAndStaysFailed) {
    const std::string path = dir_.file("log.witness");
    TimedLog t(path, keys_);
    (void)t.log->append({RVM_WK_TASK_SPAWN});
    t.log->close();
    (void)t.log->append({RVM_WK_TASK_SPAWN});  // after the end marker: a bug, reported
    const auto flushed = t.writer->flush();
    ASSERT_FALSE(flushed.ok());
    EXPECT_EQ(flushed.error().code, host::IoErrc::kOutOfOrder);
    EXPECT_TRUE(t.writer->failed());
    ASSERT_TRUE(t.writer->error().has_value());
    EXPECT_FALSE(t.writer->flush().ok()) << "a failed writer stays failed";
    EXPECT_FALSE(t.writer->close().ok());
    // What was accepted before the misuse is on disk, complete.
    const auto r = testing::audit(testing::read_bytes(path), keys_.public_key());
    EXPECT_EQ(r.verdict(), host::WitnessVerdict::kComplete) << host::describe(r);
    EXPECT_EQ(r.records, 1u);
}

TEST_F(WitnessFile, WriteErrorIsStickyAndWhatIsOnDiskVerifies) {
    // RLIMIT_FSIZE makes write() fail (EFBIG) once the file reaches 20 KiB,
    // the way a full disk fails it with ENOSPC.
    const std::string path = dir_.file("log.witness");
    TimedLog t(path, keys_, 256);
    rlimit old{};
    ASSERT_EQ(::getrlimit(RLIMIT_FSIZE, &old), 0);
    auto* previous = std::signal(SIGXFSZ, SIG_IGN);
    rlimit small = old;
    small.rlim_cur = 20'000;
    ASSERT_EQ(::setrlimit(RLIMIT_FSIZE, &small), 0);
    for (int i = 0; i < 2000 && !t.writer->failed(); ++i) {
        (void)t.log->append({RVM_WK_ZERO_COPY_SEND});
        if (i % 50 == 49) t.log->end_segment();
        if (t.writer->wants_flush()) (void)t.writer->flush();
    }
    ASSERT_EQ(::setrlimit(RLIMIT_FSIZE, &old), 0);
    std::signal(SIGXFSZ, previous);
    ASSERT_TRUE(t.writer->failed());
    EXPECT_EQ(t.writer->error()->sys_errno, EFBIG);
    EXPECT_FALSE(t.writer->close().ok());
    const Bytes b = testing::read_bytes(path);
    EXPECT_LE(b.size(), 20'000u);
    const auto r = testing::audit(b, keys_.public_key());
    EXPECT_EQ(r.verdict(), host::WitnessVerdict::kUnfinished) << host::describe(r);
    EXPECT_GT(r.sealed_records, 100u);
}

TEST_F(WitnessFile, ConcurrentAppendersAndFlusherProduceACompleteLog) {
    const std::string path = dir_.file("log.witness");
    TimedLog t(path, keys_);
    std::atomic<int> running{2};
    std::atomic<bool> flush_failed{false};
    auto appender = [&] {
        for (int i = 0; i < 700; ++i) {
            (void)t.log->append({RVM_WK_ZERO_COPY_SEND, RVM_PROOF_NONE, 1, 2, 3, 0});
            if (i % 97 == 0) t.log->end_segment();
        }
        running.fetch_sub(1);
    };
    std::thread a(appender), b(appender);
    std::thread flusher([&] {
        while (running.load() > 0) {
            if (!t.writer->flush()) flush_failed = true;
        }
    });
    a.join();
    b.join();
    flusher.join();
    ASSERT_FALSE(flush_failed.load());
    ASSERT_TRUE(t.writer->close().ok());
    const auto r = testing::audit(testing::read_bytes(path), keys_.public_key());
    EXPECT_EQ(r.verdict(), host::WitnessVerdict::kComplete) << host::describe(r);
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
    // A secret others may read is refused.
    ASSERT_EQ(::chmod(dir.file("secret").c_str(), 0640), 0);
    const auto open_key = host::SigningKeyPair::load(dir.file("secret"));
    ASSERT_FALSE(open_key.ok());
    EXPECT_EQ(open_key.error().sys_errno, EACCES);
}

TEST(WitnessReaderTest, IndexesSegmentsAndCutOffEntries) {
    ASSERT_TRUE(host::sodium_ready());
    TempDir dir;
    testing::LogShape shape;
    shape.seal_every = 10;
    ASSERT_TRUE(testing::write_log(dir.file("l"), 25, testing::fixed_keys(1), MacKey{}, shape));
    const Bytes b = testing::read_bytes(dir.file("l"));
    auto r = host::WitnessReader::open(b);
    ASSERT_TRUE(r.ok());
    ASSERT_EQ(r.value().segments().size(), 3u);
    EXPECT_EQ(r.value().segments()[2].record_count, 5u);
    EXPECT_TRUE(r.value().segments()[2].sealed);
    EXPECT_EQ(r.value().record_offset(10), 64u + 10 * 64 + 256);
    EXPECT_EQ(r.value().record(24).sequence(), 24u);
    const Bytes cut = testing::truncate_to(b, b.size() - 1);
    auto c = host::WitnessReader::open(cut);
    ASSERT_TRUE(c.ok());
    EXPECT_EQ(c.value().partial_bytes(), 255u);
    EXPECT_EQ(c.value().sealed_segments(), 2u);
    EXPECT_EQ(host::WitnessReader::open(Bytes{1, 2}).error().problem, host::WitnessProblem::kNotWitness);
}

}  // namespace
}  // namespace rvm
