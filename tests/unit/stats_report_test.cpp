// The `rvm stats` report: JSON round trip and hostile documents.
#include <gtest/gtest.h>

#include "host/runtime/stats_report.hpp"

namespace rvm::host {
namespace {

PartitionReport report() {
    PartitionReport r;
    r.name = "storm";
    r.outcome = Outcome::Exited;
    r.psi.state = PsiState::Psi;
    r.psi.ratio_percent = 80.0;
    r.psi.cpu_permille = 500;
    PsiMonitor::VcpuStats v;
    v.task = TaskId{3, 1};
    v.view.state = PsiState::Psi;
    v.view.ratio_ppm = 800'000;
    v.counters.exits = 20102;
    v.counters.hypercalls = 20001;
    r.vcpus.push_back(v);
    return r;
}

TEST(StatsReport, RoundTripsThroughJsonAndRendersATable) {
    const std::string doc = stats_json({report()}, PsiHostView{});
    const auto table = render_stats(doc, false);
    ASSERT_TRUE(table.ok()) << table.error();
    EXPECT_NE(table.value().find("storm"), std::string::npos);
    EXPECT_NE(table.value().find("task 3"), std::string::npos);
    EXPECT_NE(table.value().find("20102"), std::string::npos);
    EXPECT_NE(table.value().find("80.0"), std::string::npos);
    const auto json = render_stats(doc, true);
    ASSERT_TRUE(json.ok());
    EXPECT_NE(json.value().find("\"psi_state\": \"psi\""), std::string::npos);
}

TEST(StatsReport, HostileDocumentsAreRefusedWithAMessage) {
    const char* bad[] = {"",
                         "not json",
                         "[]",
                         "{\"format\":\"rvm-stats-v2\",\"partitions\":[]}",
                         "{\"format\":\"rvm-stats-v1\"}",
                         "{\"format\":\"rvm-stats-v1\",\"partitions\":{}}",
                         "{\"format\":\"rvm-stats-v1\",\"partitions\":[1]}",
                         "{\"format\":\"rvm-stats-v1\",\"partitions\":[{\"vcpus\":7}]}",
                         "{\"format\":\"rvm-stats-v1\",\"partitions\":[{\"vcpus\":[\"x\"]}]}"};
    for (const char* b : bad) {
        const auto r = render_stats(b, false);
        ASSERT_FALSE(r.ok()) << b;
        EXPECT_FALSE(r.error().empty());
    }
    // Wrong types inside an entry are shown as unknown, not trusted or crashed on.
    const auto odd = render_stats(
        "{\"format\":\"rvm-stats-v1\",\"partitions\":[{\"name\":5,\"psi_ratio_percent\":\"x\",\"vcpus\":[]}]}", false);
    ASSERT_TRUE(odd.ok()) << odd.error();
    EXPECT_NE(odd.value().find("?"), std::string::npos);
}

}  // namespace
}  // namespace rvm::host
