#include "host/sandbox/sandbox.hpp"

#include <fmt/format.h>
#include <linux/capability.h>
#include <sched.h>
#include <seccomp.h>
#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/lsan_interface.h>
#endif
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <span>

namespace rvm::host {

namespace {

// A rule: the system call and why RVM needs it after setup.
struct Rule {
    const char* name;
    const char* why;
};

// Every thread: the task threads' needs (below) plus the supervisor's.
constexpr Rule kSupervisorRules[] = {
    {"openat", "the statistics file and witness key state are written at the end"},
    {"open", "as openat (older glibc paths)"},
    {"newfstatat", "checking the statistics path before writing it"},
    {"fstat", "stdio and file checks"},
    {"statx", "file checks (glibc)"},
    {"lseek", "witness file positioning"},
    {"pread64", "KVM binary statistics (Ψ monitor) and file reads"},
    {"pwrite64", "witness file writes"},
    {"writev", "stdio"},
    {"fsync", "witness durability policy"},
    {"fdatasync", "witness durability policy"},
    {"rename", "witness key state replaced atomically"},
    {"renameat", "as rename"},
    {"renameat2", "as rename"},
    {"unlink", "temporary files of an atomic replace"},
    {"unlinkat", "as unlink"},
    {"ftruncate", "memfd sizing: edge windows and new cells created at run time"},
    {"memfd_create", "guest memory of cells and edges created while running (reshape)"},
    {"fcntl", "fd flags"},
    {"pipe2", "kick and wake-up plumbing"},
    {"clock_nanosleep", "the supervisor's poll interval"},
    {"nanosleep", "as clock_nanosleep"},
    {"setpriority", "the Ψ boost renices task threads"},
    {"getpriority", "as setpriority"},
    {"prlimit64", "glibc and sanitizer runtime queries"},
    {"getrusage", "statistics"},
    {"tgkill", "kicking a vCPU out of KVM_RUN (a signal to its thread)"},
    {"rt_sigaction", "signal handlers (kick, termination)"},
    {"getcwd", "path resolution in reports"},
    {"readlink", "sanitizer runtime and path resolution"},
    {"readlinkat", "as readlink"},
    {"close_range", "closing fds"},
    {"dup", "stdio"},
    {"dup3", "stdio"},
    {"uname", "glibc"},
    {"sysinfo", "glibc"},
};

// The task (vCPU) threads: KVM_RUN and what a task's host side does.
constexpr Rule kVcpuRules[] = {
    {"ioctl", "KVM ioctls only (KVM_RUN, registers, KVM_CREATE_VCPU for task_spawn) and TCGETS for stdio"},
    {"futex", "locks and condition variables"},
    {"sched_yield", "RVM_HC_YIELD"},
    {"sched_getaffinity", "glibc thread setup"},
    {"sched_setaffinity", "RVM's scheduler pins a task thread to its CPU"},
    {"mmap", "allocation; the kvm_run page of a spawned task's vCPU"},
    {"munmap", "deallocation"},
    {"mremap", "growing vectors"},
    {"mprotect", "thread stacks (guard pages) for spawned tasks"},
    {"madvise", "allocator"},
    {"brk", "allocator"},
    {"read", "eventfd and pipe reads"},
    {"write", "agent log lines to stdout; wake-ups"},
    {"close", "a spawned task's fds on failure"},
    {"clone", "a spawned task's thread (threads only: CLONE_THREAD is required)"},
    {"set_robust_list", "new thread setup"},
    {"rseq", "new thread setup"},
    {"exit", "a task thread ends"},
    {"exit_group", "the process ends"},
    {"rt_sigprocmask", "the kick signal is blocked outside KVM_RUN"},
    {"rt_sigreturn", "return from the kick handler"},
    {"rt_sigaction", "glibc installs its thread-cancellation handler when a spawned task's thread is created"},
    {"sigaltstack", "thread setup (sanitizers)"},
    {"restart_syscall", "interrupted sleeps"},
    {"gettid", "the thread's tid (the Ψ boost target)"},
    {"getpid", "signals to own threads"},
    {"getrandom", "allocator and hash seeding"},
    {"clock_gettime", "clocks without vDSO"},
    {"gettimeofday", "as clock_gettime"},
    {"newfstatat", "stdio on first write"},
    {"fstat", "stdio on first write"},
    {"getuid", "sanitizer runtime"},
    {"tgkill", "a failing task kicks its partition's other vCPUs out of KVM_RUN"},
    {"pread64", "a spawned task's KVM statistics header (Ψ monitor)"},
    {"fcntl", "fd flags of a spawned task's vCPU"},
    {"prctl", "thread names (PR_SET_NAME) and sanitizer runtime"},
    {"seccomp", "a task thread installs its own, narrower filter (filters only ever stack)"},
    {"pwrite64", "witness back-pressure: a task whose witnessed call finds the buffer full writes the batch"},
    {"lseek", "as pwrite64"},
    {"fdatasync", "witness back-pressure under the default sync-after-seal policy"},
    {"fsync", "as fdatasync"},
};

// Task threads with forward-secure sealing: the back-pressure path may seal a
// new epoch, which rewrites the sealing state file (write new, rename, sync).
constexpr Rule kVcpuStateFileRules[] = {
    {"openat", "the forward-secure sealing state is rewritten on a new epoch"},
    {"open", "as openat"},
    {"unlink", "a leftover temporary state file"},
    {"unlinkat", "as unlink"},
    {"rename", "the new state replaces the old one atomically"},
    {"renameat", "as rename"},
    {"renameat2", "as rename"},
};

#if defined(__SANITIZE_ADDRESS__)
// Debug builds only (AddressSanitizer): its readable-memory probe writes to
// a pipe on any thread. LeakSanitizer's exit-time check (a ptrace tracer)
// cannot run in the sandbox: enter() runs it early instead.
constexpr Rule kSanitizerRules[] = {
    {"pipe2", "the sanitizer's readable-memory probe on any thread (sanitizer builds only)"},
};
#else
constexpr Rule kSanitizerRules[] = {{"getpid", "no sanitizer: nothing more"}};
#endif

constexpr unsigned long kKvmIoctlType = 0xAE;

int add_rules(scmp_filter_ctx ctx, std::span<const Rule> rules, std::uint32_t& n) {
    for (const Rule& r : rules) {
        const int nr = seccomp_syscall_resolve_name(r.name);
        if (nr == __NR_SCMP_ERROR) continue;  // not a call of this architecture
        int rc = 0;
        // Argument comparisons as plain structs (libseccomp's SCMP_A* macros
        // are C compound literals): {argument, op, datum_a, datum_b}.
        if (std::strcmp(r.name, "ioctl") == 0) {
            const scmp_arg_cmp kvm{1, SCMP_CMP_MASKED_EQ, 0xff00u, kKvmIoctlType << 8};
            const scmp_arg_cmp tcgets{1, SCMP_CMP_EQ, TCGETS, 0};
            const scmp_arg_cmp winsz{1, SCMP_CMP_EQ, TIOCGWINSZ, 0};
            rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 1, kvm);
            if (rc == 0) rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 1, tcgets);
            if (rc == 0) rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 1, winsz);
        } else if (std::strcmp(r.name, "clone") == 0) {
            const scmp_arg_cmp thread{0, SCMP_CMP_MASKED_EQ, std::uint64_t{CLONE_THREAD}, std::uint64_t{CLONE_THREAD}};
            rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 1, thread);
        } else {
            rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 0);
        }
        if (rc != 0) return rc;
        ++n;
    }
    return 0;
}

