#include <gtest/gtest.h>

#include <memory>

#include "support/world.hpp"

namespace rvm {
namespace {

using test::World;

constexpr std::uint32_t kCall = RVM_HC_COMMEDGE_CREATE;
const CallArgs kArgs{1, 2, 3, 4, 5};

struct ProofTest : ::testing::Test {
    World w;
    PartitionId p = w.partition();
    CapHandle prove = w.self_cap(p);

    ProofToken mint(std::uint8_t tier = RVM_PROOF_STANDARD, std::uint64_t lifetime = 1'000'000) {
        const auto t = w.k().mint_proof(p, prove, tier, kCall, kArgs, w.clock.now_ns() + lifetime);
        EXPECT_TRUE(t.ok());
        return t.value();
    }
    rvm_status check(const ProofToken& t, std::uint8_t required = RVM_PROOF_REFLEX, const CallArgs& args = kArgs,
                     std::uint32_t call = kCall) {
        const auto r = w.k().check_proof(p, t, call, args, required);
        return r ? RVM_OK : r.error().code;
    }
};

TEST_F(ProofTest, ValidTokenVerifiesOnceThenIsReplayed) {
    const ProofToken t = mint();
    ASSERT_EQ(check(t), RVM_OK);
    w.k().consume_proof(p, t, RVM_PROOF_STANDARD);
    EXPECT_EQ(check(t), RVM_E_PROOF_REPLAYED);
    EXPECT_TRUE(w.sync());
}

TEST_F(ProofTest, ForgeriesAreRejected) {
    const ProofToken t = mint();
    ProofToken bad = t;
    bad.raw.mac ^= 1;
    EXPECT_EQ(check(bad), RVM_E_PROOF_FORGED);
    bad = t;
    bad.raw.expiry_ns += 1;  // any covered field
    EXPECT_EQ(check(bad), RVM_E_PROOF_FORGED);
    bad = t;
    bad.raw.tier = RVM_PROOF_DEEP;
    EXPECT_EQ(check(bad), RVM_E_PROOF_FORGED);
    bad = t;
    bad.raw.reserved[1] = 1;
    EXPECT_EQ(check(bad), RVM_E_PROOF_FORGED);
    bad = t;
    bad.raw.nonce = 1000;  // never minted
    EXPECT_EQ(check(bad), RVM_E_PROOF_FORGED);
    EXPECT_EQ(check(t, RVM_PROOF_REFLEX, CallArgs{1, 2, 3, 4, 6}), RVM_E_PROOF_FORGED);         // other arguments
    EXPECT_EQ(check(t, RVM_PROOF_REFLEX, kArgs, RVM_HC_COMMEDGE_DESTROY), RVM_E_PROOF_FORGED);  // other call
    // Another partition presenting the same token.
    const PartitionId q = w.partition();
    const auto r = w.k().check_proof(q, t, kCall, kArgs, RVM_PROOF_REFLEX);
    EXPECT_EQ(r.error().code, RVM_E_PROOF_FORGED);
    // A token minted under another key.
    World other;
    const PartitionId op = other.partition();
    const auto foreign = other.k().mint_proof(op, other.self_cap(op), RVM_PROOF_REFLEX, kCall, kArgs, 0);
    ASSERT_TRUE(foreign);
    EXPECT_EQ(check(foreign.value()), RVM_E_PROOF_FORGED);
    // The genuine token is still good: rejections consumed nothing.
    EXPECT_EQ(check(t), RVM_OK);
}

TEST_F(ProofTest, RejectionIsWitnessedAndChangesNothing) {
    const ProofToken t = mint();
    ProofToken bad = t;
    bad.raw.mac ^= 0x80;
    const auto before = std::make_unique<NucleusState>(w.st());
    const std::size_t n = w.records();
    EXPECT_EQ(check(bad), RVM_E_PROOF_FORGED);
    EXPECT_TRUE(*before == w.st());
    ASSERT_EQ(w.records(), n + 1);
    const WitnessRecord& r = w.sink.records.back();
    EXPECT_EQ(r.kind(), RVM_WK_PROOF_REJECTED);
    EXPECT_EQ(r.subject(), p.raw());
    EXPECT_EQ(r.object(), t.raw.nonce);
    EXPECT_EQ(r.flags() & 0xff, static_cast<std::uint32_t>(RVM_E_PROOF_FORGED));
    EXPECT_TRUE(w.sync());
}

TEST_F(ProofTest, NoncesOutsideTheWindowAreStale) {
    const ProofToken old = mint();
    for (int i = 0; i < 64; ++i) {
        const ProofToken t = mint();
        ASSERT_EQ(check(t), RVM_OK);
        w.k().consume_proof(p, t, RVM_PROOF_STANDARD);
    }
    EXPECT_EQ(check(old), RVM_E_PROOF_STALE);
    EXPECT_TRUE(w.sync());
}

TEST_F(ProofTest, OutOfOrderNoncesInsideTheWindowAreAccepted) {
    const ProofToken a = mint();
    const ProofToken b = mint();
    ASSERT_EQ(check(b), RVM_OK);
    w.k().consume_proof(p, b, RVM_PROOF_STANDARD);
    ASSERT_EQ(check(a), RVM_OK);
    w.k().consume_proof(p, a, RVM_PROOF_STANDARD);
    EXPECT_EQ(check(a), RVM_E_PROOF_REPLAYED);
    EXPECT_EQ(check(b), RVM_E_PROOF_REPLAYED);
}

TEST_F(ProofTest, StandardChecksExpiryAndLifetime) {
    const ProofToken t = mint(RVM_PROOF_STANDARD, 1000);
    w.clock.advance(1001);
    EXPECT_EQ(check(t, RVM_PROOF_STANDARD), RVM_E_PROOF_STALE);
    EXPECT_EQ(check(t, RVM_PROOF_REFLEX), RVM_E_PROOF_STALE);  // a Standard token is checked as Standard
    const ProofToken reflex = mint(RVM_PROOF_REFLEX, 1000);
    w.clock.advance(2000);
    EXPECT_EQ(check(reflex, RVM_PROOF_REFLEX), RVM_OK);  // Reflex does not look at time
    EXPECT_EQ(check(reflex, RVM_PROOF_STANDARD), RVM_E_PROOF_STALE);
    const ProofToken forever = mint(RVM_PROOF_STANDARD, w.k().proofs().policy().max_lifetime_ns + 1);
    EXPECT_EQ(check(forever, RVM_PROOF_STANDARD), RVM_E_POLICY);
    ASSERT_TRUE(w.k().set_partition_state(p, PartitionState::Suspended));
    EXPECT_EQ(check(mint(), RVM_PROOF_STANDARD), RVM_E_STATE);
}

TEST_F(ProofTest, EscalationAppliesTheRequiredTierAndIsWitnessed) {
    const ProofToken t = mint(RVM_PROOF_REFLEX);
    const auto tier = w.k().check_proof(p, t, kCall, kArgs, RVM_PROOF_STANDARD);
    ASSERT_TRUE(tier);
    EXPECT_EQ(tier.value(), RVM_PROOF_STANDARD);
    w.k().consume_proof(p, t, tier.value());
    ASSERT_GE(w.records(), 2u);
    EXPECT_EQ(w.sink.records[w.records() - 2].kind(), RVM_WK_PROOF_ESCALATED);
    EXPECT_EQ(w.sink.records.back().kind(), RVM_WK_PROOF_VERIFIED);
    EXPECT_TRUE(w.sync());
}

TEST_F(ProofTest, MintingRequiresProveAndRevocationMakesTokensStale) {
    // A derived capability without PROVE cannot mint.
    const PartitionId q = w.partition();
    const auto weak = w.k().derive(p, prove, q, Rights{RVM_RIGHT_READ});
    ASSERT_TRUE(weak);
    EXPECT_EQ(w.k().mint_proof(q, weak.value(), RVM_PROOF_REFLEX, kCall, kArgs, 0).error().code, RVM_E_RIGHTS);
    const auto strong = w.k().derive(p, prove, q, Rights{RVM_RIGHT_PROVE | RVM_RIGHT_REVOKE});
    ASSERT_TRUE(strong);
    const auto t = w.k().mint_proof(q, strong.value(), RVM_PROOF_REFLEX, kCall, kArgs, 0);
    ASSERT_TRUE(t);
    ASSERT_TRUE(w.k().revoke(q, strong.value(), true));
    EXPECT_EQ(w.k().check_proof(q, t.value(), kCall, kArgs, RVM_PROOF_REFLEX).error().code, RVM_E_PROOF_STALE);
    EXPECT_EQ(w.k().mint_proof(p, prove, 0, kCall, kArgs, 0).error().code, RVM_E_INVALID);
    EXPECT_EQ(w.k().mint_proof(p, prove, 4, kCall, kArgs, 0).error().code, RVM_E_INVALID);
    EXPECT_TRUE(w.sync());
}

TEST_F(ProofTest, DeepChecksCoherenceFloorAndChain) {
    World strict;
    // A policy with a coherence floor above the partition's score.
    strict.kernel = std::make_unique<Kernel>(
        KernelEnv{strict.hash, strict.clock, strict.proof_key, ProofPolicy{10'000'000'000, 1001}, strict.log.get()});
    const PartitionId sp = strict.partition();
    const auto t =
        strict.k().mint_proof(sp, strict.self_cap(sp), RVM_PROOF_DEEP, kCall, kArgs, strict.clock.now_ns() + 1000);
    ASSERT_TRUE(t);
    EXPECT_EQ(strict.k().check_proof(sp, t.value(), kCall, kArgs, RVM_PROOF_DEEP).error().code, RVM_E_POLICY);
    // Default policy: a depth-2 capability with an intact chain passes Deep.
    const PartitionId q = w.partition();
    const PartitionId r = w.partition();
    const Rights rr{RVM_RIGHT_PROVE | RVM_RIGHT_GRANT};
    const auto c1 = w.k().derive(p, prove, q, rr);
    const auto c2 = w.k().derive(q, c1.value(), r, Rights{RVM_RIGHT_PROVE});
    ASSERT_TRUE(c1 && c2);
    const auto deep = w.k().mint_proof(r, c2.value(), RVM_PROOF_DEEP, kCall, kArgs, w.clock.now_ns() + 1000);
    ASSERT_TRUE(deep);
    EXPECT_TRUE(w.k().check_proof(r, deep.value(), kCall, kArgs, RVM_PROOF_DEEP));
}

}  // namespace
}  // namespace rvm
