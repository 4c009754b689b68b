#include "host/config/manifest.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <optional>
#include <span>

#include <fmt/format.h>

#include "host/config/manifest_values.hpp"
#include "host/posix/posix_io.hpp"

namespace rvm::host {

namespace {

namespace fs = std::filesystem;
using namespace manifest_values;  // the value readers are this parser's vocabulary

constexpr std::string_view kRootKeys[] = {"run", "partition", "edge"};
constexpr std::string_view kEdgeKeys[] = {"from", "to", "capacity", "share"};
constexpr std::string_view kRunKeys[] = {"wall_time", "witness", "agent_dir", "psi_policy",
                                         "scheduler", "cpus",    "coherence", "reshape"};
constexpr std::string_view kPartitionKeys[] = {"name",   "agent",     "memory",   "tasks",   "max_tasks",
                                               "stack",  "wall_time", "log_rate", "arg",     "profile",
                                               "period", "deadline",  "budget",   "critical"};

Result<RunConfig, ManifestError> read_run(const Context& ctx, const toml::table& root) {
    RunConfig run;
    run.agent_dir = ctx.base.lexically_normal().string();
    const toml::node* n = root.get("run");
    if (n == nullptr) return run;
    const auto* t = n->as_table();
    if (t == nullptr) {
        return fail(ctx, ManifestErrc::kWrongType, line_of(n->source()), "'run' must be a table ([run]), not {}",
                    type_text(*n));
    }
    const Scope s{ctx, *t, "[run]"};
    RVM_TRY_VOID(only_known_keys(s, kRunKeys));
    auto wall = read_duration(s, "wall_time", run.wall_time);
    if (!wall) return Fail{wall.error()};
    run.wall_time = wall.value();
    auto witness = read_string(s, "witness", false);
    if (!witness) return Fail{witness.error()};
    if (witness.value()) run.witness_path = resolve(ctx.base, *witness.value()).string();
    auto dir = read_string(s, "agent_dir", false);
    if (!dir) return Fail{dir.error()};
    if (dir.value()) run.agent_dir = resolve(ctx.base, *dir.value()).string();
    if (const toml::node* pol = s.table.get("psi_policy")) {
        const auto* b = pol->as_boolean();
        if (b == nullptr) return wrong_type(s, "psi_policy", *pol, "a boolean");
        run.psi_policy = b->get();
    }
    auto sched = read_string(s, "scheduler", false);
    if (!sched) return Fail{sched.error()};
    if (sched.value()) {
        if (*sched.value() == "rvm") {
            run.rvm_scheduler = true;
        } else if (*sched.value() != "linux") {
            return fail(ctx, ManifestErrc::kBadValue, line_of(t->get("scheduler")->source()),
                        "'scheduler' in [run]: '{}' is neither \"linux\" (the default) nor \"rvm\"",
                        shown(*sched.value()));
        }
    }
    if (const toml::node* c = s.table.get("coherence")) {
        const auto* b = c->as_boolean();
        if (b == nullptr) return wrong_type(s, "coherence", *c, "a boolean");
        run.coherence = b->get();
    }
    if (const toml::node* c = s.table.get("reshape")) {
        const auto* b = c->as_boolean();
        if (b == nullptr) return wrong_type(s, "reshape", *c, "a boolean");
        run.reshape = b->get();
        if (run.reshape && !run.coherence) {
            return fail(ctx, ManifestErrc::kBadValue, line_of(c->source()),
                        "'reshape' in [run] needs 'coherence = true': the engine's proposals are what it applies");
        }
    }
    auto cpus = read_integer(s, "cpus", 0, 1, 64);
    if (!cpus) return Fail{cpus.error()};
    run.sched_cpus = static_cast<std::uint32_t>(cpus.value());
    return run;
}

bool valid_name(std::string_view name) {
    if (name.empty() || name.size() > kManifestMaxNameLength) return false;
    return std::all_of(name.begin(), name.end(),
                       [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-'; });
}

// An integer count of any value: its bounds are validate()'s. Values beyond
// 32 bits are clamped so that it refuses them; messages quote the manifest's.
Result<std::uint32_t, ManifestError> read_count(const Scope& s, std::string_view key, std::uint32_t fallback) {
    const toml::node* n = s.table.get(key);
    if (n == nullptr) return fallback;
    const auto* i = n->as_integer();
    if (i == nullptr) return wrong_type(s, key, *n, "an integer");
    return static_cast<std::uint32_t>(std::clamp<std::int64_t>(i->get(), 0, UINT32_MAX));
}

Result<void, ManifestError> read_limits(const Scope& s, const RunConfig& run, PartitionSpec& p) {
    auto memory = read_bytes(s, "memory", p.memory);
    if (!memory) return Fail{memory.error()};
    p.memory = memory.value();
    auto max_tasks = read_count(s, "max_tasks", p.max_tasks);
    if (!max_tasks) return Fail{max_tasks.error()};
    p.max_tasks = max_tasks.value();
    auto tasks = read_count(s, "tasks", p.tasks);
    if (!tasks) return Fail{tasks.error()};
    p.tasks = tasks.value();
    auto stack = read_bytes(s, "stack", p.stack_size);
    if (!stack) return Fail{stack.error()};
    p.stack_size = stack.value();
    auto wall = read_duration(s, "wall_time", run.wall_time);
    if (!wall) return Fail{wall.error()};
    if (wall.value() > run.wall_time) {
        return fail(s.ctx, ManifestErrc::kBadValue, line_of(s.table.get("wall_time")->source()),
                    "'wall_time' in {} is {}; it must not exceed the run's wall_time ({})", s.label,
                    duration_text(wall.value()), duration_text(run.wall_time));
    }
    p.wall_time_ns = static_cast<std::uint64_t>(wall.value().count()) * kNsPerMs;  // <= a week: no overflow
    auto rate = read_count(s, "log_rate", p.log_rate);
    if (!rate) return Fail{rate.error()};
    p.log_rate = rate.value();
    auto arg = read_integer(s, "arg", 0, 0, INT64_MAX);
    if (!arg) return Fail{arg.error()};
    p.arg = static_cast<std::uint64_t>(arg.value());
    return {};
}

// period / deadline / budget / critical (the RVM scheduler's task parameters).
Result<void, ManifestError> read_timing(const Scope& s, PartitionSpec& p) {
    for (auto [key, out] : {std::pair{"period", &p.period_ns}, std::pair{"deadline", &p.deadline_ns},
                            std::pair{"budget", &p.budget_ns}}) {
        if (s.table.get(key) == nullptr) continue;
        auto v = read_duration(s, key, std::chrono::milliseconds(0));
        if (!v) return Fail{v.error()};
        *out = static_cast<std::uint64_t>(v.value().count()) * kNsPerMs;
    }
    if (const toml::node* c = s.table.get("critical")) {
        const auto* b = c->as_boolean();
        if (b == nullptr) return wrong_type(s, "critical", *c, "a boolean");
        p.critical = b->get();
    }
    return {};
}

std::string_view key_of(SpecField f) {
    switch (f) {
        case SpecField::kMemory: return "memory";
        case SpecField::kMaxTasks: return "max_tasks";
        case SpecField::kTasks: return "tasks";
        case SpecField::kStack: return "stack";
        case SpecField::kWallTime: return "wall_time";
        case SpecField::kLogRate: return "log_rate";
        case SpecField::kTiming: break;
    }
    return "";
}

// validate()'s refusal as the manifest says it: the key, its line, its value.
Fail spec_failure(const Scope& s, const PartitionSpec& p, const SpecError& e) {
    if (e.code == SpecErrc::kStacksDoNotFit) {
        return fail(s.ctx, ManifestErrc::kImpossibleSizes, p.line,
                    "impossible sizes in {}: stack {} x max_tasks {} = {} of stacks leaves no room for the image "
                    "above {} in memory {}",
                    s.label, size_text(p.stack_size), p.max_tasks, size_text(e.value), size_text(kSpecImageBase),
                    size_text(p.memory));
    }
    if (e.field == SpecField::kTiming) {
        return fail(s.ctx, ManifestErrc::kBadValue, p.line, "timing of {}: {}", s.label, timing_rule(e.code));
    }
    const std::string_view key = key_of(e.field);
    const toml::node* n = s.table.get(key);
    const std::uint32_t line = n != nullptr ? line_of(n->source()) : p.line;
    const auto text = [&](std::uint64_t v) {
        if (e.field == SpecField::kMemory || e.field == SpecField::kStack) return size_text(v);
        if (e.field == SpecField::kWallTime) return duration_text(std::chrono::milliseconds(v / kNsPerMs));
        return fmt::format("{}", v);
    };
    const std::string value = n != nullptr && n->as_integer() != nullptr && e.field != SpecField::kMemory &&
                                      e.field != SpecField::kStack && e.field != SpecField::kWallTime
                                  ? fmt::format("{}", n->as_integer()->get())
                                  : text(e.value);
    if (e.code == SpecErrc::kNotPageMultiple) {
        return fail(s.ctx, ManifestErrc::kBadValue, line, "'{}' in {} is {}; it must be a multiple of 4KiB", key,
                    s.label, value);
    }
    return fail(s.ctx, ManifestErrc::kBadValue, line, "'{}' in {} is {}; it must be {}..{}", key, s.label, value,
                text(e.lo), text(e.hi));
}

Result<PartitionSpec, ManifestError> read_partition(const Context& ctx, const toml::node& n, std::size_t index,
                                                    const RunConfig& run) {
    const auto* t = n.as_table();
    if (t == nullptr) {
        return fail(ctx, ManifestErrc::kWrongType, line_of(n.source()), "partition #{} must be a table, not {}",
                    index + 1, type_text(n));
    }
    const auto* name_node = t->get_as<std::string>("name");
    const Scope s{ctx, *t,
                  name_node != nullptr ? fmt::format("[[partition]] '{}'", shown(name_node->get()))
                                       : fmt::format("[[partition]] #{}", index + 1)};
    RVM_TRY_VOID(only_known_keys(s, kPartitionKeys));
    PartitionSpec p;
    p.line = line_of(t->source());
    auto name = read_string(s, "name", true);
    if (!name) return Fail{name.error()};
    p.name = *name.value();
    if (!valid_name(p.name)) {
        return fail(ctx, ManifestErrc::kBadValue, line_of(name_node->source()),
                    "'name' in {}: '{}' is not a valid name (1..{} characters of a-z, 0-9, '_', '-')", s.label,
                    shown(p.name), kManifestMaxNameLength);
    }
    auto agent = read_string(s, "agent", true);
    if (!agent) return Fail{agent.error()};
    p.agent_path = resolve(fs::path(run.agent_dir), *agent.value()).string();
    auto profile = read_string(s, "profile", false);
    if (!profile) return Fail{profile.error()};
    if (profile.value()) {
        if (*profile.value() == "kernel") {
            p.profile = Profile::Kernel;
        } else if (*profile.value() != "agent") {
            return fail(ctx, ManifestErrc::kBadValue, line_of(t->get("profile")->source()),
                        "'profile' in {}: '{}' is neither \"agent\" (CPL3, the default) nor \"kernel\" (CPL0)", s.label,
                        shown(*profile.value()));
        }
    }
    RVM_TRY_VOID(read_limits(s, run, p));
    RVM_TRY_VOID(read_timing(s, p));
    const auto valid = validate(p);
    if (!valid) return spec_failure(s, p, valid.error());
    return p;
}

Result<std::vector<PartitionSpec>, ManifestError> read_partitions(const Context& ctx, const toml::table& root,
                                                                  const RunConfig& run) {
    const toml::node* n = root.get("partition");
    if (n == nullptr) {
        return fail(ctx, ManifestErrc::kPartitionCount, 0, "no partitions: declare at least one [[partition]]");
    }
    const auto* arr = n->as_array();
    if (arr == nullptr) {
        return fail(ctx, ManifestErrc::kWrongType, line_of(n->source()),
                    "'partition' must be an array of tables ([[partition]]), not {}", type_text(*n));
    }
    if (arr->empty()) {
        return fail(ctx, ManifestErrc::kPartitionCount, line_of(n->source()),
                    "no partitions: declare at least one [[partition]]");
    }
    if (arr->size() > kManifestMaxPartitions) {
        return fail(ctx, ManifestErrc::kPartitionCount, line_of((*arr)[kManifestMaxPartitions].source()),
                    "{} partitions; at most {} are allowed", arr->size(), kManifestMaxPartitions);
    }
    std::vector<PartitionSpec> parts;
    parts.reserve(arr->size());
    for (std::size_t i = 0; i < arr->size(); ++i) {
        auto p = read_partition(ctx, (*arr)[i], i, run);
        if (!p) return Fail{p.error()};
        for (const PartitionSpec& q : parts) {
            if (q.name != p.value().name) continue;
            return fail(ctx, ManifestErrc::kDuplicateName, p.value().line,
                        "duplicate partition name '{}' (first declared on line {})", q.name, q.line);
        }
        parts.push_back(std::move(p.value()));
    }
    return parts;
}

Result<std::size_t, ManifestError> partition_named(const Scope& s, std::string_view key,
                                                   const std::vector<PartitionSpec>& parts) {
    auto name = read_string(s, key, true);
    if (!name) return Fail{name.error()};
    for (std::size_t i = 0; i < parts.size(); ++i) {
        if (parts[i].name == *name.value()) return i;
    }
    return fail(s.ctx, ManifestErrc::kEdge, line_of(s.table.get(key)->source()), "'{}' in {}: no partition named '{}'",
                key, s.label, shown(*name.value()));
}

Result<std::vector<EdgeSpec>, ManifestError> read_edges(const Context& ctx, const toml::table& root,
                                                        const std::vector<PartitionSpec>& parts) {
    std::vector<EdgeSpec> edges;
    const toml::node* n = root.get("edge");
    if (n == nullptr) return edges;
    const auto* arr = n->as_array();
    if (arr == nullptr) {
        return fail(ctx, ManifestErrc::kWrongType, line_of(n->source()),
                    "'edge' must be an array of tables ([[edge]]), not {}", type_text(*n));
    }
    if (arr->size() > kManifestMaxEdges) {
        return fail(ctx, ManifestErrc::kEdge, line_of(n->source()), "{} edges; at most {} are allowed", arr->size(),
                    kManifestMaxEdges);
    }
    std::vector<std::uint32_t> per_partition(parts.size(), 0);
    for (std::size_t i = 0; i < arr->size(); ++i) {
        const auto* t = (*arr)[i].as_table();
        if (t == nullptr) {
            return fail(ctx, ManifestErrc::kWrongType, line_of((*arr)[i].source()), "edge #{} must be a table, not {}",
                        i + 1, type_text((*arr)[i]));
        }
        const Scope s{ctx, *t, fmt::format("[[edge]] #{}", i + 1)};
        RVM_TRY_VOID(only_known_keys(s, kEdgeKeys));
        EdgeSpec e;
        e.line = line_of(t->source());
        auto from = partition_named(s, "from", parts);
        if (!from) return Fail{from.error()};
        auto to = partition_named(s, "to", parts);
        if (!to) return Fail{to.error()};
        e.from = from.value();
        e.to = to.value();
        if (e.from == e.to) {
            return fail(ctx, ManifestErrc::kEdge, e.line, "{} connects '{}' to itself", s.label, parts[e.from].name);
        }
        auto cap = read_size(s, "capacity", e.capacity, 4096, std::uint64_t{1} << 20);
        if (!cap) return Fail{cap.error()};
        e.capacity = cap.value();
        if ((e.capacity & (e.capacity - 1)) != 0) {
            return fail(ctx, ManifestErrc::kBadValue, line_of(t->get("capacity")->source()),
                        "'capacity' in {} is {}; it must be a power of two (4 KiB .. 1 MiB)", s.label,
                        size_text(e.capacity));
        }
        if (t->get("share") != nullptr) {
            auto share = read_size(s, "share", 0, 4096, RVM_EDGE_SHARE_MAX);
            if (!share) return Fail{share.error()};
            e.share = share.value();
        }
        for (const std::size_t end : {e.from, e.to}) {
            if (++per_partition[end] > RVM_EDGE_MAX) {
                return fail(ctx, ManifestErrc::kEdge, e.line, "'{}' has more than {} edges", parts[end].name,
                            RVM_EDGE_MAX);
            }
        }
        edges.push_back(e);
    }
    return edges;
}

// Why `path` is not a usable `type` (S_IFREG: readable; S_IFDIR: searchable), or nullptr.
const char* unusable(const std::string& path, mode_t type) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) return std::strerror(errno);
    if ((st.st_mode & S_IFMT) != type) return type == S_IFDIR ? "not a directory" : "not a regular file";
    const int access = type == S_IFDIR ? X_OK : R_OK;
    if (::faccessat(AT_FDCWD, path.c_str(), access, AT_EACCESS) != 0) return std::strerror(errno);
    return nullptr;
}

// The checks that depend on the file system, after the manifest itself is valid.
Result<void, ManifestError> check_paths(const Context& ctx, const toml::table& root, const Manifest& m) {
    const toml::node* run = root.get("run");
    const auto line = [&](std::string_view key) {
        const toml::node* n = run != nullptr ? run->as_table()->get(key) : nullptr;
        return n != nullptr ? line_of(n->source()) : 0U;
    };
    if (const char* why = unusable(m.run.agent_dir, S_IFDIR)) {
        return fail(ctx, ManifestErrc::kPath, line("agent_dir"), "agent_dir is unusable: {} ({})",
                    shown(m.run.agent_dir, 1024), why);
    }
    if (!m.run.witness_path.empty()) {
        struct stat st {};
        const std::string& w = m.run.witness_path;
        if (::lstat(w.c_str(), &st) == 0) {
            return fail(ctx, ManifestErrc::kPath, line("witness"),
                        "witness log {} already exists; a witness log is never overwritten", shown(w, 1024));
        }
        if (errno != ENOENT) {
            return fail(ctx, ManifestErrc::kPath, line("witness"), "witness log {} cannot be checked ({})",
                        shown(w, 1024), std::strerror(errno));
        }
        const std::string parent = fs::path(w).parent_path().string();
        if (::stat(parent.empty() ? "." : parent.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
            return fail(ctx, ManifestErrc::kPath, line("witness"), "the witness log's directory does not exist: {}",
                        shown(parent, 1024));
        }
    }
    for (const PartitionSpec& p : m.partitions) {
        if (const char* why = unusable(p.agent_path, S_IFREG)) {
            return fail(ctx, ManifestErrc::kAgentFile, p.line, "agent of [[partition]] '{}' is unusable: {} ({})",
                        p.name, shown(p.agent_path, 1024), why);
        }
    }
    return {};
}

}  // namespace

Result<Manifest, ManifestError> parse_manifest(std::string_view text, const std::string& source_name,
                                               const std::string& base_dir) {
    const Context ctx{source_name, fs::path(base_dir.empty() ? "." : base_dir)};
    if (text.size() > kManifestMaxBytes) {
        return fail(ctx, ManifestErrc::kRead, 0, "the manifest is {} bytes; the limit is {}", text.size(),
                    size_text(kManifestMaxBytes));
    }
    toml::parse_result parsed = toml::parse(text, std::string_view(source_name));
    if (!parsed) {
        const toml::parse_error& e = parsed.error();
        return fail(ctx, ManifestErrc::kSyntax, line_of(e.source()), "invalid TOML: {}", shown(e.description(), 256));
    }
    const toml::table& root = parsed.table();
    RVM_TRY_VOID(only_known_keys(Scope{ctx, root, "the top level"}, kRootKeys));
    Manifest m;
    m.dir = ctx.base.string();
    auto run = read_run(ctx, root);
    if (!run) return Fail{run.error()};
    m.run = run.value();
    auto parts = read_partitions(ctx, root, m.run);
    if (!parts) return Fail{parts.error()};
    m.partitions = std::move(parts.value());
    auto edges = read_edges(ctx, root, m.partitions);
    if (!edges) return Fail{edges.error()};
    m.edges = std::move(edges.value());
    RVM_TRY_VOID(check_paths(ctx, root, m));
    return m;
}

Result<Manifest, ManifestError> load_manifest(const std::string& path) {
    const Context ctx{path, fs::path(".")};
    const auto bytes = read_file(path, kManifestMaxBytes);
    if (!bytes) {
        if (bytes.error().code == IoErrc::kTooLarge) {
            return fail(ctx, ManifestErrc::kRead, 0, "the manifest exceeds the {} limit", size_text(kManifestMaxBytes));
        }
        return fail(ctx, ManifestErrc::kRead, 0, "cannot read the manifest: {}", describe(bytes.error()));
    }
    std::error_code ec;
    const fs::path abs = fs::absolute(fs::path(path), ec);
    if (ec) return fail(ctx, ManifestErrc::kRead, 0, "cannot resolve the manifest's directory: {}", ec.message());
    const std::string text(bytes.value().begin(), bytes.value().end());
    return parse_manifest(text, path, abs.parent_path().lexically_normal().string());
}

}  // namespace rvm::host