Result<std::uint32_t, std::string> load(bool all_threads, bool supervisor, bool state_file) {
    scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_KILL_PROCESS);
    if (ctx == nullptr) return err(std::string("seccomp_init failed"));
    std::uint32_t n = 0;
    int rc = add_rules(ctx, kVcpuRules, n);
    // clone3's flags live in memory a filter cannot read: ENOSYS makes glibc
    // fall back to clone, whose flags the clone rule checks.
    const int c3 = seccomp_syscall_resolve_name("clone3");
    if (rc == 0 && c3 != __NR_SCMP_ERROR) rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), c3, 0);
    if (rc == 0 && supervisor) rc = add_rules(ctx, kSupervisorRules, n);
    if (rc == 0 && state_file) rc = add_rules(ctx, kVcpuStateFileRules, n);
    if (rc == 0) rc = add_rules(ctx, kSanitizerRules, n);
    if (rc == 0 && all_threads) rc = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1);
    if (rc == 0) rc = seccomp_load(ctx);
    seccomp_release(ctx);
    if (rc != 0) return err(fmt::format("seccomp filter not installed: {}", std::strerror(-rc)));
    return n;
}

// Every capability but CAP_SYS_NICE leaves the bounding, permitted,
// effective and inheritable sets.
bool drop_caps() {
    for (int cap = 0; cap <= CAP_LAST_CAP; ++cap) {
        if (cap != CAP_SYS_NICE) (void)prctl(PR_CAPBSET_DROP, cap, 0, 0, 0);
    }
    __user_cap_header_struct hdr{_LINUX_CAPABILITY_VERSION_3, 0};
    __user_cap_data_struct data[2]{};
    data[CAP_SYS_NICE / 32].effective = 1u << (CAP_SYS_NICE % 32);
    data[CAP_SYS_NICE / 32].permitted = 1u << (CAP_SYS_NICE % 32);
    // SAFETY: capset with a v3 header reads exactly two data structs.
    return syscall(SYS_capset, &hdr, data) == 0;
}

}  // namespace

bool Sandbox::state_file_ = false;

Result<SandboxReport, std::string> Sandbox::enter(const SandboxOptions& options) {
    state_file_ = options.task_threads_rewrite_state;
    SandboxReport r;
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
        return err(fmt::format("no_new_privs: {}", std::strerror(errno)));
    }
    r.caps_dropped = drop_caps();
#if defined(__SANITIZE_ADDRESS__)
    // LeakSanitizer's check needs ptrace and a non-thread clone, which the
    // filter refuses: it runs now (and not again at exit).
    __lsan_do_leak_check();
#endif
    const auto n = load(true, true, false);
    if (!n) return err(n.error());
    r.process_rules = n.value();
    for (const Rule& rule : kVcpuRules) r.vcpu_rules += seccomp_syscall_resolve_name(rule.name) != __NR_SCMP_ERROR;
    return r;
}

Result<void, std::string> Sandbox::restrict_vcpu_thread() {
    const auto n = load(false, false, state_file_);
    if (!n) return err(n.error());
    return {};
}

}  // namespace rvm::host
