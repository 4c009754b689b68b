#include "host/runtime/agent_partition.hpp"

#include <fmt/format.h>

#include <chrono>
#include <cstddef>
#include <cstring>

#include "abi/edge.h"
#include "abi/psi.h"
#include "abi/version.h"
#include "backend/kvm/elf_image.hpp"
#include "backend/kvm/page_tables.hpp"
#include "host/runtime/edge_link.hpp"

namespace rvm::host {

namespace {

constexpr std::uint64_t kPage = 4096;

// The smallest guest-physical space (a power of two, at least 2 MiB) that
// holds `bytes` as one buddy block.
std::uint8_t shift_for(std::uint64_t bytes) {
    std::uint8_t s = 21;
    while ((std::uint64_t{1} << s) < bytes) ++s;
    return s;
}

// Maps the agent's address space (abi/agent.h) -- virtual addresses as the
// ABI says, guest-physical at `base` + the same offset -- and records which
// ranges a hypercall may read or write.
// `user`: the agent profile's U bit (the kernel profile maps supervisor-only).
bool map_agent(kvm::PageTableBuilder& pt, const AgentLayout& l, const kvm::ElfImage& img, bool user, std::uint64_t base,
               std::uint64_t& cr3, std::vector<GuestRange>& ranges) {
    bool ok = pt.map(RVM_INFO_VA, base + RVM_INFO_VA, kPage, {false, false, user});
    ok = ok && pt.map(RVM_TSS_VA, base + l.tss_gpa, kPage, {false, false, false});  // supervisor-only
    ranges.push_back({RVM_INFO_VA, RVM_INFO_VA + kPage, false, false});
    for (std::size_t i = 0; i < img.count; ++i) {
        const kvm::ElfSegment& s = img.segments[i];
        const std::uint64_t start = s.vaddr & ~(kPage - 1);
        const std::uint64_t end = (s.vaddr + s.memsz + kPage - 1) & ~(kPage - 1);
        ok = ok && pt.map(start, base + start, end - start, {s.write, s.exec, user});
        ranges.push_back({start, end, s.write, s.exec});
    }
    if (l.heap_end() > l.heap_start()) {
        ok = ok && pt.map(l.heap_start(), base + l.heap_start(), l.heap_end() - l.heap_start(), {true, false, user});
        ranges.push_back({l.heap_start(), l.heap_end(), true, false});
    }
    ok = ok && pt.map(l.stack_region(), base + l.stack_region(), l.memory - l.stack_region(), {true, false, user});
    ranges.push_back({l.stack_region(), l.memory, true, false});
    cr3 = pt.root();
    return ok;
}

}  // namespace

const char* outcome_name(Outcome o) {
    switch (o) {
        case Outcome::Running: return "running";
        case Outcome::Exited: return "exited";
        case Outcome::Failed: return "failed";
        case Outcome::TimedOut: return "timed out";
    }
    return "?";
}

AgentPartition::AgentPartition(PartitionSpec s, PartitionId p, AgentLayout l, kvm::GuestRam r, std::shared_ptr<Cell> c)
    : spec(std::move(s)),
      id(p),
      layout(l),
      ram(std::move(r)),
      gpa_base(partition_gpa_base(p)),
      cell(std::move(c)),
      limiter(spec.log_rate) {
    slot_used.assign(spec.max_tasks, false);
}

AgentPartition::~AgentPartition() {
    stop = true;
    kick_all();
    for (auto& t : tasks) {
        if (t->thread.joinable()) t->thread.join();
    }
    tasks.clear();  // vCPUs before the cell, the cell's memslots before the memory
    if (cell) (void)cell->drop(id.raw());
    cell.reset();
}

void AgentPartition::kick_all() {
    std::lock_guard<std::mutex> g(mu);
    for (auto& t : tasks) t->vcpu->kick();
    cv.notify_all();
}

void AgentPartition::enter_vcpu() {
    std::unique_lock<std::mutex> g(gate_mu_);
    gate_cv_.wait(g, [&] { return !held_; });
    ++inside_;
}

void AgentPartition::leave_vcpu() {
    {
        std::lock_guard<std::mutex> g(gate_mu_);
        --inside_;
    }
    gate_cv_.notify_all();
}

bool AgentPartition::hold(std::uint64_t timeout_ns) {
    {
        std::lock_guard<std::mutex> g(gate_mu_);
        held_ = true;
    }
    kick_all();
    std::unique_lock<std::mutex> g(gate_mu_);
    return gate_cv_.wait_for(g, std::chrono::nanoseconds(timeout_ns), [&] { return inside_ == 0; });
}

void AgentPartition::release() {
    {
        std::lock_guard<std::mutex> g(gate_mu_);
        held_ = false;
    }
    gate_cv_.notify_all();
}

Result<std::unique_ptr<AgentPartition>, std::string> AgentPartition::create(NucleusGate& nucleus,
                                                                            const kvm::KvmSystem& sys,
                                                                            const PartitionSpec& spec,
                                                                            std::uint64_t now_ns) {
    const auto ok = validate(spec);
    if (!ok) return err(describe(ok.error(), spec));
    const std::uint64_t stacks = spec.stack_size * spec.max_tasks;
    const auto img = kvm::parse_elf(spec.elf, kvm::ElfLimits{RVM_IMAGE_MIN_VA, spec.memory - stacks});
    if (!img) {
        const auto f = img.error();
        return err(f.segment == kvm::kElfNoSegment
                       ? fmt::format("agent image refused: {}", kvm::describe(f.error))
                       : fmt::format("agent image refused: {} (program header {})", kvm::describe(f.error), f.segment));
    }
    AgentLayout l;
    l.memory = spec.memory;
    l.stack_size = spec.stack_size;
    l.max_tasks = spec.max_tasks;
    l.image_start = img.value().segments[0].vaddr & ~(kPage - 1);
    l.image_end = img.value().image_end;
    l.table_base = spec.memory;
    // Room for the edge area's tables too: one page directory and one page
    // table per 2 MiB edge slot (abi/agent.h), plus up to three table pages
    // per edge for a zero-copy region (at most 2 MiB, anywhere the nucleus
    // places it).
    l.table_end = spec.memory +
                  (kvm::PageTableBuilder::table_pages_for(spec.memory) + 1 + std::uint64_t{4} * RVM_EDGE_MAX) * kPage;
    l.tss_gpa = l.table_end;

    const bool kernel_profile = spec.profile == Profile::Kernel;
    if (kernel_profile && !sys.msr_exits()) {
        return err(std::string("the kernel profile is not supported on this host: KVM lacks user-space MSR exits"));
    }
    auto ram = kvm::GuestRam::create(l.ram_size(), spec.name.c_str());
    if (!ram) return err(fmt::format("guest memory: {}", kvm::describe(ram.error())));
    if (!kvm::load_elf(img.value(), spec.elf, ram.value().bytes())) return err(std::string("agent image does not fit"));
    auto cell = Cell::create(sys);
    if (!cell) return err(cell.error());
    if (kernel_profile) {
        const auto m = cell.value()->vm().route_msrs(RVM_PSI_STATE_MSR, RVM_PSI_CTRL_MSR - RVM_PSI_STATE_MSR + 1);
        if (!m) return err(fmt::format("Ψ MSRs: {}", kvm::describe(m.error())));
    }

    // The nucleus owns the guest-physical layout: the partition's RAM is a
    // region its buddy allocator places (the first region of an empty space
    // lands at 0, which the agent layout relies on); the host places the
    // whole space at partition_gpa_base (cell.hpp).
    const auto placed = nucleus.with([&](Kernel& kernel) -> Result<PartitionId, std::string> {
        // Twice the RAM: the upper half is where the nucleus places regions
        // (edge zero-copy regions, shares from other partitions).
        const auto p = kernel.create_partition(PartitionId{},
                                               PartitionConfig{static_cast<std::uint8_t>(shift_for(l.ram_size()) + 1),
                                                               static_cast<std::uint8_t>(spec.max_tasks), 32, 0});
        if (!p) return err(fmt::format("nucleus refused the partition: {}", status_name(p.error().code)));
        const auto r = kernel.create_region(p.value(), l.ram_size() / kPage, RVM_REGION_SLAB, RVM_TIER_HOT);
        const Region* region = r ? kernel.state().regions.get(r.value()) : nullptr;
        if (region == nullptr || region->gpa != 0) {
            (void)kernel.destroy_partition(p.value());
            return err(std::string("nucleus could not place the partition's memory at the start of its space"));
        }
        return p.value();
    });
    if (!placed) return err(placed.error());
    const PartitionId pid = placed.value();
    std::unique_ptr<AgentPartition> part(
        new AgentPartition(spec, pid, l, std::move(ram.value()), std::move(cell.value())));
    // From here on, a failure destroys the nucleus partition again.
    const auto fail_with = [&](std::string why) -> Result<std::unique_ptr<AgentPartition>, std::string> {
        part.reset();
        nucleus.with([&](Kernel& kernel) { (void)kernel.destroy_partition(pid); });
        return err(std::move(why));
    };
    std::uint64_t cr3 = 0;
    std::vector<GuestRange> ranges;
    auto pt = std::make_unique<kvm::PageTableBuilder>(part->ram.bytes(), l.table_base, l.table_end, part->gpa_base);
    // Later mappings reach outside RAM: zero-copy regions in the upper half
    // of the partition's space, edge windows in the host-wide edge area.
    pt->set_gpa_limit(kGpaTop);
    if (!map_agent(*pt, l, img.value(), !kernel_profile, part->gpa_base, cr3, ranges)) {
        return fail_with(std::string("page tables do not fit"));
    }
    part->memory = std::make_unique<AgentMemory>(part->ram.bytes().first(l.memory), std::move(ranges));
    part->entry = img.value().entry;
    part->start_ns = now_ns;
    part->cr3_ = cr3;
    part->pt_ = std::move(pt);

    rvm_info& info = part->info;
    info.magic = RVM_INFO_MAGIC;
    info.abi_version = RVM_ABI_VERSION;
    info.partition = pid.raw();
    info.memory_size = l.memory;
    info.heap_start = l.heap_start();
    info.heap_end = l.heap_end();
    info.stack_region = l.stack_region();
    info.stack_size = l.stack_size;
    info.max_tasks = l.max_tasks;
    info.self_cap = nucleus.with([&](Kernel& kernel) {
        return kernel.state().caps.handle_of(pid.index, ObjectRef{RVM_OBJ_PARTITION, pid.raw()}).raw();
    });
    std::memcpy(part->ram.bytes().data() + RVM_INFO_VA, &info, sizeof info);
    part->tss_limit_ = kvm::write_agent_tss(part->ram.bytes().subspan(l.tss_gpa).first<4096>(), RVM_HC_PORT);

    const auto slots = part->cell->set_maps(pid.raw(), {MemMap{part->gpa_base, &part->ram, 0, part->ram.size(), true}});
    if (!slots) return fail_with(slots.error());

    for (std::uint32_t i = 0; i < spec.tasks; ++i) {
        // The error path takes the gate again itself: never inside `with`.
        const auto t = nucleus.with([&](Kernel& kernel) { return kernel.spawn_task(pid); });
        if (!t) return fail_with(fmt::format("nucleus refused task {}: {}", i, status_name(t.error().code)));
        const auto added = part->add_task(t.value(), part->entry, spec.arg);
        if (!added) return fail_with(added.error());
    }
    return part;
}

Result<void, std::string> AgentPartition::attach_edge(const EdgeLink& link, bool sender, CapHandle cap,
                                                      std::uint32_t peer, std::uint64_t share_gpa) {
    if (edge_count >= RVM_EDGE_MAX) return err(fmt::format("more than {} edges", RVM_EDGE_MAX));
    const std::uint32_t k = edge_count;
    const std::uint64_t w = RVM_EDGE_AREA_VA + std::uint64_t{k} * RVM_EDGE_SLOT_SIZE;
    const std::uint64_t owned = RVM_EDGE_SENDER_SIZE(link.capacity);
    const bool user = spec.profile == Profile::Agent;
    // Each side writes only what it owns: the sender its tx page and data,
    // the receiver its rx page. The page tables say so, and so do the
    // memslots (read-only where the side does not own the memory).
    const std::uint64_t rx = RVM_EDGE_RX_OFFSET(link.capacity);
    if (!pt_->map(w, edge_gpa(link.id), owned, {sender, false, user}) ||
        !pt_->map(w + rx, edge_gpa(link.id) + rx, kPage, {!sender, false, user})) {
        return err(std::string("edge window: page tables full"));
    }
    const std::uint64_t eg = edge_gpa(link.id);
    std::vector<MemMap> add{MemMap{eg, &link.window, 0, owned, sender},
                            MemMap{eg + RVM_EDGE_RX_OFFSET(link.capacity), &link.window,
                                   RVM_EDGE_RX_OFFSET(link.capacity), kPage, !sender}};
    if (link.share) {
        const std::uint64_t bytes = link.share->size();
        if (share_gpa < ram.size() || share_gpa + bytes > RVM_EDGE_AREA_VA ||
            !pt_->map(share_gpa, gpa_base + share_gpa, bytes, {sender, false, user})) {
            return err(std::string("zero-copy region: page tables full or placed over RAM"));
        }
        add.push_back(MemMap{gpa_base + share_gpa, &*link.share, 0, bytes, sender});
    }
    {
        std::lock_guard<std::mutex> g(mu);  // `cell` changes under it
        std::vector<MemMap> next = cell->maps_of(id.raw());
        next.insert(next.end(), add.begin(), add.end());
        const auto r = cell->set_maps(id.raw(), std::move(next));
        if (!r) return err(fmt::format("edge memslots: {}", r.error()));
    }
    rvm_edge_entry e{};
    e.cap = cap.raw();
    e.window = w;
    e.capacity = link.capacity;
    e.role = sender ? RVM_EDGE_ROLE_SENDER : RVM_EDGE_ROLE_RECEIVER;
    e.peer = peer;
    if (link.share) {
        e.share = share_gpa;
        e.share_size = link.share->size();
        e.share_region = link.share_region.raw();
    }
    std::memcpy(ram.bytes().data() + RVM_INFO_VA + RVM_INFO_EDGE_TABLE + k * sizeof e, &e, sizeof e);
    edge_count = k + 1;
    info.edge_count = edge_count;
    std::memcpy(ram.bytes().data() + RVM_INFO_VA + offsetof(rvm_info, edge_count), &info.edge_count,
                sizeof info.edge_count);
    return {};
}

Result<AgentTask*, std::string> AgentPartition::add_task(TaskId tid, std::uint64_t rip, std::uint64_t arg) {
    std::lock_guard<std::mutex> g(mu);
    if (reshaping) return err(std::string("the partition is moving to another cell"));
    std::uint32_t s = 0;
    while (s < slot_used.size() && slot_used[s]) ++s;
    if (s == slot_used.size()) return err(std::string("no free task stack"));
    auto vcpu = kvm::KvmVcpu::create(cell->vm(), cell->next_vcpu_id());
    if (!vcpu) return err(fmt::format("vCPU: {}", kvm::describe(vcpu.error())));
    kvm::AgentStart start;
    start.supervisor = spec.profile == Profile::Kernel;
    start.cr3 = cr3_;
    start.tss_base = RVM_TSS_VA;
    start.tss_limit = tss_limit_;
    start.regs.rip = rip;
    start.regs.rsp = layout.stack_top(s);
    start.regs.rdi = RVM_INFO_VA;
    start.regs.rsi = s;
    start.regs.rdx = arg;
    const auto st = vcpu.value().set_agent_state(start);
    if (!st) return err(fmt::format("vCPU state: {}", kvm::describe(st.error())));
    auto task = std::make_unique<AgentTask>();
    task->id = tid;
    task->slot = s;
    task->vcpu = std::make_unique<kvm::KvmVcpu>(std::move(vcpu.value()));
    slot_used[s] = true;
    tasks.push_back(std::move(task));
    return tasks.back().get();
}

}  // namespace rvm::host
