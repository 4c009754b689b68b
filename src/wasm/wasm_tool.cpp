#include "wasm/wasm_tool.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>

extern char** environ;

namespace rvm::wasm {

ToolRun run_tool(const std::vector<std::string>& argv, std::chrono::milliseconds timeout) {
    ToolRun out;
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0) return out;
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
    posix_spawn_file_actions_adddup2(&fa, fds[1], 2);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    std::vector<char*> args;
    args.reserve(argv.size() + 1);
    // SAFETY: posix_spawnp takes char* const[] but does not modify the strings.
    for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    pid_t pid = -1;
    const int rc = posix_spawnp(&pid, args[0], &fa, nullptr, args.data(), environ);
    posix_spawn_file_actions_destroy(&fa);
    close(fds[1]);
    if (rc != 0) {
        close(fds[0]);
        return out;
    }
    out.started = true;
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    std::array<char, 4096> buf{};
    for (;;) {
        const auto left =
            std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0) {
            out.timed_out = true;
            kill(pid, SIGKILL);
            break;
        }
        pollfd p{fds[0], POLLIN, 0};
        const int n = poll(&p, 1, static_cast<int>(std::min<long long>(left.count(), 1000)));
        if (n < 0) break;
        if (n == 0) continue;
        const ssize_t got = read(fds[0], buf.data(), buf.size());
        if (got <= 0) break;
        if (out.output.size() < (64u << 10)) out.output.append(buf.data(), static_cast<std::size_t>(got));
    }
    close(fds[0]);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (!out.timed_out && WIFEXITED(status)) out.exit_code = WEXITSTATUS(status);
    if (!out.timed_out && WIFSIGNALED(status)) out.signal = WTERMSIG(status);
    return out;
}

std::string first_lines(const std::string& output, std::size_t lines) {
    std::size_t at = 0;
    for (std::size_t i = 0; i < lines && at != std::string::npos; ++i) {
        at = output.find('\n', at == 0 && i == 0 ? 0 : at + 1);
    }
    std::string s = at == std::string::npos ? output : output.substr(0, at);
    while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
    return s;
}

}  // namespace rvm::wasm
