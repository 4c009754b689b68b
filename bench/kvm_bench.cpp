// Agent partitions on KVM, each against a baseline in the same run:
//   spawn      BM_Spawn (create -> first hypercall -> destroy through
//              AgentPartition) vs BM_Bare_Spawn (the raw ioctl sequence);
//              goal within 1.3x. BM_Spawn_Paired alternates the two in one
//              loop (the robust ratio on a busy machine); BM_Spawn_Runner
//              adds AgentRunner's thread and wait loop around a two-call
//              agent (for reference).
//   hypercall  BM_Hypercall (agent_null through AgentRunner) vs
//              BM_Bare_Hypercall (KVM_RUN on `out` in a loop, no decoding);
//              goal within 1.15x. BM_Hypercall_Partition (RVM's vCPU and
//              dispatch on the bench thread) and BM_Bare_Hypercall_SyncRegs /
//              _GetSetRegs split the difference between the two.
//   compute    BM_Compute/DecJnz, /Lcg (agent_loop on the bench thread,
//              timed between the exits of the clock calls around the loop) vs
//              BM_Native/DecJnz, /Lcg (the same inline assembly on the host);
//              goal within 1.1x.
// Per-call and per-iteration costs are the counters us_per_call and
// ns_per_iter (wall) / cpu_ns_per_iter (thread CPU time, which a busy
// machine disturbs less). Without /dev/kvm all but BM_Native skip with an
// error that says "KVM".
#include <benchmark/benchmark.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fcntl.h>
#include <linux/kvm.h>
#include <pthread.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "abi/hypercall.h"
#include "bare_kvm.hpp"
#include "host/posix/monotonic_clock.hpp"
#include "host/posix/posix_io.hpp"
#include "host/runtime/agent_runner.hpp"
#include "host/witness/sodium_hash.hpp"
#include "kvm_bench_env.hpp"
#include "nucleus/witness_log.hpp"

namespace {

using namespace rvm;
using bench::number_after;
using bench::skip_without;
using Clock = std::chrono::steady_clock;

constexpr std::uint64_t kGuestMemory = 16ull << 20;    // PartitionSpec's default, for both sides
constexpr std::uint64_t kCalls = 10000;                // round trips per bare batch; agent_null makes as many
constexpr std::uint64_t kLoopIterations = 1ull << 28;  // agent_loop's LOOP_DEFAULT_ITERATIONS

double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

// What every RVM-side benchmark shares: KVM, a nucleus with an in-memory
// witness log (as `rvm run` without a witness path), and the agent images.
struct RvmEnv : bench::KvmBenchEnv {
    std::unique_ptr<host::NucleusGate> nucleus;
    std::vector<std::uint8_t> null_elf;
    std::vector<std::uint8_t> loop_elf;
    std::vector<std::uint8_t> exitcode_elf;

    RvmEnv() {
        if (!error.empty()) return;
        nucleus = std::make_unique<host::NucleusGate>(*kernel);
#if defined(RVM_AGENT_NULL_ELF) && defined(RVM_AGENT_LOOP_ELF) && defined(RVM_AGENT_EXITCODE_ELF)
        null_elf = agent(RVM_AGENT_NULL_ELF);
        loop_elf = agent(RVM_AGENT_LOOP_ELF);
        exitcode_elf = agent(RVM_AGENT_EXITCODE_ELF);
#else
        error = "agent ELFs were not built (KVM benchmarks)";
#endif
    }

    static RvmEnv& get() {
        static RvmEnv env;
        return env;
    }

    [[nodiscard]] host::PartitionSpec spec(const std::vector<std::uint8_t>& elf) const {
        host::PartitionSpec s;
        s.name = "bench";
        s.elf = elf;
        s.memory = kGuestMemory;
        return s;
    }
};

// The baseline's own /dev/kvm handle.
struct BareEnv {
    UniqueFd kvm;
    std::size_t run_size = 0;
    std::string error;

