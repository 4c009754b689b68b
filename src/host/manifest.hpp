// Manifest: what `rvm run manifest.toml` starts (docs/manifest.md). Parsing
// checks everything that can be known before a VM exists -- keys, types,
// ranges, sizes that fit, agent files that can be read -- so that a bad
// manifest fails with one message naming the file, line and key.
#pragma once

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "abi/agent.h"
#include "nucleus/result.hpp"

namespace rvm::host {

inline constexpr std::size_t kManifestMaxBytes = std::size_t{1} << 20;
inline constexpr std::size_t kManifestMaxPartitions = 64;
inline constexpr std::size_t kManifestMaxNameLength = 32;

// What the partition needs beyond its task stacks: everything below the image
// base (abi/agent.h: null guard, info page, TSS) plus at least 1 MiB for the
// image and heap.
inline constexpr std::uint64_t kManifestMemoryOverhead = RVM_IMAGE_MIN_VA + (std::uint64_t{1} << 20);

struct RunConfig {
    std::chrono::milliseconds wall_time{30'000};
    std::string witness_path;      // resolved; empty when no witness log is asked for
    std::string agent_dir;         // resolved; relative agent paths start here
    bool psi_policy = false;       // enforce the Ψ CPU allowance by duty cycling
    bool rvm_scheduler = false;    // scheduler = "rvm": RVM decides which task runs (else Linux)
    std::uint32_t sched_cpus = 0;  // host CPUs RVM schedules on (0: all online)
    bool coherence = false;        // observe the edges with the coherence engine
    bool reshape = false;          // and apply its proposals to the running partitions
};

struct PartitionSpec {
    std::string name;
    std::string agent_path;  // resolved; a readable regular file at parse time
    std::uint64_t memory_bytes = std::uint64_t{16} << 20;
    std::uint32_t tasks = 1;
    std::uint32_t max_tasks = 8;
    std::uint64_t stack_bytes = std::uint64_t{64} << 10;
    std::chrono::milliseconds wall_time{30'000};  // defaults to the run's
    std::uint32_t log_rate = 100;                 // log hypercalls per second
    std::uint64_t arg = 0;                        // start argument of the initial tasks (rdx)
    bool kernel_profile = false;                  // profile = "kernel": CPL0 (default "agent": CPL3)
    // For scheduler = "rvm": each task runs periodic jobs of `budget` CPU
    // time due `deadline` after each release (0: none); critical = Reflex.
    std::chrono::milliseconds period{0}, deadline{0}, budget{0};
    bool critical = false;
    // wasm (issue 15): WASI args / environment of a .wasm agent (args[0] is
    // the program name by convention; empty: none).
    std::vector<std::string> wasm_args, wasm_env;
    std::uint32_t line = 0;  // where the partition is declared
};

// A CommEdge between two declared partitions ([[edge]]).
struct EdgeSpec {
    std::size_t from = 0, to = 0;    // indices into Manifest::partitions
    std::uint64_t capacity = 65536;  // ring data bytes, a power of two in 4 KiB .. 1 MiB
    std::uint64_t share = 0;         // zero-copy region bytes (0: none; a 4 KiB multiple, <= 2 MiB)
    std::uint32_t line = 0;
};

inline constexpr std::size_t kManifestMaxEdges = 256;

struct Manifest {
    RunConfig run;
    std::vector<PartitionSpec> partitions;  // in declaration order
    std::vector<EdgeSpec> edges;            // in declaration order (each end's edge k)
    std::string dir;                        // the manifest's directory
};

enum class ManifestErrc : std::uint8_t {
    kRead,             // the file could not be read or is too large
    kSyntax,           // not valid TOML
    kUnknownKey,       // a key the format does not define
    kMissingKey,       // a required key is absent
    kWrongType,        // a key has a value of the wrong TOML type
    kBadValue,         // a value is malformed or out of range
    kDuplicateName,    // two partitions share a name
    kPartitionCount,   // no partition, or more than kManifestMaxPartitions
    kEdge,             // an edge names an unknown partition, itself, or too many edges
    kImpossibleSizes,  // the stacks cannot fit in the partition's memory
    kAgentFile,        // the agent is missing, unreadable or not a regular file
    kPath,             // agent_dir or the witness path is unusable
};

// A fixed-size value (Result's errors are trivially copyable) holding the
// full message, "file:line: ...". Overlong messages end in "...".
struct ManifestError {
    static constexpr std::size_t kCapacity = 2048;

    ManifestErrc code = ManifestErrc::kBadValue;
    std::uint32_t line = 0;              // 0 when the error is not about one line
    std::array<char, kCapacity> text{};  // NUL-terminated

    [[nodiscard]] std::string_view message() const { return std::string_view(text.data()); }
};

// Parses `text`; `source_name` prefixes messages, `base_dir` is the directory
// relative paths in the manifest start from (the manifest's own).
[[nodiscard]] Result<Manifest, ManifestError> parse_manifest(std::string_view text, const std::string& source_name,
                                                             const std::string& base_dir);

// Reads at most kManifestMaxBytes from `path` and parses it relative to its
// directory (made absolute, so resolved paths in messages are absolute).
[[nodiscard]] Result<Manifest, ManifestError> load_manifest(const std::string& path);

}  // namespace rvm::host
