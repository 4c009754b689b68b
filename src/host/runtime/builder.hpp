// The one path from a validated manifest to a runtime ready to start (as
// Firecracker's builder): agent images read with their size bound, the
// partitions added in declaration order, the edges connected, then the Ψ
// policy, the coherence engine and the scheduler. Used by `rvm run`, the
// KVM tests and the benchmarks. Nothing runs until AgentRunner::start().
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "backend/kvm/kvm_system.hpp"
#include "host/config/manifest.hpp"
#include "host/posix/posix_io.hpp"
#include "host/runtime/agent_runner.hpp"
#include "nucleus/kernel.hpp"

namespace rvm::host {

// The largest agent image read from a file.
inline constexpr std::size_t kAgentMaxBytes = std::size_t{64} << 20;

enum class BuildErrc : std::uint8_t {
    kAgentFile,  // a partition's agent could not be read
    kPartition,  // the runtime refused a partition (spec, image, KVM, nucleus)
    kEdge,       // the runtime refused an edge
    kScheduler,  // the RVM scheduler could not be enabled
};

// Which step failed, on which partition or edge (index into the manifest's
// lists), and the reason below it (a describe()d I/O error or the runtime's
// message). message() is what `rvm run` prints after "rvm: ".
struct BuildError {
    BuildErrc code = BuildErrc::kPartition;
    std::size_t index = 0;
    std::string reason;
    std::string context;  // "partition 'a' (path)" and the like; empty for kScheduler

    [[nodiscard]] std::string message() const;
};

// An agent image of at most kAgentMaxBytes.
[[nodiscard]] Result<std::vector<std::uint8_t>, IoError> read_agent_image(const std::string& path);

// Host CPUs the RVM scheduler uses when the manifest does not say: every
// online CPU, 1 .. 64.
[[nodiscard]] std::uint32_t default_sched_cpus();

// Adds the manifest's partitions and edges to `runner` and applies its
// [run] switches. A partition whose `elf` is empty is read from its
// agent_path. On error the runner holds what was built before the failure
// (destroy_all() or the runner's destructor releases it).
[[nodiscard]] Result<void, BuildError> populate(AgentRunner& runner, const Manifest& m);

// A new runner on `kernel`, populated from `m`.
[[nodiscard]] Result<std::unique_ptr<AgentRunner>, BuildError> build(const Manifest& m, Kernel& kernel,
                                                                     const Clock& clock, const kvm::KvmSystem& sys,
                                                                     AgentRunner::LogFn log);

}  // namespace rvm::host
