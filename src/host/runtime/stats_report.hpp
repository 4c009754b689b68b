// The `rvm stats` report: per partition and vCPU, the Ψ (transition
// intensity) state and ratio, transitions per second, and exit counts by
// kind -- what seed 000 wanted from /sys/kernel/debug/ternary_kvm/stats.
// `rvm run --stats FILE` writes it as JSON; `rvm stats FILE` reads it back.
#pragma once

#include <string>
#include <vector>

#include "host/runtime/agent_runner.hpp"
#include "nucleus/result.hpp"

namespace rvm::host {

inline constexpr std::size_t kStatsMaxBytes = 16u << 20;

// The JSON document, format "rvm-stats-v1": {"format", "host": {partitions,
// vcpus, psi_ratio_percent, transitions_per_s, guest_ratio_percent},
// "partitions": [{name, state, exit_code, run_ms, psi_state,
// psi_ratio_percent, transitions_per_s, cpu_permille, mem_permille,
// throttled_ms, "vcpus": [{task, running, psi_state, psi_ratio_percent,
// transitions_per_s, epochs, "counters": {exits, io_exits, mmio_exits,
// irq_injections, halt_exits, insn_emulation, hypercalls}}]}]}.
[[nodiscard]] std::string stats_json(const std::vector<PartitionReport>& reports, const PsiHostView& host);

// Renders a JSON document as a table (or re-emits it, normalized, when
// `json`). The document is untrusted: a parse or shape error is a message.
[[nodiscard]] Result<std::string, std::string> render_stats(const std::string& text, bool json);

}  // namespace rvm::host
