// FakeVcpu: a scripted vCPU of the deterministic fake backend. run() returns
// the scripted exits in order (Preempted once the script is exhausted) and
// records every result the host sets, so exit handling is tested without KVM.
#pragma once

#include <cstdint>
#include <deque>
#include <vector>

#include "backend/vcpu.hpp"

namespace rvm::fake {

class FakeVcpu {
public:
    explicit FakeVcpu(std::deque<backend::VcpuExit> script) : script_(std::move(script)) {}

    Result<backend::VcpuExit, backend::BackendError> run() {
        ++runs;
        if (fail_run) return err(backend::BackendError{"fake KVM_RUN failure", 5});
        if (script_.empty()) return backend::VcpuExit{backend::exits::Preempted{}};
        backend::VcpuExit e = script_.front();
        script_.pop_front();
        return e;
    }
    Result<void, backend::BackendError> set_result(std::uint64_t rax) {
        results.push_back(rax);
        return {};
    }
    void complete_msr(std::uint64_t value, bool gp) { msr_answers.push_back({value, gp}); }
    void kick() { ++kicks; }
    void thread_done() { done = true; }

    struct MsrAnswer {
        std::uint64_t value = 0;
        bool gp = false;
    };
    std::vector<std::uint64_t> results;
    std::vector<MsrAnswer> msr_answers;
    std::uint64_t runs = 0;
    std::uint64_t kicks = 0;
    bool done = false;
    bool fail_run = false;

private:
    std::deque<backend::VcpuExit> script_;
};

static_assert(backend::Vcpu<FakeVcpu>);

}  // namespace rvm::fake
