#include "nucleus/psi_policy.hpp"

#include "nucleus/psi.hpp"

namespace rvm {
namespace {

constexpr bool allowance_ok(PsiAllowance a) {
    return a.cpu_permille >= 1 && a.cpu_permille <= 1000 && a.mem_permille >= 1 && a.mem_permille <= 1000;
}

constexpr bool not_above(PsiAllowance lower, PsiAllowance upper) {
    return lower.cpu_permille <= upper.cpu_permille && lower.mem_permille <= upper.mem_permille;
}

}  // namespace

KResult<void> validate(const PsiPolicyConfig& c) {
    if (c.reduced_from_ppm == 0 || c.reduced_from_ppm > c.throttled_above_ppm) return fail(RVM_E_INVALID);
    if (c.throttled_above_ppm > kPsiRatioOne) return fail(RVM_E_INVALID);
    if (!allowance_ok(c.full) || !allowance_ok(c.reduced) || !allowance_ok(c.throttled)) return fail(RVM_E_INVALID);
    if (!not_above(c.reduced, c.full) || !not_above(c.throttled, c.reduced)) return fail(RVM_E_INVALID);
    if (c.boost_level == 0 || c.boost_level > kPsiMaxBoostLevel) return fail(RVM_E_INVALID);
    if (c.boost_epochs == 0 || c.boost_epochs > kPsiMaxBoostEpochs) return fail(RVM_E_INVALID);
    return {};
}

PsiBand psi_band(std::uint32_t ratio_ppm, const PsiPolicyConfig& c) {
    if (!c.throttle || ratio_ppm < c.reduced_from_ppm) return PsiBand::Full;
    if (ratio_ppm <= c.throttled_above_ppm) return PsiBand::Reduced;
    return PsiBand::Throttled;
}

PsiDecision psi_decide(std::uint32_t ratio_ppm, std::uint32_t boost_epochs_left, const PsiPolicyConfig& c) {
    PsiDecision d;
    d.ratio_ppm = ratio_ppm;
    d.band = psi_band(ratio_ppm, c);
    const PsiAllowance a = d.band == PsiBand::Full ? c.full : d.band == PsiBand::Reduced ? c.reduced : c.throttled;
    // With the policy off the allowance is 100 %, whatever `full` says.
    d.cpu_permille = c.throttle ? a.cpu_permille : std::uint16_t{1000};
    d.mem_permille = c.throttle ? a.mem_permille : std::uint16_t{1000};
    if (c.boost && boost_epochs_left > 0) {
        d.boost = c.boost_level;
        d.boost_epochs_left = boost_epochs_left;
    }
    return d;
}

const char* psi_band_name(PsiBand b) {
    switch (b) {
        case PsiBand::Full: return "full";
        case PsiBand::Reduced: return "reduced";
        case PsiBand::Throttled: return "throttled";
    }
    return "unknown";
}

}  // namespace rvm
