#include "host/config/manifest_values.hpp"

#include <algorithm>
#include <vector>

namespace rvm::host::manifest_values {

namespace {}  // namespace

// A user-supplied string made safe to quote: control bytes escaped, clipped.
std::string shown(std::string_view s, std::size_t max) {
    std::string out;
    for (const char c : s) {
        if (out.size() >= max) {
            while (!out.empty() && (static_cast<unsigned char>(out.back()) & 0xc0U) == 0x80U) out.pop_back();
            out += "...";
            break;
        }
        const auto u = static_cast<unsigned char>(c);
        if (u < 0x20 || u == 0x7f) {
            out += fmt::format("\\x{:02x}", u);
        } else {
            out += c;
        }
    }
    return out;
}

std::string size_text(std::uint64_t bytes) {
    if (bytes != 0 && bytes % kGiB == 0) return fmt::format("{}GiB", bytes / kGiB);
    if (bytes != 0 && bytes % kMiB == 0) return fmt::format("{}MiB", bytes / kMiB);
    if (bytes != 0 && bytes % kKiB == 0) return fmt::format("{}KiB", bytes / kKiB);
    return fmt::format("{} bytes", bytes);
}

std::string duration_text(std::chrono::milliseconds d) {
    const auto ms = d.count();
    if (ms != 0 && ms % 60'000 == 0) return fmt::format("{}m", ms / 60'000);
    if (ms != 0 && ms % 1'000 == 0) return fmt::format("{}s", ms / 1'000);
    return fmt::format("{}ms", ms);
}

std::string_view type_text(const toml::node& n) {
    switch (n.type()) {
        case toml::node_type::string: return "a string";
        case toml::node_type::integer: return "an integer";
        case toml::node_type::floating_point: return "a float";
        case toml::node_type::boolean: return "a boolean";
        case toml::node_type::table: return "a table";
        case toml::node_type::array: return "an array";
        case toml::node_type::date: return "a date";
        case toml::node_type::time: return "a time";
        case toml::node_type::date_time: return "a date-time";
        case toml::node_type::none: break;
    }
    return "nothing";
}

std::uint32_t line_of(const toml::source_region& r) { return r.begin.line; }

std::size_t edit_distance(std::string_view a, std::string_view b) {
    std::vector<std::size_t> row(b.size() + 1);
    for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
    for (std::size_t i = 1; i <= a.size(); ++i) {
        std::size_t diag = row[0];
        row[0] = i;
        for (std::size_t j = 1; j <= b.size(); ++j) {
            const std::size_t up = row[j];
            row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] == b[j - 1] ? 0U : 1U)});
            diag = up;
        }
    }
    return row[b.size()];
}

Result<void, ManifestError> only_known_keys(const Scope& s, std::span<const std::string_view> allowed) {
    const toml::key* first = nullptr;  // the earliest unknown key, as tables iterate in key order
    for (auto&& [key, value] : s.table) {
        if (std::find(allowed.begin(), allowed.end(), key.str()) != allowed.end()) continue;
        if (first == nullptr || line_of(key.source()) < line_of(first->source())) first = &key;
    }
    if (first == nullptr) return {};
    std::string hint;
    if (first->str().size() <= 64) {
        for (const std::string_view k : allowed) {
            const std::size_t d = edit_distance(first->str(), k);
            if (d <= 2 && d < first->str().size()) {
                hint = fmt::format(" (did you mean '{}'?)", k);
                break;
            }
        }
    }
    return fail(s.ctx, ManifestErrc::kUnknownKey, line_of(first->source()), "unknown key '{}' in {}{}",
                shown(first->str()), s.label, hint);
}

Fail wrong_type(const Scope& s, std::string_view key, const toml::node& n, std::string_view expected) {
    return fail(s.ctx, ManifestErrc::kWrongType, line_of(n.source()), "'{}' in {} must be {}, not {}", key, s.label,
                expected, type_text(n));
}

Result<std::optional<std::string>, ManifestError> read_string(const Scope& s, std::string_view key, bool required) {
    const toml::node* n = s.table.get(key);
    if (n == nullptr) {
        if (!required) return std::optional<std::string>{};
        return fail(s.ctx, ManifestErrc::kMissingKey, line_of(s.table.source()), "{} is missing required key '{}'",
                    s.label, key);
    }
    const auto* str = n->as_string();
    if (str == nullptr) return wrong_type(s, key, *n, "a string");
    const std::string& v = str->get();
    if (v.empty() || v.find('\0') != std::string::npos) {
        return fail(s.ctx, ManifestErrc::kBadValue, line_of(n->source()), "'{}' in {} must be a non-empty string{}",
                    key, s.label, v.empty() ? "" : " without NUL characters");
    }
    return std::optional<std::string>{v};
}

