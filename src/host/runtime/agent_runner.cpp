#include "host/runtime/agent_runner.hpp"

#include <fmt/format.h>

namespace rvm::host {

AgentRunner::AgentRunner(Kernel& kernel, const Clock& clock, const kvm::KvmSystem& sys, LogFn log)
    : clock_(clock),
      sys_(sys),
      log_(std::move(log)),
      nucleus_(kernel),
      edges_(nucleus_),
      sched_(nucleus_, clock),
      control_(nucleus_, clock, edges_, sched_),
      threads_(TaskServices{nucleus_, clock, log_, control_, sched_, edges_, psi_, sandboxed_}),
      reshaper_(nucleus_, clock, sys, parts_, control_, psi_, log_),
      supervisor_(clock, parts_, control_, psi_, edges_, reshaper_, sched_) {}

AgentRunner::~AgentRunner() {
    for (auto& p : parts_) control_.halt(*p);
    sched_.finish(false);
    parts_.clear();  // joins the threads
}

Result<std::size_t, std::string> AgentRunner::add(const PartitionSpec& spec) {
    auto p = AgentPartition::create(nucleus_, sys_, spec, clock_.now_ns());
    if (!p) return err(p.error());
    psi_.monitor().attach_partition(p.value()->id);
    parts_.push_back(std::move(p.value()));
    const std::size_t i = parts_.size() - 1;
    reshaper_.partition_added(i);
    return i;
}

Result<EdgeId, std::string> AgentRunner::connect(std::size_t from, std::size_t to, std::uint64_t capacity,
                                                 std::uint64_t share) {
    if (from >= parts_.size() || to >= parts_.size() || from == to) return err(std::string("edge: bad partitions"));
    return edges_.connect(*parts_[from], *parts_[to], capacity, share);
}

Result<SandboxReport, std::string> AgentRunner::enter_sandbox(const SandboxOptions& options) {
    auto r = Sandbox::enter(options);
    if (r) sandboxed_ = true;
    return r;
}

void AgentRunner::start() {
    sched_.start();
    for (auto& p : parts_) {
        p->start_ns = clock_.now_ns();
        std::lock_guard<std::mutex> g(p->mu);
        for (auto& t : p->tasks) threads_.start(*p, *t);
    }
}

void AgentRunner::destroy_all() {
    for (auto& p : parts_) control_.destroy(*p);
}

std::vector<PartitionReport> AgentRunner::reports() const {
    std::vector<PartitionReport> out;
    const PsiMonitor& psi = psi_.monitor();
    for (const auto& p : parts_) {
        std::lock_guard<std::mutex> g(p->mu);
        PartitionReport r;
        r.name = p->spec.name;
        r.outcome = p->outcome;
        r.exit_code = p->exit_code;
        for (const auto& t : p->tasks) {  // under p->mu: the partition's totals are its tasks'
            r.exits += t->exits;
            r.hypercalls += t->hypercalls;
        }
        r.run_ns = (p->end_ns != 0 ? p->end_ns : clock_.now_ns()) - p->start_ns;
        r.fault = p->fault;
        r.psi = psi.summary(p->id);
        r.throttled_ns = p->throttled_ns;
        r.boosted_epochs = p->boosted_epochs;
        r.c1_suspends = p->c1_suspends;
        r.psi_page_reads = p->psi_page_reads;
        r.vcpus = psi.vcpus(p->id);
        {
            std::lock_guard<std::mutex> lg(p->limiter_mu);
            r.log_dropped = p->limiter.dropped();
        }
        out.push_back(std::move(r));
    }
    return out;
}

}  // namespace rvm::host
