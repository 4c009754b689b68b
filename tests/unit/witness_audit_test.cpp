// audit_witness against every kind of damage: each test asserts the exact
// record index or seal segment the report names first.
#include <gtest/gtest.h>

#include <sys/stat.h>

#include <cerrno>
#include <random>

#include "fixtures/witness_tamper.hpp"
#include "host/witness/witness_audit.hpp"

namespace rvm {
namespace {

using host::WitnessProblem;
using host::WitnessSite;
using testing::Bytes;

// One closed 200-record log (segments of 64, 64, 64 and 8 records, the last
// one the end marker) shared by the suite.
class WitnessAudit : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        ASSERT_TRUE(host::sodium_ready());
        testing::TempDir dir;
        ASSERT_TRUE(dir.ok());
        ASSERT_TRUE(testing::write_log(dir.file("log.witness"), 200, keys(), testing::fixed_chain_key()));
        good_ = new Bytes(testing::read_bytes(dir.file("log.witness")));
    }
    static void TearDownTestSuite() {
        delete good_;
        good_ = nullptr;
    }
    static const host::SigningKeyPair& keys() {
        static const host::SigningKeyPair k = testing::fixed_keys(0x11);
        return k;
    }
    static const host::SigningKeyPair& forger() {
        static const host::SigningKeyPair k = testing::fixed_keys(0x22);
        return k;
    }
    static host::AuditReport audit(const Bytes& b, bool trusted = true) {
        host::AuditOptions o;
        if (trusted) o.trusted_key = keys().public_key();
        o.chain_master = testing::fixed_chain_key();  // the host's view: tail hashes checked too
        return host::audit_witness(b, o);
    }
    // The report's first problem is at `site` `index` (and is `problem` unless kNone).
    static ::testing::AssertionResult fails_at(const host::AuditReport& r, WitnessSite site, std::uint64_t index,
                                               WitnessProblem problem = WitnessProblem::kNone) {
        const auto& f = r.fault;
        if (host::problem_site(f.problem) == site && f.index == index &&
            (problem == WitnessProblem::kNone || f.problem == problem)) {
            return ::testing::AssertionSuccess();
        }
        return ::testing::AssertionFailure() << host::describe(r);
    }
    static const Bytes& good() { return *good_; }
    static inline Bytes* good_ = nullptr;
};

TEST_F(WitnessAudit, GoodFileIsComplete) {
    const auto r = audit(good());
    ASSERT_TRUE(r.intact()) << host::describe(r);
    EXPECT_EQ(r.verdict(), host::WitnessVerdict::kComplete);
    EXPECT_EQ(r.records, 200u);
    EXPECT_EQ(r.sealed_segments, 4u);
    EXPECT_EQ(r.sealed_records, 200u);
    EXPECT_EQ(r.tail_records, 0u);
}

TEST_F(WitnessAudit, EveryBitOfARecordIsCaughtAtThatRecord) {
    for (const std::uint64_t rec : {0u, 5u, 63u, 70u, 130u, 195u, 199u}) {
        const std::uint64_t at = testing::record_at(good(), rec);
        for (std::uint64_t byte = 0; byte < host::kWitnessRecordBytes; ++byte) {
            for (unsigned bit = 0; bit < 8; ++bit) {
                const auto r = audit(testing::flip(good(), at + byte, bit));
                ASSERT_TRUE(fails_at(r, WitnessSite::kRecord, rec)) << "record " << rec << " byte " << byte;
            }
        }
    }
}

TEST_F(WitnessAudit, EveryBitOfASealIsCaught) {
    for (const std::uint64_t s : {0u, 1u, 3u}) {
        const std::uint64_t at = testing::seal_at(good(), s);
        for (std::uint64_t byte = 0; byte < host::kWitnessSealBytes; ++byte) {
            for (unsigned bit = 0; bit < 8; ++bit) {
                const auto r = audit(testing::flip(good(), at + byte, bit));
                ASSERT_FALSE(r.intact()) << "seal " << s << " byte " << byte;
                // A damaged magic turns the seal into a "record" (named there); anything else names the seal.
                if (byte >= 8) {
                    ASSERT_TRUE(fails_at(r, WitnessSite::kSeal, s)) << "seal " << s << " byte " << byte;
                }
            }
        }
    }
}

