#include "host/demo/nucleus_demo.hpp"

#include <fmt/core.h>

#include <chrono>
#include <memory>
#include <thread>
#include <vector>

#include "abi/hypercall.h"
#include "backend/fake/fake_guest_memory.hpp"
#include "host/posix/monotonic_clock.hpp"
#include "host/witness/sodium_hash.hpp"
#include "host/witness/witness_audit.hpp"
#include "host/witness/witness_file.hpp"
#include "host/witness/witness_reader.hpp"
#include "nucleus/kernel.hpp"
#include "nucleus/syscalls.hpp"

namespace rvm::host {

namespace {

class Demo {
public:
    Demo(Kernel& k, Syscalls& sys, fake::FakeGuestMemory& mem, const MonotonicClock& clock)
        : k_(k), sys_(sys), mem_(mem), clock_(clock) {}

    // Prints one step and whether its outcome is the expected one.
    template <typename T>
    T step(const char* what, KResult<T> r, rvm_status expected = RVM_OK) {
        const rvm_status got = r ? RVM_OK : r.error().code;
        report(what, got, expected);
        if constexpr (std::is_void_v<T>) {
            return;
        } else {
            return r ? r.value() : T{};
        }
    }
    rvm_ret_t call(const char* what, PartitionId p, const SyscallFrame& f, rvm_status expected = RVM_OK) {
        const rvm_ret_t r = sys_.dispatch(p, f, mem_);
        report(what, r >= 0 ? RVM_OK : static_cast<rvm_status>((-r) & 0xff), expected);
        return r;
    }
    SyscallFrame proved(PartitionId p, CapHandle prove, std::uint64_t nr, std::array<std::uint64_t, 5> a) {
        const auto t = k_.mint_proof(p, prove, RVM_PROOF_STANDARD, static_cast<std::uint32_t>(nr), a,
                                     clock_.now_ns() + 1'000'000'000);
        if (!t) return SyscallFrame{nr, {a[0], a[1], a[2], a[3], a[4], 0}};
        mem_.write(p, 0x2000, &t.value().raw, sizeof t.value().raw);
        return SyscallFrame{nr, {a[0], a[1], a[2], a[3], a[4], 0x2000}};
    }
    CapHandle cap_to(PartitionId holder, ObjectRef o) const { return k_.state().caps.handle_of(holder.index, o); }
    [[nodiscard]] int failures() const { return failures_; }

private:
    void report(const char* what, rvm_status got, rvm_status expected) {
        const bool ok = got == expected;
        failures_ += ok ? 0 : 1;
        fmt::print("  {:<64} {:<28} {}\n", what, got == RVM_OK ? "ok" : status_name(got),
                   ok ? "as expected" : "UNEXPECTED");
    }

    Kernel& k_;
    Syscalls& sys_;
    fake::FakeGuestMemory& mem_;
    const MonotonicClock& clock_;
    int failures_ = 0;
};

void scenario(Demo& d, Kernel& k) {
    fmt::print("partitions and tasks\n");
    const PartitionId planner = d.step("host creates partition 'planner'", k.create_partition({}, PartitionConfig{}));
    const PartitionId worker = d.step("host creates partition 'worker'", k.create_partition({}, PartitionConfig{}));
    const TaskId t = d.step("spawn a task in planner", k.spawn_task(planner));
    d.step("task: initializing -> running", k.set_task_state(t, TaskState::Running));
    d.step("task: running -> reconstructing (illegal)", k.set_task_state(t, TaskState::Reconstructing), RVM_E_STATE);

    fmt::print("regions\n");
    const RegionId weights = d.step("planner maps 64 KiB immutable 'weights'",
                                    k.create_region(planner, 16, RVM_REGION_IMMUTABLE, RVM_TIER_HOT));
    const RegionId scratch =
        d.step("planner maps 16 KiB slab 'scratch'", k.create_region(planner, 4, RVM_REGION_SLAB, RVM_TIER_HOT));
    d.step("share 'weights' with worker (read-only)", k.share_region(weights, worker));
    d.step("share 'scratch' with worker (mutable: refused)", k.share_region(scratch, worker), RVM_E_INVALID);
    d.step("transfer 'scratch' to worker", k.transfer_region(scratch, worker));
    d.step("planner holds no capability to 'scratch' any more",
           d.cap_to(planner, ObjectRef{RVM_OBJ_REGION, scratch.raw()}).is_null() ? KResult<void>{} : fail(RVM_E_STATE));

    int churn_ok = 0;
    for (int i = 0; i < 40; ++i) {
        const auto r = k.create_region(planner, 1 + static_cast<std::uint64_t>(i % 7), RVM_REGION_SLAB, RVM_TIER_HOT);
        churn_ok += (r && k.destroy_region(r.value())) ? 1 : 0;
    }
    d.step("40 map/unmap cycles of scratch regions (80 records)", churn_ok == 40 ? KResult<void>{} : fail(RVM_E_STATE));

    fmt::print("capabilities\n");
    const CapHandle worker_self = d.cap_to(worker, ObjectRef{RVM_OBJ_PARTITION, worker.raw()});
    const CapHandle planner_to_worker = d.step("host grants planner a capability to worker",
                                               k.grant(planner, ObjectRef{RVM_OBJ_PARTITION, worker.raw()},
                                                       Rights{RVM_RIGHT_READ | RVM_RIGHT_WRITE | RVM_RIGHT_GRANT}));
    const CapHandle wcap = d.cap_to(planner, ObjectRef{RVM_OBJ_REGION, weights.raw()});
    const rvm_ret_t derived =
        d.call("hypercall cap_grant: weights READ -> worker", planner,
               SyscallFrame{RVM_HC_CAP_GRANT, {wcap.raw(), planner_to_worker.raw(), RVM_RIGHT_READ}});
    d.call("hypercall cap_grant: rights beyond the source (refused)", planner,
           SyscallFrame{RVM_HC_CAP_GRANT, {planner_to_worker.raw(), planner_to_worker.raw(), RVM_RIGHT_PROVE}},
           RVM_E_RIGHTS);
    d.call("hypercall cap_revoke of the derived capability's subtree", planner,
           SyscallFrame{RVM_HC_CAP_REVOKE, {wcap.raw(), 0}});
    const auto gone = k.state().caps.lookup(worker.index, CapHandle::from_raw(static_cast<std::uint64_t>(derived)),
                                            RVM_OBJ_REGION, Rights{});
    d.step("worker's derived capability is gone (stale handle)", gone ? KResult<void>{} : fail(gone.error().code),
           RVM_E_BAD_HANDLE);

    fmt::print("proof-gated hypercalls\n");
    const CapHandle worker_to_planner =
        d.step("host grants worker a capability to planner",
               k.grant(worker, ObjectRef{RVM_OBJ_PARTITION, planner.raw()}, Rights{RVM_RIGHT_WRITE}));
    const SyscallFrame edge =
        d.proved(worker, worker_self, RVM_HC_COMMEDGE_CREATE, {worker_to_planner.raw(), 0, 0, 0, 0});
    d.call("commedge_create worker -> planner with a Standard proof", worker, edge);
    d.call("the same token again (replay)", worker, edge, RVM_E_PROOF_REPLAYED);
    SyscallFrame forged = d.proved(worker, worker_self, RVM_HC_COMMEDGE_CREATE, {worker_to_planner.raw(), 0, 0, 0, 0});
    forged.args[1] = 1;  // arguments changed after minting
    d.call("a token presented with other arguments (forged)", worker, forged, RVM_E_PROOF_FORGED);
    d.call("commedge_create without a proof", worker,
           SyscallFrame{RVM_HC_COMMEDGE_CREATE, {worker_to_planner.raw(), 0, 0, 0, 0, 0}}, RVM_E_PROOF_MISSING);
    d.call("queue_send (data path not built yet)", worker, SyscallFrame{RVM_HC_QUEUE_SEND, {}}, RVM_E_NOT_SUPPORTED);
    d.call("hypercall 4242", worker, SyscallFrame{4242, {}}, RVM_E_UNKNOWN_CALL);

    fmt::print("device leases\n");
    const DeviceId nic = d.step("host registers device 0x1af4 (virtio-net)", k.register_device(0x1af4));
    d.step("host grants worker LEASE on it",
           k.grant(worker, ObjectRef{RVM_OBJ_DEVICE, nic.raw()}, Rights{RVM_RIGHT_LEASE}));
    const LeaseId lease = d.step("worker leases it for 20 ms", k.acquire_lease(worker, nic, 20'000'000));
    d.step("planner leases it too (busy)", k.acquire_lease(planner, nic, 1'000'000), RVM_E_BUSY);
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
    d.step("after 25 ms the lease has expired",
           k.expire_leases() == 1 && !k.lease_valid(lease) ? KResult<void>{} : fail(RVM_E_STATE));

    fmt::print("faults\n");
    d.step("worker fails (illegal instruction at rip 0x401000)",
           k.set_partition_state(worker, PartitionState::Failed, FailReason::IllegalInstruction, 0x401000));
    d.step("failed worker cannot be resumed", k.set_partition_state(worker, PartitionState::Active), RVM_E_STATE);
    d.step("planner is unaffected and can spawn", k.spawn_task(planner));
    d.step("destroy worker: tasks, regions, edges, leases, capabilities go", k.destroy_partition(worker));
}

}  // namespace

int run_nucleus_demo(const DemoOptions& options) {
    if (!sodium_ready()) {
        fmt::print(stderr, "rvm: libsodium could not be initialized\n");
        return 2;
    }
    auto keys = SigningKeyPair::generate();
    if (!keys) {
        fmt::print(stderr, "rvm: cannot generate a signing key\n");
        return 2;
    }
    auto writer = WitnessFileWriter::create(options.witness_path, keys.value());
    if (!writer) {
        fmt::print(stderr, "rvm: cannot create witness log {}: {}\n", options.witness_path, describe(writer.error()));
        return 2;
    }
    SodiumHash hash;
    MonotonicClock clock;
    const MacKey chain_key = random_mac_key();
    WitnessLog log(hash, clock, chain_key, writer.value().get());
    const MacKey proof_key = random_mac_key();
    auto kernel = std::make_unique<Kernel>(KernelEnv{hash, clock, proof_key, ProofPolicy{}, &log});
    Syscalls sys(*kernel);
    fake::FakeGuestMemory mem;
    Demo demo(*kernel, sys, mem, clock);

    fmt::print("RVM nucleus demo (fake backend, no KVM): every step is witnessed to {}\n", options.witness_path);
    scenario(demo, *kernel);

    const auto flushed = writer.value()->close();  // the sealed end marker: the log is complete
    if (!flushed) {
        fmt::print(stderr, "rvm: writing the witness log failed: {}\n", describe(flushed.error()));
        return 2;
    }
    const WitnessHead head = log.head();
    fmt::print("witness log: {} records, head hash {:016x}, invariants {}\n", head.next_sequence, head.last_hash,
               kernel->invariants_hold() ? "hold" : "BROKEN");

    // Audit the file with the public key only, then replay it from genesis.
    const auto audit = audit_witness_file(options.witness_path, AuditOptions{keys.value().public_key(), chain_key});
    if (!audit) {
        fmt::print(stderr, "rvm: cannot read back the witness log\n");
        return 2;
    }
    fmt::print("audit: {}\n", describe(audit.value()));
    auto replica = std::make_unique<Kernel>(KernelEnv{hash, clock, proof_key, ProofPolicy{}, nullptr});
    const auto bytes = read_file(options.witness_path, kWitnessMaxFileBytes);
    std::uint64_t applied = 0;
    bool replay_ok = bytes.ok();
    if (replay_ok) {
        const auto reader = WitnessReader::open(bytes.value());
        replay_ok = reader.ok();
        for (std::uint64_t i = 0; replay_ok && i < reader.value().record_count(); ++i, ++applied) {
            replay_ok = kernel != nullptr && replica->apply(reader.value().record(i)).ok();
        }
    }
    const bool equal = replay_ok && replica->state() == kernel->state();
    fmt::print("replay: {} records applied to an empty nucleus; state {} the live state\n", applied,
               equal ? "equals" : "DIFFERS FROM");
    const int bad =
        demo.failures() + (equal ? 0 : 1) + (audit.value().intact() ? 0 : 1) + (kernel->invariants_hold() ? 0 : 1);
    fmt::print("{}\n", bad == 0 ? "demo: all steps behaved as the rules say" : "demo: FAILED");
    return bad == 0 ? 0 : 1;
}

}  // namespace rvm::host
