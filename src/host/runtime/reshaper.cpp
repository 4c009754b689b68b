#include "host/runtime/reshaper.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <set>
#include <variant>

namespace rvm::host {

namespace {
constexpr std::uint64_t kHoldTimeoutNs = 1'000'000'000;

PartitionState during(ReshapeKind k) {
    return k == ReshapeKind::Split   ? PartitionState::Splitting
           : k == ReshapeKind::Merge ? PartitionState::Merging
                                     : PartitionState::Migrating;
}
}  // namespace

Result<ReshapeResult, std::string> Reshaper::migrate(std::size_t i, std::size_t to) {
    if (i >= parts_.size() || to >= parts_.size()) return err(std::string("no such partition"));
    std::lock_guard<std::mutex> reshaping(mu_);
    return move_cells(Move{{parts_[i].get()}, parts_[to]->cell, ReshapeKind::Migrate, {}, {}, {}});
}

Result<ReshapeResult, std::string> Reshaper::merge(std::size_t a, std::size_t b) {
    if (a >= parts_.size() || b >= parts_.size()) return err(std::string("no such partition"));
    std::lock_guard<std::mutex> reshaping(mu_);
    std::vector<AgentPartition*> movers;
    for (auto& p : parts_) {
        if (p->cell == parts_[b]->cell) movers.push_back(p.get());
    }
    return move_cells(Move{std::move(movers), parts_[a]->cell, ReshapeKind::Merge, {}, {}, {}});
}

Result<ReshapeResult, std::string> Reshaper::split(const std::vector<std::size_t>& leave) {
    std::lock_guard<std::mutex> reshaping(mu_);
    std::vector<AgentPartition*> movers;
    for (const std::size_t i : leave) {
        if (i >= parts_.size()) return err(std::string("no such partition"));
        movers.push_back(parts_[i].get());
    }
    if (movers.empty()) return err(std::string("a split needs partitions that leave"));
    std::size_t stay = 0;
    for (auto& p : parts_) {
        if (p->cell != movers[0]->cell) continue;
        if (std::find(movers.begin(), movers.end(), p.get()) == movers.end()) ++stay;
    }
    for (AgentPartition* m : movers) {
        if (m->cell != movers[0]->cell) return err(std::string("a split takes partitions of one cell"));
    }
    if (stay == 0) return err(std::string("a split must leave a partition behind"));
    return move_cells(Move{std::move(movers), nullptr, ReshapeKind::Split, {}, {}, {}});
}

std::uint8_t Reshaper::cell_of(std::size_t i) {
    return nucleus_.with([&](Kernel& k) {
        const Partition* p = k.partition(parts_[i]->id);
        return p != nullptr ? p->cell : std::uint8_t{0};
    });
}

std::vector<ReshapeResult> Reshaper::reshapes() const {
    std::lock_guard<std::mutex> g(done_mu_);
    return done_;
}

Result<ReshapeResult, std::string> Reshaper::move_cells(Move m) {
    const std::uint64_t t0 = clock_.now_ns();
    if (const auto c = check_movers(m); !c) return err(c.error());
    if (const auto a = authorize(m); !a) return err(a.error());
    const bool fresh = !m.target;
    const std::uint64_t h0 = clock_.now_ns();
    std::string why = hold(m) ? "" : "the vCPUs did not leave the guest in time";
    if (why.empty() && fresh) {
        auto c = Cell::create(sys_);
        if (c) {
            m.target = std::move(c.value());
        } else {
            why = c.error();
        }
    }
    if (why.empty()) {
        if (const auto v = move_vcpus(m); !v) why = v.error();
    }
    if (!why.empty()) return err(roll_back(m, why));
    ReshapeResult out = commit(m, fresh, h0);
    out.ns = clock_.now_ns() - t0;
    {
        std::lock_guard<std::mutex> g(done_mu_);
        done_.push_back(out);
    }
    return out;
}

Result<void, std::string> Reshaper::check_movers(const Move& m) const {
    if (m.movers.empty()) return err(std::string("no partition to move"));
    for (AgentPartition* p : m.movers) {
        if (p->spec.profile == Profile::Kernel) {
            return err(fmt::format(
                "{}: not supported: reshaping a kernel-profile partition (its MSR routing belongs to its VM)",
                p->spec.name));
        }
        if (m.target && p->cell == m.target) return err(fmt::format("{} is already in that cell", p->spec.name));
        std::lock_guard<std::mutex> g(p->mu);
        if (p->outcome != Outcome::Running || p->stop) return err(fmt::format("{} is not running", p->spec.name));
    }
    return {};
}

// The nucleus decides (Kernel::authorize_reshape), then witnesses the start.
Result<void, std::string> Reshaper::authorize(const Move& m) {
    return nucleus_.with([&](Kernel& k) -> Result<void, std::string> {
        for (AgentPartition* p : m.movers) {
            const auto a = k.authorize_reshape(p->id, CapHandle::from_raw(p->info.self_cap), m.kind);
            if (a) continue;
            const Status s = a.error();
            switch (s.arg) {
                case 1: return err(fmt::format("{} is not active", p->spec.name));
                case 2: return err(fmt::format("{}: its capability lacks the right to be reshaped", p->spec.name));
                case 3: return err(fmt::format("{}: no proof: {}", p->spec.name, status_name(s.code)));
                default: return err(fmt::format("{}: proof refused: {}", p->spec.name, status_name(s.code)));
            }
        }
        for (AgentPartition* p : m.movers) (void)k.set_partition_state(p->id, during(m.kind));
        return {};
    });
}

// Every partition of every cell involved leaves its vCPUs.
bool Reshaper::hold(Move& m) {
    std::set<Cell*> cells;
    for (AgentPartition* p : m.movers) cells.insert(p->cell.get());
    if (m.target) cells.insert(m.target.get());
    for (auto& q : parts_) {
        if (cells.contains(q->cell.get())) m.held.push_back(q.get());
    }
    for (AgentPartition* p : m.movers) {
        std::lock_guard<std::mutex> g(p->mu);
        p->reshaping = true;
    }
    bool all_out = true;
    for (AgentPartition* q : m.held) all_out = q->hold(kHoldTimeoutNs) && all_out;
    return all_out;
}

void Reshaper::release(const Move& m) {
    for (AgentPartition* p : m.movers) {
        std::lock_guard<std::mutex> g(p->mu);
        p->reshaping = false;
    }
    for (AgentPartition* q : m.held) q->release();
}

// The movers' memory into the target VM, then each live vCPU recreated there.
Result<void, std::string> Reshaper::move_vcpus(Move& m) {
    for (AgentPartition* p : m.movers) {
        std::vector<AgentTask*> tasks;
        std::vector<MemMap> maps = p->cell->maps_of(p->id.raw());
        {
            std::lock_guard<std::mutex> g(p->mu);
            for (auto& t : p->tasks) {
                if (!t->done) tasks.push_back(t.get());
            }
        }
        const auto mapped = m.target->set_maps(p->id.raw(), std::move(maps));
        if (!mapped) return err(fmt::format("{}: {}", p->spec.name, mapped.error()));
        m.mapped.push_back(p);
        for (AgentTask* t : tasks) {
            if (m.moved.size() >= fail_after_.load()) return err(std::string("injected failure (test)"));
            const auto r = t->vcpu->rehome(m.target->vm(), m.target->next_vcpu_id());
            if (!r) return err(fmt::format("{}: vCPU: {}", p->spec.name, kvm::describe(r.error())));
            m.moved.push_back(Moved{p, t});
        }
    }
    return {};
}

// Every moved vCPU home again, the target's maps gone; returns `why`.
std::string Reshaper::roll_back(Move& m, const std::string& why) {
    fail_after_ = ~0u;
    for (auto it = m.moved.rbegin(); it != m.moved.rend(); ++it) {
        const auto r = it->t->vcpu->rehome(it->p->cell->vm(), it->p->cell->next_vcpu_id());
        if (!r) {
            release(m);
            control_.fail(*it->p, FailReason::Other, 0,
                          fmt::format("reshape rollback could not bring a vCPU back: {}", kvm::describe(r.error())));
            back_to_active(m, 1);
            return why;
        }
    }
    for (AgentPartition* p : m.mapped) (void)m.target->drop(p->id.raw());
    release(m);
    back_to_active(m, 1);
    return why;
}

void Reshaper::back_to_active(const Move& m, std::uint64_t detail) {
    nucleus_.with([&](Kernel& k) {
        for (AgentPartition* p : m.movers) {
            (void)k.set_partition_state(p->id, PartitionState::Active, FailReason::None, detail);
        }
    });
}

// The movers leave their old cells; the nucleus records where they are now.
// `held_at`: when the vCPUs were held.
ReshapeResult Reshaper::commit(const Move& m, bool fresh, std::uint64_t held_at) {
    for (AgentPartition* p : m.movers) {
        std::shared_ptr<Cell> old;
        {
            std::lock_guard<std::mutex> g(p->mu);
            old = std::exchange(p->cell, m.target);
        }
        const auto d = old->drop(p->id.raw());
        if (!d && log_) log_(p->spec.name, fmt::format("reshape: the old cell kept a mapping: {}", d.error()));
    }
    for (const Moved& mv : m.moved) psi_.monitor().rebind_task(mv.t->id, mv.t->vcpu->fd());
    ReshapeResult out;
    out.held_ns = clock_.now_ns() - held_at;
    release(m);
    out.cell = nucleus_.with([&](Kernel& k) {
        std::uint8_t cell = kNewCell;
        if (!fresh) {
            for (auto& q : parts_) {
                if (q->cell == m.target && std::find(m.movers.begin(), m.movers.end(), q.get()) == m.movers.end()) {
                    cell = k.partition(q->id)->cell;
                    break;
                }
            }
        }
        for (AgentPartition* p : m.movers) {
            const auto c = k.set_cell(p->id, cell);
            if (c) cell = c.value();
            (void)k.set_partition_state(p->id, PartitionState::Active);
        }
        return cell;
    });
    out.partitions = static_cast<std::uint32_t>(m.movers.size());
    out.vcpus = static_cast<std::uint32_t>(m.moved.size());
    return out;
}

void Reshaper::enable_coherence(bool reshape) {
    reshape_on_ = reshape;
    if (coherence_) return;
    coherence_ = std::make_unique<CoherenceObserver>();
    for (std::size_t i = 0; i < parts_.size(); ++i)
        coherence_->add_partition(parts_[i]->id, parts_[i]->spec.name, cell_of(i));
}

void Reshaper::partition_added(std::size_t i) {
    if (coherence_) coherence_->add_partition(parts_[i]->id, parts_[i]->spec.name, cell_of(i));
}

std::vector<std::string> Reshaper::coherence_proposals() const {
    return coherence_ ? coherence_->proposals() : std::vector<std::string>{};
}

void Reshaper::epoch(const std::vector<EdgeTraffic>& traffic) {
    if (!coherence_) return;
    for (const auto& o : coherence_->epoch(traffic)) {
        if (reshape_on_) {
            apply(o);
        } else if (coherence_->record(o.text) && log_) {
            log_("coherence", fmt::format("epoch {}: {} -- proposed (reshaping is off)", coherence_->epochs(), o.text));
        }
    }
}

AgentPartition* Reshaper::by_raw(std::uint64_t raw) {
    for (auto& p : parts_) {
        if (p->id.raw() == raw) return p.get();
    }
    return nullptr;
}

std::vector<AgentPartition*> Reshaper::members(std::uint64_t cell, const std::vector<std::uint64_t>* only) {
    std::vector<AgentPartition*> out;
    for (std::size_t i = 0; i < parts_.size(); ++i) {
        if (cell_of(i) != cell) continue;
        if (only != nullptr && std::find(only->begin(), only->end(), parts_[i]->id.raw()) == only->end()) continue;
        out.push_back(parts_[i].get());
    }
    return out;
}

// One of the engine's proposals: groups are nucleus cells, vertices
// partitions. A split keeps its first part where it is and sends every other
// part to a new cell of its own.
void Reshaper::apply(const CoherenceObserver::Observed& o) {
    std::lock_guard<std::mutex> reshaping(mu_);
    std::vector<Result<ReshapeResult, std::string>> done;
    if (const auto* mg = std::get_if<coherence::MigrateProposal>(&o.proposal)) {
        AgentPartition* p = by_raw(mg->vertex);
        const auto to = members(mg->to, nullptr);
        if (p == nullptr || to.empty()) return;
        done.push_back(move_cells(Move{{p}, to[0]->cell, ReshapeKind::Migrate, {}, {}, {}}));
    } else if (const auto* g = std::get_if<coherence::MergeProposal>(&o.proposal)) {
        const auto into = members(g->a, nullptr);
        if (into.empty()) return;
        done.push_back(move_cells(Move{members(g->b, nullptr), into[0]->cell, ReshapeKind::Merge, {}, {}, {}}));
    } else if (const auto* sp = std::get_if<coherence::SplitProposal>(&o.proposal)) {
        for (std::size_t k = 1; k < sp->parts.size(); ++k) {
            done.push_back(
                move_cells(Move{members(sp->partition, &sp->parts[k]), nullptr, ReshapeKind::Split, {}, {}, {}}));
        }
    }
    for (const auto& r : done) {
        const std::string line =
            r ? fmt::format("{} -- applied in {:.2f} ms ({} vCPUs moved), now cell {}", o.text,
                            static_cast<double>(r.value().ns) / 1e6, r.value().vcpus, r.value().cell)
              : fmt::format("{} -- not applied: {}", o.text, r.error());
        (void)coherence_->record(line);
        if (log_) log_("coherence", fmt::format("epoch {}: {}", coherence_->epochs(), line));
    }
    // Whatever happened, the engine learns where every partition is.
    for (std::size_t i = 0; i < parts_.size(); ++i) coherence_->set_cell(parts_[i]->id, cell_of(i));
}

}  // namespace rvm::host
