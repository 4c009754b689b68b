// The sandbox (host/sandbox): each case runs in a forked child, since a
// seccomp filter cannot be lifted; the parent asserts how the child ended.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <functional>
#include <thread>

#include "host/sandbox/sandbox.hpp"

namespace rvm::host {
namespace {

// The child's fate: its exit code, or -signal if a signal ended it.
int in_child(const std::function<int()>& body) {
    const pid_t pid = fork();
    if (pid == 0) _exit(body());
    int status = 0;
    EXPECT_EQ(waitpid(pid, &status, 0), pid);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
}

// Returns only if execve was refused without killing the caller.
int try_exec() {
    char* const argv[] = {nullptr};
    execve("/bin/true", argv, argv);
    return 3;
}

int sandboxed_vcpu_thread(const std::function<int()>& body) {
    const auto r = Sandbox::enter();
    if (!r) return 90;
    if (r.value().process_rules == 0 || r.value().vcpu_rules == 0) return 91;
    if (!Sandbox::restrict_vcpu_thread()) return 92;
    return body();
}

TEST(Sandbox, AllowedCallsWorkOnATaskThread) {
    EXPECT_EQ(in_child([] {
                  int fds[2];
                  if (pipe(fds) != 0) return 1;
                  return sandboxed_vcpu_thread([&] {
                      const char b = 'x';
                      char got = 0;
                      if (write(fds[1], &b, 1) != 1 || read(fds[0], &got, 1) != 1 || got != 'x') return 2;
                      std::thread t([] { sched_yield(); });  // a spawned task's thread (clone with CLONE_THREAD)
                      t.join();
                      return 0;
                  });
              }),
              0);
}

TEST(Sandbox, AForbiddenCallFromATaskThreadKillsTheProcess) {
    EXPECT_EQ(
        in_child([] { return sandboxed_vcpu_thread([] { return socket(AF_INET, SOCK_STREAM, 0) >= 0 ? 0 : 3; }); }),
        -SIGSYS);
    EXPECT_EQ(
        in_child([] { return sandboxed_vcpu_thread([] { return open("/etc/hostname", O_RDONLY) >= 0 ? 0 : 3; }); }),
        -SIGSYS)
        << "opening files is the supervisor's, not a task thread's";
    EXPECT_EQ(in_child([] { return sandboxed_vcpu_thread(try_exec); }), -SIGSYS);
}

TEST(Sandbox, TheSupervisorKeepsItsFilesButNotTheNetworkOrExec) {
    EXPECT_EQ(in_child([] {
                  if (!Sandbox::enter()) return 90;
                  const int fd = open("/proc/self/status", O_RDONLY);
                  if (fd < 0) return 1;
                  char buf[64];
                  return read(fd, buf, sizeof buf) > 0 && close(fd) == 0 ? 0 : 2;
              }),
              0);
    EXPECT_EQ(in_child([] {
                  if (!Sandbox::enter()) return 90;
                  return syscall(SYS_socket, AF_UNIX, SOCK_STREAM, 0) >= 0 ? 0 : 3;
              }),
              -SIGSYS);
    EXPECT_EQ(in_child([] {
                  if (!Sandbox::enter()) return 90;
                  return try_exec();
              }),
              -SIGSYS);
}

TEST(Sandbox, NoNewPrivilegesAndCapabilitiesDropped) {
    EXPECT_EQ(in_child([] {
                  const auto r = Sandbox::enter();
                  if (!r) return 90;
                  if (prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) != 1) return 1;
                  // CAP_SYS_ADMIN is gone: a root process without it cannot sethostname.
                  if (geteuid() == 0 && r.value().caps_dropped && syscall(SYS_sethostname, "x", 1) == 0) return 2;
                  return 0;
              }),
              geteuid() == 0 ? -SIGSYS : 0)
        << "sethostname is not on the list either: the filter stops it before the capability check";
}

}  // namespace
}  // namespace rvm::host
