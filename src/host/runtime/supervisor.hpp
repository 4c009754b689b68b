// Supervisor: the epoch loop of a running runtime, on the thread that calls
// run(). Every few milliseconds it ends partitions whose wall time ran out
// and resumes those whose C1 sleep is over; at each Ψ epoch it feeds the Ψ
// governor, the edge weights and the coherence engine; then it runs the
// caller's tick (the witness flush). When every partition has ended it joins
// the task threads and the scheduler.
#pragma once

#include <cstdint>
#include <functional>

#include "host/runtime/edge_hub.hpp"
#include "host/runtime/host_scheduler.hpp"
#include "host/runtime/partition_control.hpp"
#include "host/runtime/psi_governor.hpp"
#include "host/runtime/reshaper.hpp"
#include "nucleus/clock.hpp"

namespace rvm::host {

class Supervisor {
public:
    Supervisor(const Clock& clock, PartitionList& parts, PartitionControl& control, PsiGovernor& psi, EdgeHub& edges,
               Reshaper& reshaper, HostScheduler& sched)
        : clock_(clock),
          parts_(parts),
          control_(control),
          psi_(psi),
          edges_(edges),
          reshaper_(reshaper),
          sched_(sched) {}

    // Returns when every partition has ended.
    void run(const std::function<void()>& tick);

private:
    // Wall time and C1 wake-ups; true while some partition runs.
    [[nodiscard]] bool check_partitions(std::uint64_t now);
    void join_tasks();

    const Clock& clock_;
    PartitionList& parts_;
    PartitionControl& control_;
    PsiGovernor& psi_;
    EdgeHub& edges_;
    Reshaper& reshaper_;
    HostScheduler& sched_;
};

}  // namespace rvm::host
