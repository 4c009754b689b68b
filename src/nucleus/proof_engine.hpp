// ProofEngine: mints and verifies proof tokens (abi/proof.h) at three tiers.
//   Reflex:   MAC, call binding, nonce fresh (anti-replay window), minting
//             capability still live with PROVE.            target < 100 ns
//   Standard: Reflex + expiry present, not passed, within the lifetime bound,
//             caller Active.                                target < 100 us
//   Deep:     Standard + the capability's derivation chain to its root is
//             intact and monotonic + the caller's coherence is at or above
//             the policy floor.                             target < 10 ms
// Verification is pure (check); consumption of the nonce is a separate step
// (consume) taken by perform, so a rejected call changes nothing.
#pragma once

#include <array>
#include <cstdint>
#include <span>

#include "abi/proof.h"
#include "nucleus/config.hpp"
#include "nucleus/handle.hpp"
#include "nucleus/keyed_hash.hpp"
#include "nucleus/status.hpp"

namespace rvm {

class CapSpace;
struct Partition;

struct ProofPolicy {
    std::uint64_t max_lifetime_ns = 10'000'000'000;  // Standard: expiry - now bound
    std::uint16_t min_coherence_milli = 0;           // Deep: coherence floor
};

struct ProofToken {
    rvm_proof_token raw{};
    [[nodiscard]] std::span<const std::uint8_t> bytes() const;
    [[nodiscard]] static ProofToken from_bytes(std::span<const std::uint8_t, RVM_PROOF_TOKEN_SIZE> b);
};

using CallArgs = std::array<std::uint64_t, 5>;  // arguments 1..5 the token binds

// Per-partition anti-replay state: nonces are minted in increasing order; a
// nonce is accepted once, and only while within 64 of the highest consumed.
struct NonceWindow {
    std::uint64_t next = 1;     // next nonce to mint
    std::uint64_t highest = 0;  // highest consumed
    std::uint64_t bitmap = 0;   // bit i: nonce (highest - i) consumed
    friend constexpr bool operator==(const NonceWindow&, const NonceWindow&) = default;
};

struct ProofState {
    std::array<NonceWindow, kMaxPartitions> windows{};
    friend bool operator==(const ProofState&, const ProofState&) = default;
};

class ProofEngine {
public:
    ProofEngine(const KeyedHash& hash, const MacKey& key, ProofPolicy policy)
        : hash_(hash), key_(key), policy_(policy) {}

    // Mints a token for `partition` (pool index `table`) on capability `cap`.
    // The caller has already checked that `cap` carries PROVE.
    [[nodiscard]] ProofToken mint(ProofState& st, PartitionId partition, CapHandle cap, std::uint8_t tier,
                                  std::uint32_t call, const CallArgs& args, std::uint64_t expiry_ns) const;

    struct Context {
        PartitionId partition;
        const Partition& caller;
        const CapSpace& caps;
        std::uint64_t now_ns;
    };
    // Checks `token` for `call` at tier max(required, token tier). Returns
    // the tier that was applied. Changes nothing.
    [[nodiscard]] KResult<std::uint8_t> check(const ProofState& st, const Context& ctx, const ProofToken& token,
                                              std::uint32_t call, const CallArgs& args, std::uint8_t required) const;

    // Marks the nonce consumed. Only after a successful check.
    static void consume(ProofState& st, std::uint32_t table, std::uint64_t nonce);

    [[nodiscard]] const ProofPolicy& policy() const { return policy_; }

private:
    [[nodiscard]] std::uint64_t compute_mac(PartitionId partition, const ProofToken& t, const CallArgs& args) const;

    const KeyedHash& hash_;
    MacKey key_;
    ProofPolicy policy_;
};

}  // namespace rvm