TEST_F(WitnessAudit, EveryBitOfTheHeaderIsCaught) {
    for (std::uint64_t byte = 0; byte < host::kWitnessHeaderBytes; ++byte) {
        for (unsigned bit = 0; bit < 8; ++bit) {
            const Bytes bad = testing::flip(good(), byte, bit);
            const auto r = audit(bad);
            ASSERT_FALSE(r.intact()) << "byte " << byte;
            ASSERT_NE(r.verdict(), host::WitnessVerdict::kUnfinished);
            // The header is bound into seal 0's digest: with the header's own key too.
            ASSERT_FALSE(audit(bad, false).intact()) << "byte " << byte;
        }
    }
    EXPECT_EQ(audit(testing::flip(good(), 0)).fault.problem, WitnessProblem::kNotWitness);
    EXPECT_EQ(audit(testing::flip(good(), 8)).fault.problem, WitnessProblem::kBadVersion);
    EXPECT_EQ(audit(testing::flip(good(), 12, 7)).fault.problem, WitnessProblem::kBadHeader);
    EXPECT_EQ(audit(testing::flip(good(), 29)).fault.problem, WitnessProblem::kBadHeader);
    EXPECT_TRUE(
        fails_at(audit(testing::flip(good(), 40)), WitnessSite::kSeal, 0, WitnessProblem::kSealWrongPrevDigest));
    // An unsealed log has no seal to bind the header: its key must be the trusted one.
    const Bytes header_only = testing::truncate_to(good(), 64);
    EXPECT_EQ(audit(testing::flip(header_only, 40)).fault.problem, WitnessProblem::kHeaderKeyNotTrusted);
}

TEST_F(WitnessAudit, DeletedRecordIsNamed) {
    for (const std::uint64_t rec : {0u, 5u, 63u, 64u, 100u, 191u, 192u}) {
        const auto r = audit(testing::delete_record(good(), rec));
        ASSERT_FALSE(r.intact()) << rec;
        if (rec % 64 != 63) {
            ASSERT_TRUE(fails_at(r, WitnessSite::kRecord, rec, WitnessProblem::kSequenceMismatch)) << rec;
            EXPECT_EQ(r.found, rec + 1);
        }
    }
    // The last record of a closed log, too: the end marker counts it.
    EXPECT_TRUE(fails_at(audit(testing::delete_record(good(), 199)), WitnessSite::kSeal, 3));
}

TEST_F(WitnessAudit, SwappedRecordsAreNamedAtTheFirst) {
    EXPECT_TRUE(fails_at(audit(testing::swap_records(good(), 3, 4)), WitnessSite::kRecord, 3,
                         WitnessProblem::kSequenceMismatch));
    EXPECT_TRUE(fails_at(audit(testing::swap_records(good(), 10, 70)), WitnessSite::kRecord, 10));
    EXPECT_TRUE(fails_at(audit(testing::swap_records(good(), 193, 198)), WitnessSite::kRecord, 193));
    EXPECT_FALSE(audit(testing::swap_seals(good(), 0, 1)).intact());
    EXPECT_FALSE(audit(testing::move_segment_after(good(), 1, 2)).intact());
}

TEST_F(WitnessAudit, DuplicatedRecordIsNamedAtTheCopy) {
    const auto r = audit(testing::duplicate_record(good(), 20));
    EXPECT_TRUE(fails_at(r, WitnessSite::kRecord, 21, WitnessProblem::kSequenceMismatch));
    EXPECT_EQ(r.found, 20u);
    EXPECT_FALSE(audit(testing::duplicate_record(good(), 63)).intact());
}

TEST_F(WitnessAudit, TruncationIsNeverComplete) {
    EXPECT_EQ(audit(testing::truncate_to(good(), 0)).fault.problem, WitnessProblem::kNotWitness);
    EXPECT_EQ(audit(testing::truncate_to(good(), 40)).fault.problem, WitnessProblem::kTruncatedHeader);
    // Every cut past the header: unfinished, with the sealed part verified.
    for (std::uint64_t cut = 64; cut < good().size(); cut += 7) {
        const auto r = audit(testing::truncate_to(good(), cut));
        ASSERT_EQ(r.verdict(), host::WitnessVerdict::kUnfinished) << cut << ": " << host::describe(r);
        ASSERT_LE(r.sealed_records + r.tail_records, 200u);
    }
    const auto r = audit(testing::truncate_to(good(), testing::record_at(good(), 130) + 10));
    EXPECT_EQ(r.sealed_records, 128u);
    EXPECT_EQ(r.tail_records, 2u);
    EXPECT_EQ(r.partial_bytes, 10u);
}

