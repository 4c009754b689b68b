#include "nucleus/proof_engine.hpp"

#include <cstddef>
#include <cstring>
#include <type_traits>

#include "nucleus/cap_space.hpp"
#include "nucleus/partition.hpp"

namespace rvm {

static_assert(sizeof(rvm_proof_token) == RVM_PROOF_TOKEN_SIZE);
static_assert(offsetof(rvm_proof_token, nonce) == 0);
static_assert(offsetof(rvm_proof_token, expiry_ns) == 8);
static_assert(offsetof(rvm_proof_token, cap) == 16);
static_assert(offsetof(rvm_proof_token, call) == 24);
static_assert(offsetof(rvm_proof_token, tier) == 28);
static_assert(offsetof(rvm_proof_token, reserved) == 29);
static_assert(offsetof(rvm_proof_token, mac) == 32);
static_assert(std::has_unique_object_representations_v<rvm_proof_token>);

std::span<const std::uint8_t> ProofToken::bytes() const {
    // SAFETY: rvm_proof_token has unique object representations (static_assert above).
    return {reinterpret_cast<const std::uint8_t*>(&raw), sizeof raw};
}

ProofToken ProofToken::from_bytes(std::span<const std::uint8_t, RVM_PROOF_TOKEN_SIZE> b) {
    ProofToken t;
    std::memcpy(&t.raw, b.data(), sizeof t.raw);
    return t;
}

std::uint64_t ProofEngine::compute_mac(PartitionId partition, const ProofToken& t, const CallArgs& args) const {
    // partition (8) | token bytes [0..32) | args (40)
    std::array<std::uint8_t, 80> m{};
    const std::uint64_t p = partition.raw();
    std::memcpy(m.data(), &p, 8);
    std::memcpy(m.data() + 8, t.bytes().data(), 32);
    std::memcpy(m.data() + 40, args.data(), 40);
    return hash_.mac(key_, m);
}

ProofToken ProofEngine::mint(ProofState& st, PartitionId partition, CapHandle cap, std::uint8_t tier,
                             std::uint32_t call, const CallArgs& args, std::uint64_t expiry_ns) const {
    NonceWindow& w = st.windows[partition.index];
    ProofToken t;
    t.raw.nonce = w.next++;
    t.raw.expiry_ns = expiry_ns;
    t.raw.cap = cap.raw();
    t.raw.call = call;
    t.raw.tier = tier;
    t.raw.mac = compute_mac(partition, t, args);
    return t;
}

KResult<std::uint8_t> ProofEngine::check(const ProofState& st, const Context& ctx, const ProofToken& token,
                                         std::uint32_t call, const CallArgs& args, std::uint8_t required) const {
    const rvm_proof_token& t = token.raw;
    // Reflex: well-formed, bound to this partition, call and arguments.
    if (t.tier < RVM_PROOF_REFLEX || t.tier > RVM_PROOF_DEEP || t.reserved[0] != 0 || t.reserved[1] != 0 ||
        t.reserved[2] != 0 || t.call != call) {
        return fail(RVM_E_PROOF_FORGED);
    }
    if (compute_mac(ctx.partition, token, args) != t.mac) return fail(RVM_E_PROOF_FORGED);
    const NonceWindow& w = st.windows[ctx.partition.index];
    if (t.nonce == 0 || t.nonce >= w.next) return fail(RVM_E_PROOF_FORGED);
    if (t.nonce <= w.highest) {
        const std::uint64_t age = w.highest - t.nonce;
        if (age >= 64) return fail(RVM_E_PROOF_STALE);
        if ((w.bitmap >> age) & 1u) return fail(RVM_E_PROOF_REPLAYED);
    }
    const CapHandle cap = CapHandle::from_raw(t.cap);
    if (!ctx.caps.lookup(ctx.partition.index, cap, RVM_OBJ_TYPE_COUNT_, Rights{RVM_RIGHT_PROVE})) {
        return fail(RVM_E_PROOF_STALE);  // minted on a capability since revoked
    }
    const std::uint8_t tier = t.tier > required ? t.tier : required;
    if (tier >= RVM_PROOF_STANDARD) {
        if (t.expiry_ns == 0 || ctx.now_ns > t.expiry_ns) return fail(RVM_E_PROOF_STALE);
        if (t.expiry_ns - ctx.now_ns > policy_.max_lifetime_ns) return fail(RVM_E_POLICY);
        if (ctx.caller.state != PartitionState::Active) return fail(RVM_E_STATE);
    }
    if (tier >= RVM_PROOF_DEEP) {
        if (!ctx.caps.chain_to_root_valid(ctx.partition.index, cap)) return fail(RVM_E_PROOF_STALE);
        if (ctx.caller.coherence_milli < policy_.min_coherence_milli) return fail(RVM_E_POLICY);
    }
    return tier;
}

void ProofEngine::consume(ProofState& st, std::uint32_t table, std::uint64_t nonce) {
    NonceWindow& w = st.windows[table];
    if (nonce > w.highest) {
        const std::uint64_t shift = nonce - w.highest;
        w.bitmap = shift >= 64 ? 0 : (w.bitmap << shift);
        w.highest = nonce;
        w.bitmap |= 1u;
    } else {
        w.bitmap |= std::uint64_t{1} << (w.highest - nonce);
    }
}

}  // namespace rvm