Result<std::int64_t, ManifestError> read_integer(const Scope& s, std::string_view key, std::int64_t fallback,
                                                 std::int64_t lo, std::int64_t hi) {
    const toml::node* n = s.table.get(key);
    if (n == nullptr) return fallback;
    const auto* i = n->as_integer();
    if (i == nullptr) return wrong_type(s, key, *n, "an integer");
    if (i->get() < lo || i->get() > hi) {
        return fail(s.ctx, ManifestErrc::kBadValue, line_of(n->source()), "'{}' in {} is {}; it must be {}..{}", key,
                    s.label, i->get(), lo, hi);
    }
    return i->get();
}

// "<digits><unit>" with a unit from `units`; nullopt if malformed or overflowing.
std::optional<std::uint64_t> parse_quantity(std::string_view text, std::span<const std::string_view> units,
                                            std::span<const std::uint64_t> scales) {
    std::uint64_t n = 0;
    std::size_t i = 0;
    for (; i < text.size() && text[i] >= '0' && text[i] <= '9'; ++i) {
        if (__builtin_mul_overflow(n, std::uint64_t{10}, &n) ||
            __builtin_add_overflow(n, static_cast<std::uint64_t>(text[i] - '0'), &n)) {
            return std::nullopt;
        }
    }
    if (i == 0) return std::nullopt;
    const std::string_view unit = text.substr(i);
    for (std::size_t u = 0; u < units.size(); ++u) {
        if (unit != units[u]) continue;
        std::uint64_t v = 0;
        if (__builtin_mul_overflow(n, scales[u], &v)) return std::nullopt;
        return v;
    }
    return std::nullopt;
}

Result<std::uint64_t, ManifestError> read_quantity(const Scope& s, std::string_view key, std::uint64_t fallback,
                                                   const QuantityRule& rule) {
    const toml::node* n = s.table.get(key);
    if (n == nullptr) return fallback;
    const std::uint32_t line = line_of(n->source());
    std::optional<std::uint64_t> v;
    if (const auto* i = n->as_integer()) {
        if (i->get() < 0) {
            return fail(s.ctx, ManifestErrc::kBadValue, line, "'{}' in {} is negative ({})", key, s.label, i->get());
        }
        v = static_cast<std::uint64_t>(i->get());
    } else if (const auto* str = n->as_string()) {
        v = parse_quantity(str->get(), rule.units, rule.scales);
        if (!v) {
            return fail(s.ctx, ManifestErrc::kBadValue, line, "'{}' in {}: \"{}\" is not {}", key, s.label,
                        shown(str->get()), rule.expected);
        }
    } else {
        return wrong_type(s, key, *n, rule.expected);
    }
    if (*v < rule.lo || *v > rule.hi) {
        return fail(s.ctx, ManifestErrc::kBadValue, line, "'{}' in {} is {}; it must be {}..{}", key, s.label,
                    rule.show(*v), rule.show(rule.lo), rule.show(rule.hi));
    }
    return *v;
}

constexpr std::string_view kSizeUnits[] = {"KiB", "MiB", "GiB"};
constexpr std::uint64_t kSizeScales[] = {kKiB, kMiB, kGiB};
constexpr std::string_view kTimeUnits[] = {"ms", "s", "m"};
constexpr std::uint64_t kTimeScales[] = {1, 1'000, 60'000};

QuantityRule size_rule(std::uint64_t lo, std::uint64_t hi) {
    return {
        "an integer (bytes) or a string like \"16MiB\" (KiB, MiB, GiB)", kSizeUnits, kSizeScales, lo, hi, size_text};
}

// A size of any value: its bounds are validate()'s (partition sizes).
Result<std::uint64_t, ManifestError> read_bytes(const Scope& s, std::string_view key, std::uint64_t fallback) {
    return read_quantity(s, key, fallback, size_rule(0, UINT64_MAX));
}

Result<std::uint64_t, ManifestError> read_size(const Scope& s, std::string_view key, std::uint64_t fallback,
                                               std::uint64_t lo, std::uint64_t hi) {
    auto v = read_quantity(s, key, fallback, size_rule(lo, hi));
    if (!v) return Fail{v.error()};
    if (v.value() % kPage != 0) {
        return fail(s.ctx, ManifestErrc::kBadValue, line_of(s.table.get(key)->source()),
                    "'{}' in {} is {}; it must be a multiple of 4KiB", key, s.label, size_text(v.value()));
    }
    return v.value();
}

Result<std::chrono::milliseconds, ManifestError> read_duration(const Scope& s, std::string_view key,
                                                               std::chrono::milliseconds fallback) {
    const QuantityRule rule{"an integer (milliseconds) or a string like \"10s\" (ms, s, m)",
                            kTimeUnits,
                            kTimeScales,
                            kMinDurationMs,
                            kMaxDurationMs,
                            [](std::uint64_t ms) { return duration_text(std::chrono::milliseconds(ms)); }};
    auto v = read_quantity(s, key, static_cast<std::uint64_t>(fallback.count()), rule);
    if (!v) return Fail{v.error()};
    return std::chrono::milliseconds(v.value());
}

fs::path resolve(const fs::path& base, const std::string& p) { return (base / fs::path(p)).lexically_normal(); }

}  // namespace rvm::host::manifest_values
