// Forward-secure sealing: the key chain, its files, the writer evolving it,
// and the verifier refusing seals re-made by whoever holds a later state
// (including a seal whose MAC is valid for the epoch it claims, when that is
// not the epoch of its records: journald's CVE-2023-31439).
#include <gtest/gtest.h>

#include <sys/stat.h>

#include "fixtures/witness_tamper.hpp"
#include "host/witness/forward_secure.hpp"

namespace rvm {
namespace {

using testing::Bytes;

constexpr std::uint64_t kOffset = 1'700'000'000'000'000'000;  // wall clock = log clock + this
constexpr std::uint64_t kSecond = 1'000'000'000;

host::FssVerifyKey test_key() {
    host::FssVerifyKey v;
    v.seed.fill(0x5c);
    v.params = host::FssParams{kOffset, kSecond};
    return v;
}

TEST(WitnessForwardSecure, KeyChainIsOneWayAndDeterministic) {
    ASSERT_TRUE(host::sodium_ready());
    auto a = host::FssKeyChain::from_seed(test_key().seed);
    auto b = host::FssKeyChain::from_seed(test_key().seed);
    const host::FssSecret k0 = a.epoch_key();
    a.evolve_to(5);
    for (int i = 1; i <= 5; ++i) b.evolve_to(static_cast<std::uint64_t>(i));
    EXPECT_EQ(a.state(), b.state());
    EXPECT_EQ(a.epoch(), 5u);
    EXPECT_NE(a.epoch_key(), k0);
    a.evolve_to(2);  // never backwards
    EXPECT_EQ(a.epoch(), 5u);
    host::FssKeyChain moved = std::move(a);
    EXPECT_EQ(a.state(), host::FssSecret{});  // the moved-from copy is wiped
    EXPECT_EQ(moved.state(), b.state());
    std::uint64_t e = 0;
    EXPECT_FALSE(host::fss_epoch_of(test_key().params, kOffset - 1, e));
    ASSERT_TRUE(host::fss_epoch_of(test_key().params, kOffset + 3 * kSecond + 5, e));
    EXPECT_EQ(e, 3u);
}

TEST(WitnessForwardSecure, StateAndVerifyKeyFilesRoundTripAndRefuse) {
    ASSERT_TRUE(host::sodium_ready());
    testing::TempDir dir;
    ASSERT_TRUE(host::save_fss_verify_key(dir.file("v"), test_key()).ok());
    EXPECT_EQ(host::save_fss_verify_key(dir.file("v"), test_key()).error().code, host::IoErrc::kExists);
    auto v = host::load_fss_verify_key(dir.file("v"));
    ASSERT_TRUE(v.ok());
    EXPECT_EQ(v.value().seed, test_key().seed);
    EXPECT_EQ(v.value().params, test_key().params);
    auto s = host::FssSealingState::create(dir.file("s"), v.value());
    ASSERT_TRUE(s.ok());
    struct stat st {};
    ASSERT_EQ(::stat(dir.file("s").c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u);
    EXPECT_FALSE(host::FssSealingState::create(dir.file("s"), v.value()).ok());
    ASSERT_TRUE(s.value().evolve_to(7).ok());
    auto reloaded = host::FssSealingState::load(dir.file("s"));
    ASSERT_TRUE(reloaded.ok());
    EXPECT_EQ(reloaded.value().epoch(), 7u);
    auto chain = host::FssKeyChain::from_seed(test_key().seed);
    chain.evolve_to(7);
    EXPECT_EQ(reloaded.value().epoch_key(), chain.epoch_key());
    const std::vector<std::string> bad = {"", "rvm-fss-verify-v1", "rvm-fss-verify-v1 00 1 1000000000",
                                          "rvm-fss-verify-v1 " + std::string(64, 'a') + " 1 5"};
    for (const std::string& text : bad) {
        const std::string p = dir.file("bad" + std::to_string(text.size()));
        ASSERT_TRUE(host::write_new_file(p, Bytes(text.begin(), text.end()), 0600).ok());
        EXPECT_FALSE(host::load_fss_verify_key(p).ok()) << text;
        EXPECT_FALSE(host::FssSealingState::load(p).ok()) << text;
    }
}

class WitnessForwardSecureLog : public ::testing::Test {
protected:
    void SetUp() override {
        ASSERT_TRUE(host::sodium_ready());
        ASSERT_TRUE(dir_.ok());
        auto state = host::FssSealingState::create(dir_.file("state"), test_key());
        ASSERT_TRUE(state.ok());
        host::WitnessWriterOptions o;
        o.clock = &clock_;
        o.clock_offset_ns = static_cast<std::int64_t>(kOffset);
        o.forward_secure = std::make_unique<host::FssSealingState>(std::move(state.value()));
        auto writer = host::WitnessFileWriter::create(dir_.file("log"), keys_, std::move(o));
        ASSERT_TRUE(writer.ok());
        {
            WitnessLog log(hash_, clock_, testing::fixed_chain_key(), writer.value().get());
            // 5 s of activity, a record every 50 ms: 5 epochs of 1 s.
            for (std::uint64_t i = 0; i < 100; ++i) {
                testing::append_record(log, clock_, i);
                clock_.advance(50'000'000);
                if (writer.value()->wants_flush()) {
                    ASSERT_TRUE(writer.value()->flush().ok());
                }
            }
            ASSERT_TRUE(writer.value()->close().ok());
        }
        good_ = testing::read_bytes(dir_.file("log"));
    }
    host::AuditReport verify(const Bytes& b) const {
        host::AuditOptions o;
        o.trusted_key = keys_.public_key();
        o.forward_secure = test_key();
        o.now_realtime_ns = kOffset + 10 * kSecond;
        return host::audit_witness(b, o);
    }

    testing::TempDir dir_;
    host::SodiumHash hash_;
    ManualClock clock_{0};
    host::SigningKeyPair keys_ = testing::fixed_keys(0x11);
    Bytes good_;
};

TEST_F(WitnessForwardSecureLog, EverySealCarriesTheMacOfItsRecordsEpoch) {
    const auto r = verify(good_);
    ASSERT_EQ(r.verdict(), host::WitnessVerdict::kComplete) << host::describe(r);
    EXPECT_TRUE(r.epochs_verified);
    EXPECT_EQ(r.first_epoch, 0u);
    EXPECT_GE(r.last_epoch, 4u);
    EXPECT_GE(r.sealed_segments, 40u);  // sealed every 100 ms
    // The host's state has moved on: the keys of epochs 0..3 are gone from it.
    auto state = host::FssSealingState::load(dir_.file("state"));
    ASSERT_TRUE(state.ok());
    EXPECT_GE(state.value().epoch(), 4u);
    // Without the verification key the MACs are not checked (and the report says so).
    host::AuditOptions public_only;
    public_only.trusted_key = keys_.public_key();
    const auto p = host::audit_witness(good_, public_only);
    EXPECT_TRUE(p.complete);
    EXPECT_FALSE(p.epochs_verified);
    EXPECT_NE(host::describe(p).find("NOT checked"), std::string::npos);
}

TEST_F(WitnessForwardSecureLog, WhoeverTakesTheHostLaterCannotRewriteEarlierEpochs) {
    // The attacker holds everything on the host at the end: the signing key
    // and the sealing state (epoch E). They edit a record of epoch 0,
    // re-chain it with the disclosed keys and re-seal every seal.
    auto stolen = host::FssSealingState::load(dir_.file("state"));
    ASSERT_TRUE(stolen.ok());
    const std::uint64_t e = stolen.value().epoch();
    const host::FssSecret k_e = stolen.value().epoch_key();
    Bytes edited = good_;
    WitnessRecord r = testing::get_record(edited, 3);
    r.set_aux(0x5eed);
    testing::put_record(edited, 3, r);
    testing::rechain_disclosed(edited);
    // (a) Keep each seal's epoch, MAC with the only key they have.
    const Bytes a = testing::reseal(
        edited, keys_, [&](std::uint64_t, host::WitnessSeal& s) { s.epoch_mac = host::seal_epoch_mac(k_e, s); });
    const auto ra = verify(a);
    EXPECT_EQ(ra.fault.problem, host::WitnessProblem::kSealBadEpochMac) << host::describe(ra);
    EXPECT_EQ(ra.fault.index, 0u);
    // (b) Claim their own epoch: every MAC is valid for the epoch it names,
    // but that is not the epoch of the records (the CVE-2023-31439 check).
    const Bytes b = testing::reseal(edited, keys_, [&](std::uint64_t, host::WitnessSeal& s) {
        s.epoch = e;
        s.epoch_mac = host::seal_epoch_mac(k_e, s);
    });
    const auto rb = verify(b);
    EXPECT_EQ(rb.fault.problem, host::WitnessProblem::kSealWrongEpoch) << host::describe(rb);
    EXPECT_EQ(rb.fault.index, 0u);
    // (c) The documented limit: replace the whole log by one whose every
    // timestamp lies in their epoch or later, sealed with keys they can
    // derive. It verifies, but its epoch range says it starts at E or later,
    // after the theft, while the real log started in epoch 0.
    Bytes shifted = edited;
    for (std::uint64_t i = 0; i < 100; ++i) {
        WitnessRecord x = testing::get_record(shifted, i);
        x.raw.timestamp_ns += e * kSecond;
        testing::put_record(shifted, i, x);
    }
    testing::rechain_disclosed(shifted);
    // Their chain: S_E, as stolen (derived here the verifier's way to evolve it).
    auto attacker = host::FssKeyChain::from_seed(test_key().seed);
    attacker.evolve_to(e);
    ASSERT_EQ(attacker.epoch_key(), k_e);
    const Bytes c = testing::reseal(shifted, keys_, [&](std::uint64_t, host::WitnessSeal& s) {
        s.epoch += e;
        attacker.evolve_to(s.epoch);
        s.epoch_mac = host::seal_epoch_mac(attacker.epoch_key(), s);
    });
    const auto rc = verify(c);
    EXPECT_EQ(rc.verdict(), host::WitnessVerdict::kComplete) << host::describe(rc);
    EXPECT_GE(rc.first_epoch, e);
    // The same rewrite checked with the public key alone passes: the
    // signing key is on the host. Forward security needs --fss-key.
    host::AuditOptions public_only;
    public_only.trusted_key = keys_.public_key();
    EXPECT_TRUE(host::audit_witness(b, public_only).complete);
}

TEST_F(WitnessForwardSecureLog, SealsFromTheFutureAndEpochsGoingBackAreRefused) {
    const auto k = [](std::uint64_t epoch) {
        auto chain = host::FssKeyChain::from_seed(test_key().seed);
        chain.evolve_to(epoch);
        return chain.epoch_key();
    };
    // The end marker claims epoch 1000 with a valid MAC: from the future.
    const auto segs = testing::segments_of(good_);
    const std::uint64_t last = segs.size() - 1;
    const Bytes future = testing::reseal(good_, keys_, [&](std::uint64_t s, host::WitnessSeal& seal) {
        if (s == last && seal.record_count == 0) {
            seal.epoch = 1000;
            seal.epoch_mac = host::seal_epoch_mac(k(1000), seal);
        }
    });
    if (segs.back().record_count == 0) {
        EXPECT_EQ(verify(future).fault.problem, host::WitnessProblem::kSealWrongEpoch);
    }
    // An empty end marker that claims an epoch before the previous seal's.
    const Bytes back = testing::reseal(good_, keys_, [&](std::uint64_t s, host::WitnessSeal& seal) {
        if (s == last && seal.record_count == 0) {
            seal.epoch = 0;
            seal.epoch_mac = host::seal_epoch_mac(k(0), seal);
        }
    });
    if (segs.back().record_count == 0) {
        EXPECT_EQ(verify(back).fault.problem, host::WitnessProblem::kSealWrongEpoch);
    }
    // A log without epoch MACs checked with a verification key.
    Bytes plain;
    {
        testing::TempDir d;
        ASSERT_TRUE(testing::write_log(d.file("p"), 10, keys_, MacKey{}));
        plain = testing::read_bytes(d.file("p"));
    }
    EXPECT_EQ(verify(plain).fault.problem, host::WitnessProblem::kNotForwardSecure);
    // Flipping the header's forward-secure flag is caught at seal 0.
    EXPECT_FALSE(verify(testing::flip(good_, 28)).intact());
}

}  // namespace
}  // namespace rvm