    BareEnv() : kvm(::open("/dev/kvm", O_RDWR | O_CLOEXEC)) {
        if (!kvm.valid()) {
            error = "KVM unavailable: cannot open /dev/kvm";
            return;
        }
        // SAFETY: KVM_GET_VCPU_MMAP_SIZE takes no argument.
        const int n = ioctl(kvm.get(), KVM_GET_VCPU_MMAP_SIZE, 0);
        if (n <= 0) {
            error = "KVM_GET_VCPU_MMAP_SIZE failed";
            return;
        }
        run_size = static_cast<std::size_t>(n);
    }

    static BareEnv& get() {
        static BareEnv env;
        return env;
    }
};

// The context handle_hypercall needs for `p`'s calls.
host::PartitionCallContext call_context(RvmEnv& env, host::AgentPartition& p) {
    return {p.id, *env.nucleus, *p.memory, p.info, p.start_ns, p.limiter, p.limiter_mu};
}

// Teardown as AgentRunner::destroy_all: the task thread's end (as the task
// thread does before it ends), the nucleus partition, then the host side.
void destroy(RvmEnv& env, std::unique_ptr<host::AgentPartition>& part) {
    part->tasks[0]->vcpu->thread_done();
    env.nucleus->with([&](Kernel& k) { (void)k.destroy_partition(part->id); });
    part.reset();
}

// ---------------------------------------------------------------- spawn

// One create -> run to the `out` -> destroy of the baseline. Empty on success.
std::string bare_spawn(BareEnv& env) {
    auto vm = bench::BareVm::create(env.kvm.get(), env.run_size, kGuestMemory);
    if (!vm) return vm.error();
    return vm.value().run_to_out() ? std::string() : std::string("KVM_RUN did not reach the out");
}

// The same through RVM. AgentPartition::create does the whole job up to a
// runnable vCPU: nucleus partition and region, memfd RAM, ELF load, page
// tables, info page, TSS, VM, memslot, nucleus task and vCPU. Then one run to
// the agent's first call, its dispatch, and teardown (nucleus first, as
// AgentRunner::destroy_all). Empty on success.
std::string rvm_spawn(RvmEnv& env, const host::PartitionSpec& spec) {
    auto part = host::AgentPartition::create(*env.nucleus, *env.sys, spec, env.clock.now_ns());
    if (!part) return part.error();
    host::AgentPartition& p = *part.value();
    const auto ex = p.tasks[0]->vcpu->run();
    const auto* call = ex ? std::get_if<backend::exits::Hypercall>(&ex.value()) : nullptr;
    std::string error;
    if (call != nullptr) {
        const host::PartitionCallContext ctx = call_context(env, p);
        benchmark::DoNotOptimize(host::handle_hypercall(ctx, call->regs, env.clock.now_ns()).rax);
    } else {
        error = "the agent's first exit was not a hypercall";
    }
    destroy(env, part.value());
    return error;
}

void BM_Bare_Spawn(benchmark::State& state) {
    BareEnv& env = BareEnv::get();
    if (skip_without(state, env.error)) return;
    for (auto _ : state) {
        const std::string e = bare_spawn(env);
        if (!e.empty()) {
            state.SkipWithError(e.c_str());
            return;
        }
    }
}
BENCHMARK(BM_Bare_Spawn)->Unit(benchmark::kMicrosecond)->UseRealTime();

void BM_Spawn(benchmark::State& state) {
    RvmEnv& env = RvmEnv::get();
    if (skip_without(state, env.error)) return;
    const host::PartitionSpec spec = env.spec(env.null_elf);
    for (auto _ : state) {
        const std::string e = rvm_spawn(env, spec);
        if (!e.empty()) {
            state.SkipWithError(e.c_str());
            return;
        }
    }
}
BENCHMARK(BM_Spawn)->Unit(benchmark::kMicrosecond)->UseRealTime();

double thread_cpu_seconds() {
    timespec t{};
    // CANNOT FAIL: a valid clock id and pointer.
    (void)clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_nsec) * 1e-9;
}

double median(std::vector<double> v) {
    if (v.empty()) return 0;
    const auto mid = v.begin() + static_cast<std::ptrdiff_t>(v.size() / 2);
    std::nth_element(v.begin(), mid, v.end());
    return *mid;
}

