#include "host/runtime/builder.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>

namespace rvm::host {

namespace {

using Fail = Err<BuildError>;

Fail failure(BuildErrc code, std::size_t index, std::string context, std::string reason) {
    return Fail{BuildError{code, index, std::move(reason), std::move(context)}};
}

Result<void, BuildError> add_partitions(AgentRunner& runner, const Manifest& m) {
    for (std::size_t i = 0; i < m.partitions.size(); ++i) {
        const PartitionSpec& p = m.partitions[i];
        if (!p.elf.empty()) {
            const auto added = runner.add(p);
            if (!added) return failure(BuildErrc::kPartition, i, fmt::format("partition '{}'", p.name), added.error());
            continue;
        }
        auto elf = read_agent_image(p.agent_path);
        if (!elf) {
            return failure(BuildErrc::kAgentFile, i, fmt::format("partition '{}': {}", p.name, p.agent_path),
                           describe(elf.error()));
        }
        PartitionSpec spec = p;
        spec.elf = std::move(elf.value());
        const auto added = runner.add(spec);
        if (!added) {
            return failure(BuildErrc::kPartition, i, fmt::format("partition '{}' ({})", p.name, p.agent_path),
                           added.error());
        }
    }
    return {};
}

Result<void, BuildError> connect_edges(AgentRunner& runner, const Manifest& m) {
    for (std::size_t i = 0; i < m.edges.size(); ++i) {
        const EdgeSpec& e = m.edges[i];
        const auto c = runner.connect(e.from, e.to, e.capacity, e.share);
        if (!c) {
            return failure(
                BuildErrc::kEdge, i,
                fmt::format("edge '{}' -> '{}' (line {})", m.partitions[e.from].name, m.partitions[e.to].name, e.line),
                c.error());
        }
    }
    return {};
}

}  // namespace

std::string BuildError::message() const { return context.empty() ? reason : fmt::format("{}: {}", context, reason); }

Result<std::vector<std::uint8_t>, IoError> read_agent_image(const std::string& path) {
    return read_file(path, kAgentMaxBytes);
}

std::uint32_t default_sched_cpus() {
    const long online = sysconf(_SC_NPROCESSORS_ONLN);
    return static_cast<std::uint32_t>(std::clamp(online, 1L, 64L));
}

Result<void, BuildError> populate(AgentRunner& runner, const Manifest& m) {
    RVM_TRY_VOID(add_partitions(runner, m));
    RVM_TRY_VOID(connect_edges(runner, m));
    runner.set_psi_policy(m.run.psi_policy);
    if (m.run.coherence) runner.enable_coherence(m.run.reshape);
    if (m.run.rvm_scheduler) {
        SchedConfig cfg;
        cfg.cpus = m.run.sched_cpus != 0 ? m.run.sched_cpus : default_sched_cpus();
        const auto on = runner.enable_scheduler(cfg);
        if (!on) return failure(BuildErrc::kScheduler, 0, std::string(), on.error());
    }
    return {};
}

Result<std::unique_ptr<AgentRunner>, BuildError> build(const Manifest& m, Kernel& kernel, const Clock& clock,
                                                       const kvm::KvmSystem& sys, AgentRunner::LogFn log) {
    auto runner = std::make_unique<AgentRunner>(kernel, clock, sys, std::move(log));
    RVM_TRY_VOID(populate(*runner, m));
    return runner;
}

}  // namespace rvm::host