TEST_F(WitnessAudit, AnythingAfterTheEndMarkerIsTampering) {
    const auto segs = testing::segments_of(good());
    const Bytes last = testing::slice(good(), testing::record_at(good(), 199), 64);
    EXPECT_TRUE(fails_at(audit(testing::insert_at(good(), good().size(), last)), WitnessSite::kRecord, 200,
                         WitnessProblem::kDataAfterEnd));
    EXPECT_EQ(audit(testing::insert_at(good(), good().size(), Bytes(3, 0))).fault.problem,
              WitnessProblem::kDataAfterEnd);
    // Records that chain on after the end, re-chained and re-sealed with the real key: still after the end.
    Bytes longer = testing::insert_at(good(), good().size(), last);
    WitnessRecord r = testing::get_record(longer, 200);
    r.raw.sequence = 200;
    testing::put_record(longer, 200, r);
    testing::rechain(longer);
    EXPECT_EQ(audit(testing::reseal(longer, keys())).fault.problem, WitnessProblem::kDataAfterEnd);
    EXPECT_EQ(segs.size(), 4u);
}

TEST_F(WitnessAudit, DroppedSegmentIsNamedAtItsFirstRecord) {
    for (const std::uint64_t s : {0u, 1u, 2u}) {
        const auto r = audit(testing::drop_segment(good(), s));
        ASSERT_TRUE(fails_at(r, WitnessSite::kRecord, s * 64, WitnessProblem::kSequenceMismatch)) << s;
    }
}

TEST_F(WitnessAudit, ForgerWithOwnKeyIsCaughtOnlyWithATrustedKey) {
    const Bytes forged = testing::reseal(good(), forger());
    EXPECT_TRUE(fails_at(audit(forged), WitnessSite::kSeal, 0, WitnessProblem::kSealUntrustedSigner));
    const auto unverified = audit(forged, false);
    EXPECT_TRUE(unverified.intact());
    EXPECT_FALSE(unverified.authenticity_verified);

    // Rewriting a record with the disclosed keys and re-chaining everything
    // keeps every record hash valid; the signed digest does not match.
    Bytes rewritten = good();
    WitnessRecord r = testing::get_record(rewritten, 70);
    r.set_aux(0xbad);
    testing::put_record(rewritten, 70, r);
    testing::rechain_disclosed(rewritten);
    EXPECT_TRUE(fails_at(audit(rewritten), WitnessSite::kSeal, 1, WitnessProblem::kSealBadDigest));
    EXPECT_TRUE(fails_at(audit(testing::reseal(rewritten, forger())), WitnessSite::kSeal, 0,
                         WitnessProblem::kSealUntrustedSigner));
}

TEST_F(WitnessAudit, MadeUpLogUnderTheRealHeaderNeverVerifiesComplete) {
    const Bytes header = testing::slice(good(), 0, 64);
    // The public verifier's view: nothing is sealed, so nothing is authenticated.
    const Bytes made_up = testing::made_up_log(header, 150, nullptr);
    const auto unsealed = testing::audit(made_up, keys().public_key());
    EXPECT_EQ(unsealed.verdict(), host::WitnessVerdict::kUnfinished) << host::describe(unsealed);
    EXPECT_EQ(unsealed.sealed_records, 0u);
    EXPECT_EQ(unsealed.tail_records, 150u);
    // The host's view (the chain master key): the made-up records are named.
    EXPECT_TRUE(fails_at(audit(made_up), WitnessSite::kRecord, 0, WitnessProblem::kRecordHashMismatch));
    EXPECT_EQ(audit(testing::made_up_log(header, 150, &forger())).verdict(), host::WitnessVerdict::kTampered);
}

TEST_F(WitnessAudit, TheWholeMatrixGetsItsVerdict) {
    for (const auto& t : testing::tamper_matrix(good(), forger())) {
        const auto r = testing::audit(t.bytes, keys().public_key());
        EXPECT_EQ(r.verdict(), t.expected) << t.name << ": " << host::describe(r);
        EXPECT_NE(audit(t.bytes).verdict(), host::WitnessVerdict::kComplete) << t.name;
    }
}

