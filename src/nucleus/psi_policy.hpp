// The resource policy driven by a partition's Ψ ratio (seed 001) and the
// short-term priority boost for a partition that starts transitioning
// (seed 000). Pure: PsiEngine supplies the ratio and whether a boost is armed.
//
// Bands (seed 001: "< 10 % full, 10-30 % 80 %, > 30 % 50 %"):
//   ratio <  reduced_from_ppm                      -> Full       (default 100 %)
//   reduced_from_ppm <= ratio <= throttled_above_ppm -> Reduced  (default 80 %)
//   ratio >  throttled_above_ppm                   -> Throttled  (default 50 %)
// so exactly 10 % and exactly 30 % are both Reduced. Allowances are per mille
// of the partition's configured CPU quota and memory allowance.
#pragma once

#include <cstdint>

#include "nucleus/status.hpp"

namespace rvm {

enum class PsiBand : std::uint8_t { Full, Reduced, Throttled };
inline constexpr std::uint8_t kPsiMaxBoostLevel = 15;
inline constexpr std::uint32_t kPsiMaxBoostEpochs = 1000;

struct PsiAllowance {
    std::uint16_t cpu_permille = 1000;
    std::uint16_t mem_permille = 1000;
    friend constexpr bool operator==(PsiAllowance, PsiAllowance) = default;
};

struct PsiPolicyConfig {
    bool throttle = true;                         // off: always the Full allowance
    bool boost = true;                            // off: never a boost
    std::uint32_t reduced_from_ppm = 100'000;     // 10 %
    std::uint32_t throttled_above_ppm = 300'000;  // 30 %
    PsiAllowance full{1000, 1000};
    PsiAllowance reduced{800, 800};
    PsiAllowance throttled{500, 500};
    std::uint8_t boost_level = 1;    // scheduler priority steps, 1..kPsiMaxBoostLevel
    std::uint32_t boost_epochs = 3;  // how long a boost lasts, 1..kPsiMaxBoostEpochs
    friend constexpr bool operator==(const PsiPolicyConfig&, const PsiPolicyConfig&) = default;
};

// Refuses (RVM_E_INVALID): reduced_from_ppm == 0 or > throttled_above_ppm,
// throttled_above_ppm > 10^6, an allowance of 0 or > 1000, allowances that
// grow with the ratio (per resource full >= reduced >= throttled is required),
// boost_level or boost_epochs outside their ranges. Checked even when
// throttle or boost is off, so switching them on cannot expose a bad value.
[[nodiscard]] KResult<void> validate(const PsiPolicyConfig& c);

struct PsiDecision {
    std::uint32_t ratio_ppm = 0;  // the ratio the band was chosen from
    PsiBand band = PsiBand::Full;
    std::uint16_t cpu_permille = 1000;
    std::uint16_t mem_permille = 1000;
    std::uint8_t boost = 0;               // priority steps, 0 = none
    std::uint32_t boost_epochs_left = 0;  // including the current epoch
    friend constexpr bool operator==(const PsiDecision&, const PsiDecision&) = default;
};

[[nodiscard]] PsiBand psi_band(std::uint32_t ratio_ppm, const PsiPolicyConfig& c);
// boost_epochs_left: epochs the armed boost still covers (0 = none armed).
[[nodiscard]] PsiDecision psi_decide(std::uint32_t ratio_ppm, std::uint32_t boost_epochs_left,
                                     const PsiPolicyConfig& c);
[[nodiscard]] const char* psi_band_name(PsiBand b);

}  // namespace rvm
