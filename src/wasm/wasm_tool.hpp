// run_tool: runs one external program of the translation pipeline (the
// validator, wasm2c, the C compiler) with a time limit, capturing its output.
#pragma once

#include <chrono>
#include <string>
#include <vector>

namespace rvm::wasm {

struct ToolRun {
    bool started = false;  // false: the program could not be executed
    bool timed_out = false;
    int exit_code = -1;  // -1 if it did not exit normally
    int signal = 0;      // the signal that ended it, if one did
    std::string output;  // stdout and stderr, at most 64 KiB
    [[nodiscard]] bool ok() const { return started && !timed_out && exit_code == 0; }
};

[[nodiscard]] ToolRun run_tool(const std::vector<std::string>& argv, std::chrono::milliseconds timeout);

// The first lines of a tool's output, for an error message.
[[nodiscard]] std::string first_lines(const std::string& output, std::size_t lines);

}  // namespace rvm::wasm