// BM_Spawn and BM_Bare_Spawn alternating in one loop, so that both see the
// same machine: much of a spawn's wall time is waiting inside KVM (the SRCU
// grace period of KVM_SET_USER_MEMORY_REGION, VM teardown), which grows from
// well under a millisecond to several when other processes keep both CPUs busy. Counters: median
// wall and thread-CPU microseconds of each, and the ratios of the medians.
void BM_Spawn_Paired(benchmark::State& state) {
    RvmEnv& env = RvmEnv::get();
    BareEnv& bare = BareEnv::get();
    if (skip_without(state, env.error) || skip_without(state, bare.error)) return;
    const host::PartitionSpec spec = env.spec(env.null_elf);
    std::vector<double> rvm_wall, rvm_cpu, bare_wall, bare_cpu;
    bool rvm_first = true;
    for (auto _ : state) {
        for (int k = 0; k < 2; ++k) {
            const bool rvm = (k == 0) == rvm_first;
            const auto t0 = Clock::now();
            const double c0 = thread_cpu_seconds();
            const std::string e = rvm ? rvm_spawn(env, spec) : bare_spawn(bare);
            const double cpu = thread_cpu_seconds() - c0;
            const double wall = seconds_since(t0);
            if (!e.empty()) {
                state.SkipWithError(e.c_str());
                return;
            }
            (rvm ? rvm_wall : bare_wall).push_back(wall * 1e6);
            (rvm ? rvm_cpu : bare_cpu).push_back(cpu * 1e6);
        }
        rvm_first = !rvm_first;
    }
    const double rw = median(rvm_wall), bw = median(bare_wall), rc = median(rvm_cpu), bc = median(bare_cpu);
    state.counters["rvm_us"] = rw;
    state.counters["bare_us"] = bw;
    state.counters["ratio"] = bw > 0 ? rw / bw : 0;
    state.counters["rvm_cpu_us"] = rc;
    state.counters["bare_cpu_us"] = bc;
    state.counters["cpu_ratio"] = bc > 0 ? rc / bc : 0;
}
BENCHMARK(BM_Spawn_Paired)->Unit(benchmark::kMicrosecond)->UseRealTime();

// The whole `rvm run` life of a two-call agent (log, exit): runner, task
// thread, AgentRunner::wait's polling, destroy.
void BM_Spawn_Runner(benchmark::State& state) {
    RvmEnv& env = RvmEnv::get();
    if (skip_without(state, env.error)) return;
    const host::PartitionSpec spec = env.spec(env.exitcode_elf);
    for (auto _ : state) {
        host::AgentRunner runner(*env.kernel, env.clock, *env.sys, {});
        if (!runner.add(spec)) {
            state.SkipWithError("AgentRunner::add failed");
            return;
        }
        runner.start();
        runner.wait();
        runner.destroy_all();
    }
}
BENCHMARK(BM_Spawn_Runner)->Unit(benchmark::kMicrosecond)->UseRealTime();

// ---------------------------------------------------------------- hypercall

// A moment on the bench thread: the steady clock and the thread's CPU time
// (which includes the time its vCPU spends running guest code).
struct Stamp {
    double wall = 0;
    double cpu = 0;
};

Stamp stamp(bool with_cpu) {
    return {std::chrono::duration<double>(Clock::now().time_since_epoch()).count(),
            with_cpu ? thread_cpu_seconds() : 0.0};
}

struct HereRun {
    Stamp start;  // before the first KVM_RUN
    Stamp end;    // after the exit call
    std::uint64_t calls = 0;
};

