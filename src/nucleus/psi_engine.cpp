#include "nucleus/psi_engine.hpp"

namespace rvm {
namespace {

constexpr std::size_t idx(PsiState s) { return static_cast<std::size_t>(s); }

constexpr std::uint32_t pooled_ratio(std::uint64_t psi_epochs, std::uint64_t epochs) {
    // psi_epochs <= epochs <= kPsiMaxVcpus * kPsiMaxWindow: no overflow.
    return epochs == 0 ? 0 : static_cast<std::uint32_t>(psi_epochs * kPsiRatioOne / epochs);
}

constexpr PsiState highest(const std::array<std::uint32_t, kPsiStateCount>& in_state) {
    if (in_state[idx(PsiState::Psi)] > 0) return PsiState::Psi;
    if (in_state[idx(PsiState::One)] > 0) return PsiState::One;
    return PsiState::Zero;
}

constexpr std::uint64_t kMaxGuestWeight = 0xffff'ffffu;

constexpr std::uint64_t guest_weight(const PsiGuestReport& r) {
    const std::uint64_t c = r.committed > kMaxGuestWeight ? kMaxGuestWeight : r.committed;
    const std::uint64_t d = r.deferred > kMaxGuestWeight ? kMaxGuestWeight : r.deferred;
    return c + d > kMaxGuestWeight ? kMaxGuestWeight : c + d;
}

// The entry a handle names, or nullptr for a null, out-of-range or stale handle.
template <typename Table, typename Id>
auto* live(Table& table, Id id) {
    decltype(&table[0]) e = nullptr;
    if (id.generation != 0 && id.index < table.size() && table[id.index].generation == id.generation) {
        e = &table[id.index];
    }
    return e;
}

// The sums' part of a partition or host view.
template <typename View, typename Sums>
void fill(View& view, const Sums& s) {
    view.in_state = s.in_state;
    view.epochs = s.epochs;
    view.psi_epochs = s.psi_epochs;
    view.ratio_ppm = pooled_ratio(s.psi_epochs, s.epochs);
    view.transition_rate_mhz = s.rate_mhz;
}

}  // namespace

KResult<void> validate(const PsiConfig& c) {
    RVM_TRY_VOID(validate(c.thresholds));
    return validate(c.policy);
}

KResult<void> PsiEngine::configure(const PsiConfig& c) {
    RVM_TRY_VOID(validate(c));
    const bool new_window = c.thresholds.window != config_.thresholds.window;
    config_ = c;
    if (!new_window) return {};
    for (Vcpu& v : vcpus_) v.history.reset(c.thresholds.window);
    for (Partition& p : partitions_) p.sums.clear_window();
    totals_.sums.clear_window();
    return {};
}

PsiEngine::Vcpu* PsiEngine::find(TaskId id) { return live(vcpus_, id); }
const PsiEngine::Vcpu* PsiEngine::find(TaskId id) const { return live(vcpus_, id); }
PsiEngine::Partition* PsiEngine::find(PartitionId id) { return live(partitions_, id); }
const PsiEngine::Partition* PsiEngine::find(PartitionId id) const { return live(partitions_, id); }

KResult<void> PsiEngine::attach_partition(PartitionId pid) {
    if (pid.generation == 0 || pid.index >= kPsiMaxPartitions) return fail(RVM_E_BAD_HANDLE);
    Partition& p = partitions_[pid.index];
    if (p.generation != 0) return fail(RVM_E_BUSY);
    p = Partition{};
    p.generation = pid.generation;
    ++totals_.partitions;
    return {};
}

KResult<void> PsiEngine::detach_partition(PartitionId pid) {
    Partition* p = find(pid);
    if (p == nullptr) return fail(RVM_E_BAD_HANDLE);
    if (p->vcpus != 0) return fail(RVM_E_BUSY);
    *p = Partition{};
    --totals_.partitions;
    return {};
}

KResult<void> PsiEngine::attach_vcpu(TaskId vcpu, PartitionId pid, const PsiSample& baseline) {
    if (vcpu.generation == 0 || vcpu.index >= kPsiMaxVcpus) return fail(RVM_E_BAD_HANDLE);
    Partition* p = find(pid);
    if (p == nullptr) return fail(RVM_E_BAD_HANDLE);
    Vcpu& v = vcpus_[vcpu.index];
    if (v.generation != 0) return fail(RVM_E_BUSY);
    v = Vcpu{};
    v.generation = vcpu.generation;
    v.partition = pid.index;
    v.prev = baseline;
    v.history.reset(config_.thresholds.window);
    ++p->vcpus;
    ++totals_.vcpus;
    contribute(v, *p);
    return {};
}

KResult<void> PsiEngine::detach_vcpu(TaskId vcpu) {
    Vcpu* v = find(vcpu);
    if (v == nullptr) return fail(RVM_E_BAD_HANDLE);
    Partition& p = partitions_[v->partition];
    withdraw(*v, p);
    --p.vcpus;
    --totals_.vcpus;
    *v = Vcpu{};
    return {};
}

KResult<void> PsiEngine::reset(TaskId vcpu, const PsiSample& baseline) {
    Vcpu* v = find(vcpu);
    if (v == nullptr) return fail(RVM_E_BAD_HANDLE);
    Partition& p = partitions_[v->partition];
    withdraw(*v, p);
    v->observed = false;
    v->state = PsiState::Zero;
    v->last_epoch = 0;
    v->prev = baseline;
    v->last_deltas = PsiDeltas{};
    v->history.reset(config_.thresholds.window);
    contribute(*v, p);
    return {};
}

// A vCPU's window only changes between a withdraw and a contribute, so what
// it adds is exactly what it later takes back.
void PsiEngine::PsiSums::add(const Vcpu& v) {
    psi_epochs += v.history.psi_epochs();
    epochs += v.history.epochs();
    rate_mhz += v.history.transition_rate_mhz();
    ++in_state[idx(v.state)];
}

void PsiEngine::PsiSums::sub(const Vcpu& v) {
    psi_epochs -= v.history.psi_epochs();
    epochs -= v.history.epochs();
    rate_mhz -= v.history.transition_rate_mhz();
    --in_state[idx(v.state)];
}

void PsiEngine::withdraw(const Vcpu& v, Partition& p) {
    p.sums.sub(v);
    totals_.sums.sub(v);
}

void PsiEngine::contribute(Vcpu& v, Partition& p) {
    p.sums.add(v);
    totals_.sums.add(v);
}

void PsiEngine::tick(Partition& p, std::uint64_t epoch, PsiState s) {
    // A late observation of an earlier epoch counts in the current one.
    if (!p.clock_started || epoch > p.epoch) {
        p.psi_before = p.clock_started && epoch == p.epoch + 1 && p.psi_now;
        p.clock_started = true;
        p.epoch = epoch;
        p.psi_now = false;
    }
    if (s != PsiState::Psi || p.psi_now) return;
    p.psi_now = true;
    if (!p.psi_before) p.boost_until = p.epoch + config_.policy.boost_epochs;
}

KResult<PsiState> PsiEngine::observe(TaskId vcpu, const PsiSample& counters, PsiEpoch epoch) {
    Vcpu* v = find(vcpu);
    if (v == nullptr) return fail(RVM_E_BAD_HANDLE);
    if (epoch.length_ns == 0 || epoch.length_ns > kPsiMaxEpochNs) return fail(RVM_E_INVALID);
    if (v->observed && epoch.index <= v->last_epoch) return fail(RVM_E_INVALID);
    Partition& p = partitions_[v->partition];
    const PsiDeltas d = psi_deltas(v->prev, counters);
    const PsiState s = psi_classify(d, config_.thresholds);
    withdraw(*v, p);
    v->history.push(s, epoch.length_ns);
    v->state = s;
    v->prev = counters;
    v->last_deltas = d;
    v->last_epoch = epoch.index;
    v->observed = true;
    contribute(*v, p);
    tick(p, epoch.index, s);
    return s;
}

KResult<PsiVcpuView> PsiEngine::vcpu_view(TaskId vcpu) const {
    const Vcpu* v = find(vcpu);
    if (v == nullptr) return fail(RVM_E_BAD_HANDLE);
    PsiVcpuView view;
    view.partition = PartitionId{v->partition, partitions_[v->partition].generation};
    view.state = v->state;
    view.epochs = v->history.epochs();
    view.psi_epochs = v->history.psi_epochs();
    view.ratio_ppm = v->history.ratio_ppm();
    view.transition_rate_mhz = v->history.transition_rate_mhz();
    view.last_deltas = v->last_deltas;
    view.last_activity = psi_activity(v->last_deltas);
    return view;
}

KResult<PsiPartitionView> PsiEngine::partition_view(PartitionId pid) const {
    const Partition* p = find(pid);
    if (p == nullptr) return fail(RVM_E_BAD_HANDLE);
    PsiPartitionView view;
    view.state = highest(p->sums.in_state);
    view.vcpus = p->vcpus;
    fill(view, p->sums);
    view.guest_registered = p->registered;
    view.guest_reported = p->reported;
    view.guest = p->report;
    return view;
}

PsiHostView PsiEngine::host_view() const {
    PsiHostView view;
    view.partitions = totals_.partitions;
    view.vcpus = totals_.vcpus;
    fill(view, totals_.sums);
    // sum(w * ratio) <= 64 * 2^32 * 10^6 < 2^64.
    std::uint64_t weighted = 0, weights = 0, plain = 0;
    for (const Partition& p : partitions_) {
        if (p.generation == 0 || !p.registered) continue;
        ++view.guests_registered;
        if (!p.reported) continue;
        ++view.guests_reporting;
        const std::uint64_t w = guest_weight(p.report);
        weighted += w * p.report.ratio_ppm;
        weights += w;
        plain += p.report.ratio_ppm;
    }
    if (weights > 0) {
        view.guest_ratio_ppm = static_cast<std::uint32_t>(weighted / weights);
    } else if (view.guests_reporting > 0) {
        view.guest_ratio_ppm = static_cast<std::uint32_t>(plain / view.guests_reporting);
    }
    return view;
}

KResult<PsiDecision> PsiEngine::policy(PartitionId pid) const {
    const Partition* p = find(pid);
    if (p == nullptr) return fail(RVM_E_BAD_HANDLE);
    std::uint32_t ratio = pooled_ratio(p->sums.psi_epochs, p->sums.epochs);
    if (p->reported && p->report.ratio_ppm > ratio) ratio = p->report.ratio_ppm;
    const std::uint64_t left = p->clock_started && p->epoch < p->boost_until ? p->boost_until - p->epoch : 0;
    return psi_decide(ratio, static_cast<std::uint32_t>(left), config_.policy);
}

KResult<void> PsiEngine::guest_register(PartitionId pid) {
    Partition* p = find(pid);
    if (p == nullptr) return fail(RVM_E_BAD_HANDLE);
    p->registered = true;
    return {};
}

KResult<void> PsiEngine::guest_unregister(PartitionId pid) {
    Partition* p = find(pid);
    if (p == nullptr) return fail(RVM_E_BAD_HANDLE);
    if (!p->registered) return fail(RVM_E_STATE);
    p->registered = false;
    p->reported = false;
    p->report = PsiGuestReport{};
    return {};
}

KResult<void> PsiEngine::guest_update(PartitionId pid, const PsiGuestReport& report) {
    Partition* p = find(pid);
    if (p == nullptr) return fail(RVM_E_BAD_HANDLE);
    if (!p->registered) return fail(RVM_E_STATE);
    if (report.ratio_ppm > kPsiRatioOne) return fail(RVM_E_INVALID);
    p->report = report;
    p->reported = true;
    return {};
}

}  // namespace rvm
