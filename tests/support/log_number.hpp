// The unsigned number right after `key` in `line` (an agent's log line), if
// there is one. Shared by the KVM integration tests and the benchmarks.
#pragma once

#include <charconv>
#include <cstdint>
#include <optional>
#include <string_view>
#include <system_error>

namespace rvm::test {

[[nodiscard]] inline std::optional<std::uint64_t> number_after(std::string_view line, std::string_view key) {
    const std::size_t at = line.find(key);
    if (at == std::string_view::npos) return std::nullopt;
    std::uint64_t v = 0;
    const char* first = line.data() + at + key.size();
    const auto [ptr, ec] = std::from_chars(first, line.data() + line.size(), v);
    if (ec != std::errc{} || ptr == first) return std::nullopt;
    return v;
}

}  // namespace rvm::test