// Runs task 0 of a fresh partition on the calling thread until it exits:
// KvmVcpu::run, handle_hypercall, KvmVcpu::set_result, i.e. RVM's per-exit
// work without the runner's thread. `on_call(regs, result, at)` sees each
// call; `at` is stamped as its exit returned to user space (with the CPU
// time only if `cpu_stamps`: that costs a system call).
template <class OnCall>
Result<HereRun, std::string> run_here(RvmEnv& env, const host::PartitionSpec& spec, bool cpu_stamps, OnCall&& on_call) {
    auto part = host::AgentPartition::create(*env.nucleus, *env.sys, spec, env.clock.now_ns());
    if (!part) return err(part.error());
    host::AgentPartition& p = *part.value();
    kvm::KvmVcpu& vcpu = *p.tasks[0]->vcpu;
    const host::PartitionCallContext ctx = call_context(env, p);
    HereRun out;
    bool exited = false;
    out.start = stamp(cpu_stamps);
    for (;;) {
        const auto ex = vcpu.run();
        const Stamp at = stamp(cpu_stamps);
        const auto* call = ex ? std::get_if<backend::exits::Hypercall>(&ex.value()) : nullptr;
        if (call == nullptr) break;
        ++out.calls;
        const host::CallResult r = host::handle_hypercall(ctx, call->regs, env.clock.now_ns());
        on_call(call->regs, r, at);
        exited = r.next == host::CallResult::Next::ExitTask;
        if (exited || !vcpu.set_result(r.rax)) break;
    }
    out.end = stamp(cpu_stamps);
    destroy(env, part.value());
    if (!exited) return err(std::string("the agent stopped without exiting"));
    return out;
}

void report_calls(benchmark::State& state, double seconds, std::uint64_t calls) {
    state.counters["us_per_call"] = seconds * 1e6 / static_cast<double>(calls);
    state.SetItemsProcessed(static_cast<std::int64_t>(calls));
}

enum class RegSync : std::uint8_t { None, SyncRegs, GetSetRegs };

// What a hypercall result costs with each way of writing rax: through the
// synced registers in kvm_run (what KvmVcpu does when KVM offers them), or
// KVM_GET_REGS + KVM_SET_REGS (its fallback).
bool write_result(bench::BareVm& v, RegSync sync) {
    if (sync == RegSync::SyncRegs) {
        kvm_run& r = v.shared();
        r.s.regs.regs.rax = r.s.regs.regs.rax + 1;
        r.kvm_dirty_regs |= KVM_SYNC_X86_REGS;
    } else if (sync == RegSync::GetSetRegs) {
        kvm_regs k{};
        // SAFETY: KVM_GET_REGS fills a kvm_regs we own.
        if (ioctl(v.vcpu_fd(), KVM_GET_REGS, &k) != 0) return false;
        ++k.rax;
        // SAFETY: KVM_SET_REGS reads the kvm_regs we own.
        if (ioctl(v.vcpu_fd(), KVM_SET_REGS, &k) != 0) return false;
    }
    return true;
}

// A bare VM for a benchmark, or nothing (and the benchmark skipped, saying why).
std::optional<bench::BareVm> bare_vm(benchmark::State& state) {
    BareEnv& env = BareEnv::get();
    if (skip_without(state, env.error)) return std::nullopt;
    auto vm = bench::BareVm::create(env.kvm.get(), env.run_size, kGuestMemory);
    if (!vm) {
        state.SkipWithError(vm.error().c_str());
        return std::nullopt;
    }
    return std::move(vm.value());
}

// The bare loop: KVM_RUN, check the exit, repeat (plus write_result).
void bare_hypercall(benchmark::State& state, RegSync sync) {
    auto vm = bare_vm(state);
    if (!vm) return;
    bench::BareVm& v = *vm;
    if (sync == RegSync::SyncRegs) v.enable_sync_regs();
    double total = 0;
    std::uint64_t calls = 0;
    for (auto _ : state) {
        const auto t0 = Clock::now();
        for (std::uint64_t i = 0; i < kCalls; ++i) {
            if (!v.run_to_out()) {
                state.SkipWithError("KVM_RUN did not reach the out");
                return;
            }
            if (!write_result(v, sync)) {
                state.SkipWithError("KVM_GET_REGS/KVM_SET_REGS failed");
                return;
            }
        }
        const double s = seconds_since(t0);
        state.SetIterationTime(s);
        total += s;
        calls += kCalls;
    }
    report_calls(state, total, calls);
}