TEST_F(WitnessAudit, SignedButWrongSealsAreNamed) {
    const auto edit_seal = [](std::uint64_t which, auto change) {
        return testing::reseal(good(), keys(), [&](std::uint64_t s, host::WitnessSeal& seal) {
            if (s == which) change(seal);
        });
    };
    EXPECT_TRUE(audit(testing::reseal(good(), keys())).intact());
    EXPECT_TRUE(fails_at(audit(edit_seal(1, [](auto& s) { s.prev_digest[3] ^= 1; })), WitnessSite::kSeal, 1,
                         WitnessProblem::kSealWrongPrevDigest));
    EXPECT_TRUE(fails_at(audit(edit_seal(2, [](auto& s) { s.digest[0] ^= 1; })), WitnessSite::kSeal, 2,
                         WitnessProblem::kSealBadDigest));
    EXPECT_TRUE(fails_at(audit(edit_seal(1, [](auto& s) { s.record_count = 0xffffffffu; })), WitnessSite::kSeal, 1,
                         WitnessProblem::kSealBadField));
    EXPECT_TRUE(fails_at(audit(edit_seal(0, [](auto& s) { s.first_sequence = ~0ull; })), WitnessSite::kSeal, 0,
                         WitnessProblem::kSealBadField));
    EXPECT_TRUE(fails_at(audit(edit_seal(2, [](auto& s) { s.segment = 7; })), WitnessSite::kSeal, 2,
                         WitnessProblem::kSealBadField));
    EXPECT_TRUE(fails_at(audit(edit_seal(1, [](auto& s) { s.reserved[15] = 1; })), WitnessSite::kSeal, 1,
                         WitnessProblem::kSealBadField));
    EXPECT_TRUE(fails_at(audit(edit_seal(1, [](auto& s) { s.flags |= 0x80; })), WitnessSite::kSeal, 1,
                         WitnessProblem::kSealBadField));
    EXPECT_TRUE(fails_at(audit(edit_seal(2, [](auto& s) { s.clock_offset_ns += 1; })), WitnessSite::kSeal, 2,
                         WitnessProblem::kSealBadField));
    EXPECT_TRUE(fails_at(audit(edit_seal(1, [](auto& s) { s.epoch = 3; })), WitnessSite::kSeal, 1,
                         WitnessProblem::kSealBadField));
    // An end marker in the middle: what follows is data after the end.
    EXPECT_TRUE(fails_at(audit(edit_seal(1, [](auto& s) { s.flags |= host::kSealEnd; })), WitnessSite::kRecord, 128,
                         WitnessProblem::kDataAfterEnd));
    // The end marker removed by re-signing: unfinished, never complete.
    EXPECT_EQ(audit(edit_seal(3, [](auto& s) { s.flags &= ~host::kSealEnd; })).verdict(),
              host::WitnessVerdict::kUnfinished);
    // A signed seal disclosing a wrong key: its own records no longer verify.
    EXPECT_TRUE(fails_at(audit(edit_seal(1, [](auto& s) { s.disclosed_key[0] ^= 1; })), WitnessSite::kRecord, 64,
                         WitnessProblem::kRecordHashMismatch));
}

TEST_F(WitnessAudit, DisclosedKeyThatIsNotTheSegmentKeyIsNamedWithTheMaster) {
    // Segment 1 chained (and disclosed) with another segment's key.
    Bytes b = good();
    const MacKey wrong = testing::segment_key(5);
    host::SodiumHash hash;
    std::uint64_t prev = testing::get_record(b, 63).record_hash();
    for (std::uint64_t i = 64; i < 200; ++i) {
        WitnessRecord r = testing::get_record(b, i);
        r.set_chain_hash_before(prev);
        r.set_record_hash(compute_record_hash(hash, i < 128 ? wrong : testing::segment_key(i / 64), r));
        prev = r.record_hash();
        testing::put_record(b, i, r);
    }
    b = testing::reseal(b, keys(), [&](std::uint64_t s, host::WitnessSeal& seal) {
        if (s == 1) seal.disclosed_key = wrong.bytes;
    });
    // The public key alone cannot tell: the seal is genuinely signed.
    host::AuditOptions public_only;
    public_only.trusted_key = keys().public_key();
    EXPECT_TRUE(host::audit_witness(b, public_only).intact());
    host::AuditOptions with_master;
    with_master.trusted_key = keys().public_key();
    with_master.chain_master = testing::fixed_chain_key();
    EXPECT_TRUE(fails_at(host::audit_witness(b, with_master), WitnessSite::kSeal, 1, WitnessProblem::kSealWrongKey));
}

