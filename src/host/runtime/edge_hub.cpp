#include "host/runtime/edge_hub.hpp"

#include <fmt/format.h>

#include "abi/agent.h"
#include "abi/edge.h"

namespace rvm::host {

Result<EdgeId, std::string> EdgeHub::connect(AgentPartition& a, AgentPartition& b, std::uint64_t capacity,
                                             std::uint64_t share) {
    if (capacity < kEdgeMinCapacity || capacity > kEdgeMaxCapacity || (capacity & (capacity - 1)) != 0) {
        return err(fmt::format("edge capacity {} is not a power of two in 4 KiB .. 1 MiB", capacity));
    }
    if (share % 4096 != 0 || share > RVM_EDGE_SHARE_MAX) {
        return err(fmt::format("zero-copy region of {} bytes is not a multiple of 4 KiB up to 2 MiB", share));
    }
    if (a.edge_count >= RVM_EDGE_MAX || b.edge_count >= RVM_EDGE_MAX) {
        return err(fmt::format("edge: a partition has {} edges already", RVM_EDGE_MAX));
    }
    auto window = kvm::GuestRam::create(RVM_EDGE_WINDOW_SIZE(capacity), "rvm-edge");
    if (!window) return err(fmt::format("edge memory: {}", kvm::describe(window.error())));
    struct Made {
        EdgeId id;
        CapHandle send, recv;
    };
    const auto made = nucleus_.with([&](Kernel& k) -> Result<Made, std::string> {
        const auto e = k.create_edge(a.id, b.id);
        if (!e) return err(fmt::format("nucleus refused the edge: {}", status_name(e.error().code)));
        const ObjectRef edge{RVM_OBJ_COMMEDGE, e.value().raw()};
        return Made{e.value(), k.state().caps.handle_of(a.id.index, edge), k.state().caps.handle_of(b.id.index, edge)};
    });
    if (!made) return err(made.error());
    const EdgeId id = made.value().id;
    auto link = std::make_unique<EdgeLink>(id, a.id, b.id, capacity, std::move(window.value()));
    EdgeLink& l = *link;
    std::uint64_t gpa_a = 0, gpa_b = 0;
    if (share != 0) {
        const auto s = add_share(l, a, b, share, gpa_a, gpa_b);
        if (!s) {
            nucleus_.with([&](Kernel& k) { (void)k.destroy_edge(id); });
            return err(s.error());
        }
    }
    {
        // Kept even if mapping fails below: a VM may already map it.
        std::lock_guard<std::mutex> g(mu_);
        links_.push_back(std::move(link));
    }
    auto mapped = a.attach_edge(l, true, made.value().send, b.id.index, gpa_a);
    if (mapped) mapped = b.attach_edge(l, false, made.value().recv, a.id.index, gpa_b);
    if (!mapped) {
        l.close();
        nucleus_.with([&](Kernel& k) { (void)k.destroy_edge(id); });
        return err(mapped.error());
    }
    return id;
}

Result<void, std::string> EdgeHub::add_share(EdgeLink& l, AgentPartition& a, AgentPartition& b, std::uint64_t share,
                                             std::uint64_t& gpa_a, std::uint64_t& gpa_b) {
    auto mem = kvm::GuestRam::create(share, "rvm-edge-share");
    return nucleus_.with([&](Kernel& k) -> Result<void, std::string> {
        const auto r = k.create_region(a.id, share / 4096, RVM_REGION_APPEND_ONLY, RVM_TIER_HOT);
        const auto s = r ? k.share_region(r.value(), b.id) : KResult<std::uint64_t>(err(r.error()));
        if (!mem || !s) {
            if (r) (void)k.destroy_region(r.value());
            return err(!mem ? fmt::format("zero-copy memory: {}", kvm::describe(mem.error()))
                            : fmt::format("nucleus refused the zero-copy region: {}", status_name(s.error().code)));
        }
        l.share.emplace(std::move(mem.value()));
        l.share_region = r.value();
        gpa_a = k.state().regions.get(r.value())->gpa;
        gpa_b = s.value();
        return {};
    });
}

EdgeLink* EdgeHub::find(EdgeId e) {
    std::lock_guard<std::mutex> g(mu_);
    for (auto& l : links_) {
        if (l->id == e) return l.get();
    }
    return nullptr;
}

KResult<void> EdgeHub::destroy(EdgeId e) {
    const auto r = nucleus_.with([&](Kernel& k) { return k.destroy_edge(e); });
    if (!r) return r;
    if (EdgeLink* l = find(e)) l->close();
    return {};
}

void EdgeHub::wake_all() {
    std::lock_guard<std::mutex> g(mu_);
    for (auto& l : links_) l->wake();
}

std::vector<EdgeTraffic> EdgeHub::epoch_traffic() {
    std::vector<EdgeTraffic> traffic;
    std::lock_guard<std::mutex> g(mu_);
    for (auto& l : links_) {
        l->update_weight();
        traffic.push_back(EdgeTraffic{l->source, l->dest, l->last_moved()});
    }
    return traffic;
}

std::vector<EdgeReport> EdgeHub::reports(const PartitionList& parts) const {
    std::vector<EdgeReport> out;
    std::lock_guard<std::mutex> g(mu_);
    for (const auto& l : links_) {
        EdgeReport r;
        for (const auto& p : parts) {
            if (p->id == l->source) r.from = p->spec.name;
            if (p->id == l->dest) r.to = p->spec.name;
        }
        r.capacity = l->capacity;
        r.share = l->share ? l->share->size() : 0;
        r.bytes = l->bytes();
        r.messages = l->messages();
        r.weight = l->weight();
        out.push_back(std::move(r));
    }
    return out;
}

}  // namespace rvm::host
