// Kernel: the authority for live reshaping (split, merge, migrate).
#include "abi/hypercall.h"
#include "nucleus/kernel.hpp"

namespace rvm {

namespace {
constexpr std::uint64_t kReshapeProofTtlNs = 1'000'000'000;
}  // namespace

KResult<void> Kernel::authorize_reshape(PartitionId p, CapHandle self, ReshapeKind kind) {
    const Partition* part = partition(p);
    if (part == nullptr || part->state != PartitionState::Active) return fail(RVM_E_STATE, 1);
    const Rights right{kind == ReshapeKind::Split   ? RVM_RIGHT_SPLIT
                       : kind == ReshapeKind::Merge ? RVM_RIGHT_MERGE
                                                    : RVM_RIGHT_MIGRATE};
    const auto cap = st_.caps.lookup(p.index, self, RVM_OBJ_PARTITION, right);
    if (!cap) return fail(RVM_E_RIGHTS, 2);
    const std::uint32_t call = kind == ReshapeKind::Split ? RVM_HC_PARTITION_SPLIT : RVM_HC_PARTITION_MERGE;
    const CallArgs args{p.raw(), static_cast<std::uint64_t>(kind), 0, 0, 0};
    const auto token = mint_proof(p, self, RVM_PROOF_DEEP, call, args, now_ns() + kReshapeProofTtlNs);
    if (!token) return fail(token.error().code, 3);
    const auto tier = check_proof(p, token.value(), call, args, RVM_PROOF_DEEP);
    if (!tier) return fail(tier.error().code, 4);
    consume_proof(p, token.value(), tier.value());
    return {};
}

}  // namespace rvm
