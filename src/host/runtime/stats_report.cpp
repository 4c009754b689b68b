#include "host/runtime/stats_report.hpp"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

namespace rvm::host {

namespace {

using nlohmann::json;

json counters_json(const PsiSample& c) {
    return json{{"exits", c.exits},           {"io_exits", c.io_exits},
                {"mmio_exits", c.mmio_exits}, {"irq_injections", c.irq_injections},
                {"halt_exits", c.halt_exits}, {"insn_emulation", c.insn_emulation},
                {"hypercalls", c.hypercalls}};
}

double percent(std::uint32_t ppm) { return static_cast<double>(ppm) / 1e4; }
double per_second(std::uint64_t mhz) { return static_cast<double>(mhz) / 1e3; }

// Reads a number at `key` of `o`, or `fallback` when absent or not a number.
template <typename T>
T num(const json& o, const char* key, T fallback = T{}) {
    const auto it = o.find(key);
    return (it != o.end() && it->is_number()) ? it->get<T>() : fallback;
}
std::string str(const json& o, const char* key) {
    const auto it = o.find(key);
    return (it != o.end() && it->is_string()) ? it->get<std::string>() : std::string("?");
}

}  // namespace

std::string stats_json(const std::vector<PartitionReport>& reports, const PsiHostView& host) {
    json parts = json::array();
    for (const auto& r : reports) {
        json vcpus = json::array();
        for (const auto& v : r.vcpus) {
            vcpus.push_back(json{{"task", v.task.raw()},
                                 {"running", v.running},
                                 {"psi_state", psi_state_name(v.view.state)},
                                 {"psi_ratio_percent", percent(v.view.ratio_ppm)},
                                 {"transitions_per_s", per_second(v.view.transition_rate_mhz)},
                                 {"epochs", v.view.epochs},
                                 {"counters", counters_json(v.counters)}});
        }
        parts.push_back(json{{"name", r.name},
                             {"state", outcome_name(r.outcome)},
                             {"exit_code", r.exit_code},
                             {"run_ms", static_cast<double>(r.run_ns) / 1e6},
                             {"psi_state", psi_state_name(r.psi.state)},
                             {"psi_ratio_percent", r.psi.ratio_percent},
                             {"transitions_per_s", r.psi.transitions_per_s},
                             {"cpu_permille", r.psi.cpu_permille},
                             {"mem_permille", r.psi.mem_permille},
                             {"throttled_ms", static_cast<double>(r.throttled_ns) / 1e6},
                             {"vcpus", vcpus}});
    }
    const json doc{{"format", "rvm-stats-v1"},
                   {"host", json{{"partitions", host.partitions},
                                 {"vcpus", host.vcpus},
                                 {"psi_ratio_percent", percent(host.ratio_ppm)},
                                 {"transitions_per_s", per_second(host.transition_rate_mhz)},
                                 {"guest_ratio_percent", percent(host.guest_ratio_ppm)}}},
                   {"partitions", parts}};
    return doc.dump(2) + "\n";
}

Result<std::string, std::string> render_stats(const std::string& text, bool as_json) {
    const json doc = json::parse(text, nullptr, /*allow_exceptions=*/false);
    if (doc.is_discarded()) return err(std::string("not valid JSON"));
    if (!doc.is_object() || str(doc, "format") != "rvm-stats-v1") {
        return err(std::string("not an rvm stats document (format rvm-stats-v1)"));
    }
    const auto parts = doc.find("partitions");
    if (parts == doc.end() || !parts->is_array()) return err(std::string("'partitions' is missing or not a list"));
    if (as_json) return doc.dump(2) + "\n";

    std::string out;
    const json host = doc.value("host", json::object());
    out += fmt::format("host: {} partitions, {} vCPUs, Ψ ratio {:.1f} %, {:.1f} transitions/s\n\n",
                       num<std::uint64_t>(host, "partitions"), num<std::uint64_t>(host, "vcpus"),
                       num<double>(host, "psi_ratio_percent"), num<double>(host, "transitions_per_s"));
    out += fmt::format("{:<16} {:<10} {:>6} {:>7} {:>8} {:>6} {:>10} {:>8} {:>8} {:>8} {:>10}\n", "partition/vcpu",
                       "state", "psi", "psi %", "trans/s", "cpu‰", "exits", "io", "mmio", "irq", "hypercalls");
    for (const json& p : *parts) {
        if (!p.is_object()) return err(std::string("a partition entry is not an object"));
        out += fmt::format("{:<16} {:<10} {:>6} {:>7.1f} {:>8.1f} {:>6}\n", str(p, "name"), str(p, "state"),
                           str(p, "psi_state"), num<double>(p, "psi_ratio_percent"),
                           num<double>(p, "transitions_per_s"), num<std::uint64_t>(p, "cpu_permille", 1000));
        const json vcpus = p.value("vcpus", json::array());
        if (!vcpus.is_array()) return err(std::string("'vcpus' is not a list"));
        for (const json& v : vcpus) {
            if (!v.is_object()) return err(std::string("a vCPU entry is not an object"));
            const json c = v.value("counters", json::object());
            const std::string label = fmt::format("  task {}", num<std::uint64_t>(v, "task") & 0xffffffffu);
            out += fmt::format("{:<16} {:<10} {:>6} {:>7.1f} {:>8.1f} {:>6} {:>10} {:>8} {:>8} {:>8} {:>10}\n", label,
                               v.value("running", false) ? "running" : "ended", str(v, "psi_state"),
                               num<double>(v, "psi_ratio_percent"), num<double>(v, "transitions_per_s"), "",
                               num<std::uint64_t>(c, "exits"), num<std::uint64_t>(c, "io_exits"),
                               num<std::uint64_t>(c, "mmio_exits"), num<std::uint64_t>(c, "irq_injections"),
                               num<std::uint64_t>(c, "hypercalls"));
        }
    }
    return out;
}

}  // namespace rvm::host
