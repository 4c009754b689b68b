// The host's side of the shared Ψ page (abi/psi.h, struct rvm_psi_page):
// 64 bytes of guest memory that both sides write while the other runs. Each
// side owns some fields and a sequence counter (a single-writer seqlock);
// everything in the page is the guest's and hostile: the host reads it with
// bounded retries, never trusts a field it did not validate, and a guest that
// corrupts the page only loses its own report.
#pragma once

#include <cstdint>
#include <optional>
#include <span>

#include "nucleus/psi_engine.hpp"

namespace rvm::host {

using PsiPage = std::span<std::uint8_t, 64>;

// Magic and version as RVM_HC_PSI_REGISTER requires them (64-byte alignment
// of the guest address is the caller's check).
[[nodiscard]] bool psi_page_valid(PsiPage page);

enum class PsiPageRead : std::uint8_t { Ok, Busy, Invalid };

// A consistent snapshot of the guest's fields: Busy when the guest's counter
// stayed odd or kept changing for `tries` attempts (torn, try next epoch);
// Invalid when the magic / version changed or the ratio exceeds 100 %.
[[nodiscard]] PsiPageRead psi_page_read_guest(PsiPage page, PsiGuestReport& out, unsigned tries = 4);

// Publishes the host's fields (ratio, timestamp) under the host's counter.
// The guest may have scribbled the counter: the host continues from whatever
// value it finds, made even, so readers always see odd -> even transitions.
void psi_page_publish_host(PsiPage page, std::uint32_t host_ratio_ppm, std::uint64_t timestamp_ns);

}  // namespace rvm::host
