// audit_witness against every kind of damage: each test asserts the exact
// record index or seal segment the report names first.
#include <gtest/gtest.h>

#include <random>

#include "fixtures/witness_tamper.hpp"
#include "host/witness/witness_audit.hpp"

namespace rvm {
namespace {

using host::WitnessProblem;
using host::WitnessSite;
using testing::Bytes;

// One 200-record log (3 sealed segments + 8 tail records) shared by the suite.
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

TEST_F(WitnessAudit, GoodFileIsIntact) {
    const auto r = audit(good());
    ASSERT_TRUE(r.intact()) << host::describe(r);
    EXPECT_EQ(r.records, 200u);
    EXPECT_EQ(r.sealed_segments, 3u);
    EXPECT_EQ(r.tail_records, 8u);
}

TEST_F(WitnessAudit, EveryBitOfARecordIsCaughtAtThatRecord) {
    for (const std::uint64_t rec : {0u, 5u, 63u, 70u, 130u, 195u, 199u}) {
        for (std::uint64_t byte = 0; byte < host::kWitnessRecordBytes; ++byte) {
            for (unsigned bit = 0; bit < 8; ++bit) {
                const auto r = audit(testing::flip(good(), host::record_offset(rec) + byte, bit));
                ASSERT_TRUE(fails_at(r, WitnessSite::kRecord, rec)) << "record " << rec << " byte " << byte;
            }
        }
    }
}

TEST_F(WitnessAudit, EveryBitOfASealIsCaughtAtThatSeal) {
    for (const std::uint64_t s : {0u, 1u, 2u}) {
        for (std::uint64_t byte = 0; byte < host::kWitnessSealBytes; ++byte) {
            for (unsigned bit = 0; bit < 8; ++bit) {
                const auto r = audit(testing::flip(good(), host::seal_offset(s) + byte, bit));
                ASSERT_TRUE(fails_at(r, WitnessSite::kSeal, s)) << "seal " << s << " byte " << byte;
            }
        }
    }
}

TEST_F(WitnessAudit, EveryBitOfTheHeaderIsCaught) {
    for (std::uint64_t byte = 0; byte < host::kWitnessHeaderBytes; ++byte) {
        for (unsigned bit = 0; bit < 8; ++bit) {
            const Bytes bad = testing::flip(good(), byte, bit);
            const auto r = audit(bad);
            ASSERT_TRUE(fails_at(r, WitnessSite::kHeader, 0)) << "byte " << byte;
            if (byte >= 32) {
                EXPECT_EQ(r.fault.problem, WitnessProblem::kHeaderKeyNotTrusted);
                // Without a trusted key the altered header key fails the first seal.
                ASSERT_TRUE(fails_at(audit(bad, false), WitnessSite::kSeal, 0, WitnessProblem::kSealBadSignature));
            }
        }
    }
    EXPECT_EQ(audit(testing::flip(good(), 0)).fault.problem, WitnessProblem::kBadMagic);
    EXPECT_EQ(audit(testing::flip(good(), 8)).fault.problem, WitnessProblem::kBadVersion);
    EXPECT_EQ(audit(testing::flip(good(), 12, 7)).fault.problem, WitnessProblem::kBadHeader);
    EXPECT_EQ(audit(testing::flip(good(), 29)).fault.problem, WitnessProblem::kBadHeader);
}

TEST_F(WitnessAudit, DeletedRecordIsNamed) {
    for (const std::uint64_t rec : {0u, 5u, 63u, 64u, 100u, 191u, 192u}) {
        const auto r = audit(testing::delete_record(good(), rec));
        ASSERT_TRUE(fails_at(r, WitnessSite::kRecord, rec, WitnessProblem::kSequenceMismatch)) << rec;
        EXPECT_EQ(r.expected, rec);
        // At a segment's end the seal's bytes slide into the gap instead.
        if (rec % 64 != 63) {
            EXPECT_EQ(r.found, rec + 1);
        }
    }
    // The documented limit: dropping the last unsealed record is not detectable.
    const auto tail = audit(testing::delete_record(good(), 199));
    EXPECT_TRUE(tail.intact());
    EXPECT_EQ(tail.tail_records, 7u);
}

TEST_F(WitnessAudit, SwappedRecordsAreNamedAtTheFirst) {
    EXPECT_TRUE(fails_at(audit(testing::swap_records(good(), 3, 4)), WitnessSite::kRecord, 3,
                         WitnessProblem::kSequenceMismatch));
    EXPECT_TRUE(fails_at(audit(testing::swap_records(good(), 10, 70)), WitnessSite::kRecord, 10));
    EXPECT_TRUE(fails_at(audit(testing::swap_records(good(), 193, 198)), WitnessSite::kRecord, 193));
}

TEST_F(WitnessAudit, DuplicatedRecordIsNamedAtTheCopy) {
    const auto r = audit(testing::duplicate_record(good(), 20));
    EXPECT_TRUE(fails_at(r, WitnessSite::kRecord, 21, WitnessProblem::kSequenceMismatch));
    EXPECT_EQ(r.found, 20u);
    // A copy of the segment's last record sits where the seal belongs.
    EXPECT_TRUE(
        fails_at(audit(testing::duplicate_record(good(), 63)), WitnessSite::kSeal, 0, WitnessProblem::kSealBadMagic));
}

TEST_F(WitnessAudit, TruncationIsNamed) {
    EXPECT_EQ(audit(testing::truncate_to(good(), 0)).fault.problem, WitnessProblem::kTruncatedHeader);
    EXPECT_EQ(audit(testing::truncate_to(good(), 40)).fault.problem, WitnessProblem::kTruncatedHeader);
    for (const std::uint64_t rec : {0u, 10u, 63u, 64u, 130u, 199u}) {
        for (const std::uint64_t cut : {1u, 32u, 63u}) {
            const auto r = audit(testing::truncate_to(good(), host::record_offset(rec) + cut));
            ASSERT_TRUE(fails_at(r, WitnessSite::kRecord, rec, WitnessProblem::kTruncatedRecord)) << rec;
            EXPECT_EQ(r.fault.offset, host::record_offset(rec));
        }
    }
    for (const std::uint64_t s : {0u, 1u, 2u}) {
        for (const std::uint64_t cut : {0u, 1u, 100u, 191u}) {
            const auto r = audit(testing::truncate_to(good(), host::seal_offset(s) + cut));
            ASSERT_TRUE(fails_at(r, WitnessSite::kSeal, s, WitnessProblem::kTruncatedSeal)) << s << "+" << cut;
        }
    }
}

TEST_F(WitnessAudit, DroppedSegmentIsNamedAtItsFirstRecord) {
    for (const std::uint64_t s : {0u, 1u, 2u}) {
        const auto r = audit(testing::drop_segment(good(), s));
        ASSERT_TRUE(fails_at(r, WitnessSite::kRecord, s * 64, WitnessProblem::kSequenceMismatch)) << s;
    }
}

TEST_F(WitnessAudit, ForgerWithOwnKeyIsCaughtOnlyWithATrustedKey) {
    const Bytes forged = testing::resign(good(), forger());
    EXPECT_TRUE(fails_at(audit(forged), WitnessSite::kSeal, 0, WitnessProblem::kSealUntrustedSigner));
    const auto unverified = audit(forged, false);
    EXPECT_TRUE(unverified.intact());
    EXPECT_FALSE(unverified.authenticity_verified);

    // Rewriting a record with the disclosed keys and re-chaining everything
    // after it keeps every record hash valid; the signed digest does not match.
    Bytes rewritten = good();
    WitnessRecord r = testing::get_record(rewritten, 70);
    r.set_aux(0xbad);
    testing::put_record(rewritten, 70, r);
    testing::rechain(rewritten, 70);
    EXPECT_TRUE(fails_at(audit(rewritten), WitnessSite::kSeal, 1, WitnessProblem::kSealBadDigest));
    EXPECT_TRUE(fails_at(audit(testing::reseal(rewritten, forger())), WitnessSite::kSeal, 0,
                         WitnessProblem::kSealUntrustedSigner));
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
    EXPECT_TRUE(fails_at(audit(edit_seal(1, [](auto& s) { s.reserved1[15] = 1; })), WitnessSite::kSeal, 1,
                         WitnessProblem::kSealBadField));
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
    for (std::uint64_t i = 64; i < 128; ++i) {
        WitnessRecord r = testing::get_record(b, i);
        r.set_chain_hash_before(prev);
        r.set_record_hash(compute_record_hash(hash, wrong, r));
        prev = r.record_hash();
        testing::put_record(b, i, r);
    }
    WitnessRecord next = testing::get_record(b, 128);
    next.set_chain_hash_before(prev);
    testing::put_record(b, 128, next);
    testing::rechain(b, 128);
    b = testing::reseal(b, keys(), [&](std::uint64_t s, host::WitnessSeal& seal) {
        if (s == 1) seal.disclosed_key = wrong.bytes;
    });
    // The public key alone cannot tell: the seal is genuinely signed.
    host::AuditOptions public_only;
    public_only.trusted_key = keys().public_key();
    EXPECT_TRUE(host::audit_witness(b, public_only).intact());
    host::AuditOptions with_master{keys().public_key(), testing::fixed_chain_key()};
    EXPECT_TRUE(fails_at(host::audit_witness(b, with_master), WitnessSite::kSeal, 1, WitnessProblem::kSealWrongKey));
}

TEST_F(WitnessAudit, RecordContentRulesHoldEvenWhenHashesAreValid) {
    const auto edit = [](std::uint64_t i, auto change) {
        Bytes b = good();
        WitnessRecord r = testing::get_record(b, i);
        change(r);
        testing::put_record(b, i, r);
        testing::rehash(b, i);
        testing::rechain(b, i + 1);
        return testing::reseal(b, keys());
    };
    EXPECT_TRUE(fails_at(audit(edit(70, [](WitnessRecord& r) { r.raw.kind = 0xee; })), WitnessSite::kRecord, 70,
                         WitnessProblem::kUnknownKind));
    EXPECT_TRUE(fails_at(audit(edit(70, [](WitnessRecord& r) { r.raw.reserved[1] = 1; })), WitnessSite::kRecord, 70,
                         WitnessProblem::kReservedNonZero));
    EXPECT_TRUE(fails_at(audit(edit(70, [](WitnessRecord& r) { r.raw.timestamp_ns = 1; })), WitnessSite::kRecord, 70,
                         WitnessProblem::kTimestampBackwards));
    EXPECT_TRUE(fails_at(audit(edit(196, [](WitnessRecord& r) { r.set_chain_hash_before(42); })), WitnessSite::kRecord,
                         196, WitnessProblem::kChainBreak));
}

TEST_F(WitnessAudit, GarbageNeverCrashesAndNeverPasses) {
    std::mt19937_64 rng(1234);
    for (std::size_t size : {0u, 1u, 63u, 64u, 65u, 127u, 4160u, 4351u, 4352u, 4353u, 13440u, 70000u}) {
        Bytes b(size);
        for (auto& x : b) x = static_cast<std::uint8_t>(rng());
        EXPECT_FALSE(audit(b).intact());
        // Valid header, garbage body: the audit reaches the records and seals.
        if (size >= 64) {
            std::copy_n(good().begin(), 64, b.begin());
            const auto r = audit(b);
            EXPECT_TRUE(r.intact() == (size == 64)) << size << ": " << host::describe(r);
        }
    }
    // Random single-byte damage anywhere in the sealed part is always caught.
    const std::uint64_t sealed_end = host::seal_offset(2) + host::kWitnessSealBytes;
    for (int i = 0; i < 3000; ++i) {
        Bytes b = good();
        b.at(rng() % sealed_end) ^= static_cast<std::uint8_t>(1 + rng() % 255);
        ASSERT_FALSE(audit(b).intact());
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
}

}  // namespace
}  // namespace rvm
