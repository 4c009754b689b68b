// validate(PartitionSpec): the one set of partition bounds, as the manifest
// and the runtime both apply them.
#include <gtest/gtest.h>

#include "host/runtime/partition_spec.hpp"

namespace rvm {
namespace {

using host::PartitionSpec;
using host::SpecErrc;
using host::SpecField;

host::SpecError refusal(const PartitionSpec& s) {
    const auto r = host::validate(s);
    EXPECT_FALSE(r.ok());
    return r.ok() ? host::SpecError{} : r.error();
}

TEST(PartitionSpec, DefaultsAreValid) { EXPECT_TRUE(host::validate(PartitionSpec{}).ok()); }

TEST(PartitionSpec, BoundsAreTheNamedOnes) {
    PartitionSpec s;
    s.max_tasks = host::kSpecMaxTasks;
    s.stack_size = host::kSpecPage;
    s.tasks = host::kSpecMaxTasks;
    EXPECT_TRUE(host::validate(s).ok());
    s.max_tasks = host::kSpecMaxTasks + 1;
    const auto e = refusal(s);
    EXPECT_EQ(e.field, SpecField::kMaxTasks);
    EXPECT_EQ(e.hi, host::kSpecMaxTasks);
    EXPECT_EQ(host::kSpecMaxTasks, kMaxTasksPerPartition);  // the nucleus's own quota limit
}

TEST(PartitionSpec, RangeBeforePageMultiple) {
    PartitionSpec s;
    s.memory = 0;
    EXPECT_EQ(refusal(s).code, SpecErrc::kRange);
    s.memory = (16u << 20) + 100;
    EXPECT_EQ(refusal(s).code, SpecErrc::kNotPageMultiple);
    s.memory = 16u << 20;
    s.stack_size = host::kSpecMaxStack + host::kSpecPage;
    EXPECT_EQ(refusal(s).field, SpecField::kStack);
}

TEST(PartitionSpec, TasksWithinMaxTasks) {
    PartitionSpec s;
    s.tasks = 9;
    const auto e = refusal(s);
    EXPECT_EQ(e.field, SpecField::kTasks);
    EXPECT_EQ(e.hi, 8u);
}

TEST(PartitionSpec, StacksLeaveOnePageForTheImage) {
    PartitionSpec s;
    s.stack_size = 256u << 10;
    s.max_tasks = 8;
    s.memory = host::kSpecImageBase + (2u << 20) + host::kSpecPage;
    EXPECT_TRUE(host::validate(s).ok());
    s.memory -= host::kSpecPage;
    const auto e = refusal(s);
    EXPECT_EQ(e.code, SpecErrc::kStacksDoNotFit);
    EXPECT_EQ(e.value, 2u << 20);
    EXPECT_NE(host::describe(e, s).find("leave no room for the image"), std::string::npos);
}

TEST(PartitionSpec, TimingRules) {
    PartitionSpec s;
    s.budget_ns = 1'000'000;
    EXPECT_EQ(refusal(s).code, SpecErrc::kNeedsDeadline);
    s.deadline_ns = 500'000'000;
    s.budget_ns = 600'000'000;
    EXPECT_EQ(refusal(s).code, SpecErrc::kBudgetOutsideDeadline);
    s.budget_ns = 10'000'000;
    s.period_ns = 100'000'000;
    EXPECT_EQ(refusal(s).code, SpecErrc::kDeadlineAfterPeriod);
    s.period_ns = 500'000'000;
    EXPECT_TRUE(host::validate(s).ok());
    s.wall_time_ns = 0;
    EXPECT_EQ(refusal(s).field, SpecField::kWallTime);
}

}  // namespace
}  // namespace rvm
