#include "host/runtime/supervisor.hpp"

#include <chrono>
#include <thread>

namespace rvm::host {

namespace {
constexpr auto kPoll = std::chrono::milliseconds(2);
}  // namespace

void Supervisor::run(const std::function<void()>& tick) {
    for (;;) {
        const std::uint64_t now = clock_.now_ns();
        const bool running = check_partitions(now);
        const std::uint64_t epoch = psi_.monitor().sample(now);
        if (epoch != 0) {
            psi_.epoch(parts_, now, epoch);
            reshaper_.epoch(edges_.epoch_traffic());
        }
        if (tick) tick();
        if (!running) break;
        std::this_thread::sleep_for(kPoll);
    }
    join_tasks();
    sched_.finish();
}

bool Supervisor::check_partitions(std::uint64_t now) {
    bool running = false;
    for (auto& part : parts_) {
        AgentPartition& p = *part;
        bool live = false;
        {
            std::lock_guard<std::mutex> g(p.mu);
            live = p.outcome == Outcome::Running;
        }
        if (live && now - p.start_ns > p.spec.wall_time_ns) control_.stop(p);
        std::uint64_t wake = p.resume_at.load();
        if (wake != 0 && now >= wake && p.resume_at.compare_exchange_strong(wake, 0)) {
            (void)control_.resume(p);  // refused only if the partition ended meanwhile
        }
        running = running || live;
    }
    return running;
}

// A task may still spawn another while its partition ends: collect the
// threads under the partition's lock, join them outside it, until none is left.
void Supervisor::join_tasks() {
    for (auto& p : parts_) {
        for (;;) {
            std::vector<std::thread*> joinable;
            {
                std::lock_guard<std::mutex> g(p->mu);
                for (auto& t : p->tasks) {
                    if (t->thread.joinable()) joinable.push_back(&t->thread);
                }
            }
            if (joinable.empty()) break;
            for (std::thread* th : joinable) th->join();
        }
    }
}

}  // namespace rvm::host