TEST_F(WitnessAudit, RecordContentRulesHoldEvenWhenHashesAreValid) {
    const auto edit = [](std::uint64_t i, auto change) {
        Bytes b = good();
        WitnessRecord r = testing::get_record(b, i);
        change(r);
        testing::put_record(b, i, r);
        testing::rechain(b);
        return testing::reseal(b, keys());
    };
    EXPECT_TRUE(fails_at(audit(edit(70, [](WitnessRecord& r) { r.raw.kind = 0xee; })), WitnessSite::kRecord, 70,
                         WitnessProblem::kUnknownKind));
    EXPECT_TRUE(fails_at(audit(edit(70, [](WitnessRecord& r) { r.raw.reserved[1] = 1; })), WitnessSite::kRecord, 70,
                         WitnessProblem::kReservedNonZero));
    EXPECT_TRUE(fails_at(audit(edit(70, [](WitnessRecord& r) { r.raw.timestamp_ns = 1; })), WitnessSite::kRecord, 70,
                         WitnessProblem::kTimestampBackwards));
    Bytes broken = good();
    WitnessRecord r = testing::get_record(broken, 196);
    r.set_chain_hash_before(42);
    testing::put_record(broken, 196, r);
    EXPECT_TRUE(fails_at(audit(broken), WitnessSite::kRecord, 196, WitnessProblem::kChainBreak));
}

TEST_F(WitnessAudit, GarbageNeverCrashesAndNeverPasses) {
    std::mt19937_64 rng(1234);
    for (std::size_t size : {0u, 1u, 63u, 64u, 65u, 127u, 4160u, 4351u, 4352u, 4353u, 13440u, 70000u}) {
        Bytes b(size);
        for (auto& x : b) x = static_cast<std::uint8_t>(rng());
        EXPECT_NE(audit(b).verdict(), host::WitnessVerdict::kComplete);
        // Valid header, garbage body: the audit reaches the records and seals.
        if (size >= 64) {
            std::copy_n(good().begin(), 64, b.begin());
            const auto r = audit(b);
            EXPECT_EQ(r.verdict(), size < 128 ? host::WitnessVerdict::kUnfinished : host::WitnessVerdict::kTampered)
                << size << ": " << host::describe(r);
        }
    }
    // Random single-byte damage anywhere is always caught.
    for (int i = 0; i < 3000; ++i) {
        Bytes b = good();
        b.at(rng() % b.size()) ^= static_cast<std::uint8_t>(1 + rng() % 255);
        ASSERT_NE(audit(b).verdict(), host::WitnessVerdict::kComplete);
        (void)audit(testing::truncate_to(b, rng() % b.size()), false);  // must merely not crash
    }
}

TEST_F(WitnessAudit, SizeLimitIsEnforcedBeforeParsing) {
    host::AuditOptions o;
    o.max_bytes = 1000;
    EXPECT_EQ(host::audit_witness(good(), o).fault.problem, WitnessProblem::kTooLarge);
    testing::TempDir dir;
    ASSERT_TRUE(host::write_new_file(dir.file("big"), good(), 0644).ok());
    const auto r = host::audit_witness_file(dir.file("big"), o);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, host::IoErrc::kTooLarge);
    EXPECT_FALSE(host::audit_witness_file(dir.file("missing"), {}).ok());
    // Not regular files: refused before any read.
    const auto dev = host::read_regular_file("/dev/zero", 1000);
    ASSERT_FALSE(dev.ok());
    EXPECT_EQ(dev.error().sys_errno, EINVAL);
    ASSERT_EQ(::mkfifo(dir.file("fifo").c_str(), 0600), 0);
    const auto fifo = host::read_regular_file(dir.file("fifo"), 1000);
    ASSERT_FALSE(fifo.ok());
    EXPECT_EQ(fifo.error().sys_errno, EINVAL);
}

}  // namespace
}  // namespace rvm
