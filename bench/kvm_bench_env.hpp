// KvmBenchEnv: what every benchmark that runs agents on KVM shares: the KVM
// system, libsodium, and a nucleus whose witness log chains records in memory
// (as `rvm run` without a witness path). `error` says why the environment is
// unusable; benchmarks then SkipWithError with it (skip_without).
#pragma once

#include <benchmark/benchmark.h>

#include <charconv>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "backend/kvm/kvm_system.hpp"
#include "host/posix/monotonic_clock.hpp"
#include "host/runtime/builder.hpp"
#include "host/witness/sodium_hash.hpp"
#include "nucleus/kernel.hpp"
#include "nucleus/witness_log.hpp"
#include "support/log_number.hpp"

namespace rvm::bench {

// Skips the benchmark with `error` if there is one; true if it did.
inline bool skip_without(benchmark::State& state, const std::string& error) {
    if (error.empty()) return false;
    state.SkipWithError(error.c_str());
    return true;
}

using test::number_after;  // tests/support/log_number.hpp

struct KvmBenchEnv {
    host::SodiumHash hash;
    host::MonotonicClock clock;
    std::unique_ptr<WitnessLog> log;
    std::unique_ptr<Kernel> kernel;
    std::optional<kvm::KvmSystem> sys;
    std::string error;

    KvmBenchEnv() {
        auto s = kvm::KvmSystem::open();
        if (!s) {
            error = "KVM unavailable: " + kvm::describe(s.error());
            return;
        }
        sys.emplace(std::move(s.value()));
        if (!host::sodium_ready()) {
            error = "libsodium unavailable (KVM benchmarks need it)";
            return;
        }
        log = std::make_unique<WitnessLog>(hash, clock, host::random_mac_key(), nullptr);
        kernel = std::make_unique<Kernel>(KernelEnv{hash, clock, host::random_mac_key(), ProofPolicy{}, log.get()});
    }

    // An agent image; empty (and `error` set) when it cannot be read.
    std::vector<std::uint8_t> agent(const char* path) {
        auto r = host::read_agent_image(path);
        if (!r) {
            if (error.empty()) error = std::string("agent ELF missing (KVM benchmarks): ") + path;
            return {};
        }
        return std::move(r.value());
    }
};

}  // namespace rvm::bench