void BM_Bare_Hypercall(benchmark::State& state) { bare_hypercall(state, RegSync::None); }
void BM_Bare_Hypercall_SyncRegs(benchmark::State& state) { bare_hypercall(state, RegSync::SyncRegs); }
void BM_Bare_Hypercall_GetSetRegs(benchmark::State& state) { bare_hypercall(state, RegSync::GetSetRegs); }
BENCHMARK(BM_Bare_Hypercall)->Unit(benchmark::kMillisecond)->UseManualTime()->Iterations(5);
BENCHMARK(BM_Bare_Hypercall_SyncRegs)->Unit(benchmark::kMillisecond)->UseManualTime()->Iterations(5);
BENCHMARK(BM_Bare_Hypercall_GetSetRegs)->Unit(benchmark::kMillisecond)->UseManualTime()->Iterations(5);

// Issue 5's notification question: would an ioeventfd doorbell save the exit
// to user space? The bare guest's `out` loop with an ioeventfd on its port:
// KVM signals the eventfd in the kernel and re-enters the guest without
// KVM_RUN returning. Run it for 50 ms (a timer thread kicks the vCPU out),
// and divide by the eventfd's count: the cost of one doorbell, to compare
// with BM_Bare_Hypercall (a full exit to user space and back).
void BM_Bare_IoeventfdDoorbell(benchmark::State& state) {
    auto vm = bare_vm(state);
    if (!vm) return;
    bench::BareVm& v = *vm;
    UniqueFd efd(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
    kvm_ioeventfd io{};
    io.addr = bench::BareVm::kPort;
    io.len = 4;
    io.fd = efd.get();
    io.flags = KVM_IOEVENTFD_FLAG_PIO;
    // SAFETY: KVM_IOEVENTFD reads the kvm_ioeventfd we filled.
    if (!efd.valid() || ioctl(v.vm_fd(), KVM_IOEVENTFD, &io) != 0) {
        state.SkipWithError("KVM_IOEVENTFD refused");
        return;
    }
    kvm::KvmVcpu::install_kick_handler();
    std::uint64_t doorbells = 0;
    double total = 0;
    const pthread_t self = pthread_self();
    for (auto _ : state) {
        std::atomic<bool> started{false};
        std::thread timer([&] {
            while (!started) std::this_thread::yield();
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
            __atomic_store_n(&v.shared().immediate_exit, 1, __ATOMIC_SEQ_CST);
            (void)pthread_kill(self, SIGRTMIN + 1);
        });
        const auto t0 = Clock::now();
        started = true;
        // SAFETY: KVM_RUN on our vCPU; it returns when the timer kicks it.
        (void)ioctl(v.vcpu_fd(), KVM_RUN, 0);
        const double s = seconds_since(t0);
        timer.join();
        __atomic_store_n(&v.shared().immediate_exit, 0, __ATOMIC_SEQ_CST);
        std::uint64_t n = 0;
        if (read(efd.get(), &n, sizeof n) != static_cast<ssize_t>(sizeof n)) n = 0;
        state.SetIterationTime(s);
        total += s;
        doorbells += n;
    }
    report_calls(state, total, doorbells);
}
BENCHMARK(BM_Bare_IoeventfdDoorbell)->Unit(benchmark::kMillisecond)->UseManualTime()->Iterations(3);

// agent_null's calls through KvmVcpu::run, handle_hypercall and
// KvmVcpu::set_result on the bench thread: RVM's per-exit work without the
// runner's thread, hooks and counters.
void BM_Hypercall_Partition(benchmark::State& state) {
    RvmEnv& env = RvmEnv::get();
    if (skip_without(state, env.error)) return;
    const host::PartitionSpec spec = env.spec(env.null_elf);
    double total = 0;
    std::uint64_t calls = 0;
    for (auto _ : state) {
        const auto r = run_here(env, spec, false, [](const backend::Regs&, const host::CallResult&, const Stamp&) {});
        if (!r) {
            state.SkipWithError(r.error().c_str());
            return;
        }
        const double s = r.value().end.wall - r.value().start.wall;
        state.SetIterationTime(s);
        total += s;
        calls += r.value().calls;
    }
    report_calls(state, total, calls);
}
BENCHMARK(BM_Hypercall_Partition)->Unit(benchmark::kMillisecond)->UseManualTime()->Iterations(5);

// One run of agent_null: the runner's run_ns and the hypercalls; ok = it exited.
struct NullRun {
    std::uint64_t run_ns = 0, hypercalls = 0, ok = 0;
};

// In this process, or in a forked child (a seccomp filter cannot be lifted)
// with or without the sandbox; the child sends its NullRun back.
NullRun null_run(RvmEnv& env, const host::PartitionSpec& spec, bool sandboxed) {
    NullRun out;
    host::AgentRunner runner(*env.kernel, env.clock, *env.sys, {});
    if (runner.add(spec) && (!sandboxed || runner.enter_sandbox())) {
        runner.start();
        runner.wait();
        const host::PartitionReport r = runner.reports()[0];
        runner.destroy_all();
        out = {r.run_ns, r.hypercalls, r.outcome == host::Outcome::Exited ? 1u : 0u};
    }
    return out;
}

NullRun forked_null_run(RvmEnv& env, const host::PartitionSpec& spec, bool sandboxed) {
    int fds[2];
    if (pipe(fds) != 0) return {};
    const pid_t pid = fork();
    if (pid == 0) {
        close(fds[0]);
        const NullRun out = null_run(env, spec, sandboxed);
        // SAFETY: a trivially copyable struct sent as its bytes.
        const ssize_t w = write(fds[1], &out, sizeof out);
        _exit(w == static_cast<ssize_t>(sizeof out) ? 0 : 1);
    }
    close(fds[1]);
    NullRun got;
    // SAFETY: reads the bytes the child wrote into a trivially copyable struct.
    const bool read_all = pid > 0 && read(fds[0], &got, sizeof got) == static_cast<ssize_t>(sizeof got);
    close(fds[0]);
    int status = 0;
    if (pid > 0) (void)waitpid(pid, &status, 0);
    return read_all && WIFEXITED(status) && WEXITSTATUS(status) == 0 ? got : NullRun{};
}

enum class Where : std::uint8_t { InProcess, Forked, ForkedSandboxed };

// agent_null through AgentRunner, as `rvm run` runs it. The time is the
// runner's own run_ns (start() to the task's exit), which leaves out wait()'s
// polling and the teardown.
void null_hypercalls(benchmark::State& state, Where where) {
    RvmEnv& env = RvmEnv::get();
    if (skip_without(state, env.error)) return;
    const host::PartitionSpec spec = env.spec(env.null_elf);
    double total = 0;
    std::uint64_t calls = 0;
    for (auto _ : state) {
        const NullRun r = where == Where::InProcess ? null_run(env, spec, false)
                                                    : forked_null_run(env, spec, where == Where::ForkedSandboxed);
        if (r.ok == 0) {
            state.SkipWithError("agent_null did not run to its exit");
            return;
        }
        const double s = static_cast<double>(r.run_ns) / 1e9;
        state.SetIterationTime(s);
        total += s;
        calls += r.hypercalls;
    }
    report_calls(state, total, calls);
}
void BM_Hypercall(benchmark::State& state) { null_hypercalls(state, Where::InProcess); }
BENCHMARK(BM_Hypercall)->Unit(benchmark::kMillisecond)->UseManualTime()->Iterations(5);
// The null hypercall under the sandbox's filters vs the same forked run without.
void BM_Hypercall_Forked(benchmark::State& state) { null_hypercalls(state, Where::Forked); }
void BM_Hypercall_Sandboxed(benchmark::State& state) { null_hypercalls(state, Where::ForkedSandboxed); }
BENCHMARK(BM_Hypercall_Forked)->Unit(benchmark::kMillisecond)->UseManualTime()->Iterations(5);
BENCHMARK(BM_Hypercall_Sandboxed)->Unit(benchmark::kMillisecond)->UseManualTime()->Iterations(5);

// ---------------------------------------------------------------- compute

// The loops of guest/examples/loop.c, instruction for instruction.
std::uint64_t loop_decjnz(std::uint64_t n) {
    __asm__ volatile(".p2align 4\n1:\n\tdec %0\n\tjnz 1b" : "+r"(n) : : "cc");
    return n;
}

std::uint64_t loop_lcg(std::uint64_t n, std::uint64_t x) {
    const std::uint64_t a = 6364136223846793005ull;
    const std::uint64_t c = 1442695040888963407ull;
    __asm__ volatile(".p2align 4\n1:\n\timul %[a], %[x]\n\tadd %[c], %[x]\n\tdec %[n]\n\tjnz 1b"
                     : [x] "+r"(x), [n] "+r"(n)
                     : [a] "r"(a), [c] "r"(c)
                     : "cc");
    return x;
}

enum class Loop : std::uint8_t { DecJnz, Lcg };

std::uint64_t iterations_of(Loop l) { return l == Loop::DecJnz ? kLoopIterations : kLoopIterations / 4; }

void report_loop(benchmark::State& state, double wall, double cpu, std::uint64_t iterations) {
    state.counters["ns_per_iter"] = wall * 1e9 / static_cast<double>(iterations);
    state.counters["cpu_ns_per_iter"] = cpu * 1e9 / static_cast<double>(iterations);
}

void BM_Native(benchmark::State& state, Loop l) {
    const std::uint64_t n = iterations_of(l);
    double wall = 0, cpu = 0;
    std::uint64_t iterations = 0;
    for (auto _ : state) {
        const Stamp t0 = stamp(true);
        benchmark::DoNotOptimize(l == Loop::DecJnz ? loop_decjnz(n) : loop_lcg(n, 1));
        const Stamp t1 = stamp(true);
        state.SetIterationTime(t1.wall - t0.wall);
        wall += t1.wall - t0.wall;
        cpu += t1.cpu - t0.cpu;
        iterations += n;
    }
    report_loop(state, wall, cpu, iterations);
}

// agent_loop on the bench thread (run_here). The loop's time is the span
// between the exits of the two RVM_HC_CLOCK calls around it (the agent's
// own measurement, plus one round trip), in wall and thread-CPU time.
void BM_Compute(benchmark::State& state, Loop l) {
    RvmEnv& env = RvmEnv::get();
    if (skip_without(state, env.error)) return;
    const host::PartitionSpec spec = env.spec(env.loop_elf);
    const std::string_view kind = l == Loop::DecJnz ? "kind=decjnz " : "kind=lcg ";
    const std::size_t first = l == Loop::DecJnz ? 0 : 2;  // clock calls: decjnz 0 and 1, lcg 2 and 3
    const std::uint64_t n = iterations_of(l);
    double wall = 0, cpu = 0;
    std::uint64_t iterations = 0;
    for (auto _ : state) {
        std::vector<Stamp> clocks;
        std::optional<std::uint64_t> logged_n;
        const auto r =
            run_here(env, spec, true, [&](const backend::Regs& regs, const host::CallResult& c, const Stamp& at) {
                if (regs.rax == RVM_HC_CLOCK) clocks.push_back(at);
                if (c.log && c.log->find(kind) != std::string::npos) {
                    logged_n = number_after(*c.log, "iterations=");
                }
            });
        if (!r || clocks.size() < first + 2 || logged_n != n) {
            state.SkipWithError(r ? "agent_loop did not report the expected loop" : r.error().c_str());
            return;
        }
        const Stamp& t0 = clocks[first];
        const Stamp& t1 = clocks[first + 1];
        state.SetIterationTime(t1.wall - t0.wall);
        wall += t1.wall - t0.wall;
        cpu += t1.cpu - t0.cpu;
        iterations += n;
    }
    report_loop(state, wall, cpu, iterations);
}

BENCHMARK_CAPTURE(BM_Native, DecJnz, Loop::DecJnz)->Unit(benchmark::kMillisecond)->UseManualTime()->Iterations(5);
BENCHMARK_CAPTURE(BM_Compute, DecJnz, Loop::DecJnz)->Unit(benchmark::kMillisecond)->UseManualTime()->Iterations(5);
BENCHMARK_CAPTURE(BM_Native, Lcg, Loop::Lcg)->Unit(benchmark::kMillisecond)->UseManualTime()->Iterations(5);
BENCHMARK_CAPTURE(BM_Compute, Lcg, Loop::Lcg)->Unit(benchmark::kMillisecond)->UseManualTime()->Iterations(5);

}  // namespace
