#include "host/psi/psi_monitor.hpp"

namespace rvm::host {

PsiMonitor::PsiMonitor(std::uint64_t epoch_ns) : engine_(std::make_unique<PsiEngine>()), epoch_ns_(epoch_ns) {
    // Thresholds per 10 ms epoch. A vCPU running guest code still exits on
    // every host timer tick (HZ=250: 2-3 per epoch), one that is not running
    // shows none: idle below 2 exits. Transitioning above 100 exits and
    // injections per epoch (10,000/s; a hypercall storm on PVM reaches ~40,000/s).
    PsiConfig c;
    c.thresholds.idle_exits = 2;
    c.thresholds.psi_threshold = 100;
    c.thresholds.window = 10;
    // CANNOT FAIL: the values above are inside validate()'s ranges.
    (void)engine_->configure(c);
}

void PsiMonitor::attach_partition(PartitionId p) {
    std::lock_guard<std::mutex> g(mu_);
    (void)engine_->attach_partition(p);
}

PsiSample PsiMonitor::read(const Task& t) const {
    PsiSample s;
    s.hypercalls = t.hypercalls != nullptr ? t.hypercalls->load(std::memory_order_relaxed) : 0;
    kvm::VcpuCounters c;
    if (t.stats && t.stats->read(c)) {
        s.exits = t.carry.exits + c.exits;
        s.io_exits = t.carry.io_exits + c.io_exits;
        s.mmio_exits = t.carry.mmio_exits + c.mmio_exits;
        s.irq_injections = t.carry.irq_injections + c.irq_injections;
        s.halt_exits = t.carry.halt_exits + c.halt_exits;
        s.insn_emulation = t.carry.insn_emulation + c.insn_emulation;
    } else if (t.exits != nullptr) {
        s.exits = t.exits->load(std::memory_order_relaxed);
    }
    return s;
}

void PsiMonitor::attach_task(PartitionId p, TaskId t, int vcpu_fd, const std::atomic<std::uint64_t>* exits,
                             const std::atomic<std::uint64_t>* hypercalls) {
    Task task{p, std::nullopt, exits, hypercalls, false, {}, {}};
    if (vcpu_fd >= 0) {
        auto s = kvm::KvmStats::open(vcpu_fd);
        if (s) task.stats.emplace(std::move(s.value()));
    }
    std::lock_guard<std::mutex> g(mu_);
    if (engine_->attach_vcpu(t, p, read(task))) tasks_.emplace(t.raw(), std::move(task));
}

void PsiMonitor::retire_task(TaskId t) {
    std::lock_guard<std::mutex> g(mu_);
    const auto it = tasks_.find(t.raw());
    if (it == tasks_.end()) return;
    it->second.last = read(it->second);
    it->second.retired = true;
    it->second.stats.reset();  // its fd: the vCPU is done
}

void PsiMonitor::rebind_task(TaskId t, int vcpu_fd) {
    std::optional<kvm::KvmStats> fresh;
    if (vcpu_fd >= 0) {
        auto s = kvm::KvmStats::open(vcpu_fd);
        if (s) fresh.emplace(std::move(s.value()));
    }
    std::lock_guard<std::mutex> g(mu_);
    const auto it = tasks_.find(t.raw());
    if (it == tasks_.end() || it->second.retired) return;
    Task& task = it->second;
    if (task.stats) {
        task.carry = read(task);
        task.carry.hypercalls = 0;  // RVM's own counter, not the vCPU's
    }
    task.stats = std::move(fresh);
}

std::vector<PsiMonitor::VcpuStats> PsiMonitor::vcpus(PartitionId p) const {
    std::lock_guard<std::mutex> g(mu_);
    std::vector<VcpuStats> out;
    for (const auto& [raw, task] : tasks_) {
        if (!(task.partition == p)) continue;
        const TaskId id = TaskId::from_raw(raw);
        const auto v = engine_->vcpu_view(id);
        out.push_back(
            VcpuStats{id, v ? v.value() : PsiVcpuView{}, task.retired ? task.last : read(task), !task.retired});
    }
    return out;
}

std::uint64_t PsiMonitor::sample(std::uint64_t now_ns) {
    std::lock_guard<std::mutex> g(mu_);
    if (last_ns_ == 0) {
        last_ns_ = now_ns;
        return 0;
    }
    const std::uint64_t len = now_ns - last_ns_;
    if (len < epoch_ns_) return 0;
    last_ns_ = now_ns;
    ++epoch_;
    const PsiEpoch e{epoch_, len < kPsiMaxEpochNs ? len : kPsiMaxEpochNs};
    for (const auto& [raw, task] : tasks_) {
        if (!task.retired) (void)engine_->observe(TaskId::from_raw(raw), read(task), e);
    }
    return e.length_ns;
}

PsiSummary PsiMonitor::summary(PartitionId p) const {
    std::lock_guard<std::mutex> g(mu_);
    PsiSummary s;
    const auto v = engine_->partition_view(p);
    if (!v) return s;
    s.state = v.value().state;
    s.ratio_percent = static_cast<double>(v.value().ratio_ppm) / 1e4;
    s.transitions_per_s = static_cast<double>(v.value().transition_rate_mhz) / 1e3;
    s.epochs = v.value().epochs;
    const auto d = engine_->policy(p);
    if (d) {
        s.cpu_permille = d.value().cpu_permille;
        s.mem_permille = d.value().mem_permille;
    }
    return s;
}

KResult<void> PsiMonitor::guest_register(PartitionId p) {
    std::lock_guard<std::mutex> g(mu_);
    return engine_->guest_register(p);
}

KResult<void> PsiMonitor::guest_unregister(PartitionId p) {
    std::lock_guard<std::mutex> g(mu_);
    return engine_->guest_unregister(p);
}

KResult<PsiVcpuView> PsiMonitor::vcpu_view(TaskId t) const {
    std::lock_guard<std::mutex> g(mu_);
    return engine_->vcpu_view(t);
}

PsiThresholds PsiMonitor::thresholds() const {
    std::lock_guard<std::mutex> g(mu_);
    return engine_->config().thresholds;
}

KResult<void> PsiMonitor::guest_update(PartitionId p, const PsiGuestReport& report) {
    std::lock_guard<std::mutex> g(mu_);
    return engine_->guest_update(p, report);
}

KResult<PsiPartitionView> PsiMonitor::partition_view(PartitionId p) const {
    std::lock_guard<std::mutex> g(mu_);
    return engine_->partition_view(p);
}

PsiHostView PsiMonitor::host_view() const {
    std::lock_guard<std::mutex> g(mu_);
    return engine_->host_view();
}

KResult<PsiDecision> PsiMonitor::policy(PartitionId p) const {
    std::lock_guard<std::mutex> g(mu_);
    return engine_->policy(p);
}

}  // namespace rvm::host
