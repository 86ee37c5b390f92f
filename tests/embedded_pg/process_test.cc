// Child processes: running a program to completion, describing how it ended, and failing to
// start one.
#include "server/embedded_pg/process.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>

#include "absl/status/status.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace turnout::embedded_pg {
namespace {

using ::testing::HasSubstr;

TEST(ProcessTest, RunCapturesOutputAndStatus) {
  absl::StatusOr<RunResult> result =
      embedded_pg::Run({"/bin/sh", "-c", "echo out; echo err >&2; exit 3"});
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->output, "out\nerr\n");
  EXPECT_FALSE(Succeeded(*result));
  EXPECT_EQ(DescribeWaitStatus(result->status), "exited with status 3");

  absl::StatusOr<RunResult> fine = embedded_pg::Run({"/bin/true"});
  ASSERT_TRUE(fine.ok()) << fine.status();
  EXPECT_TRUE(Succeeded(*fine));
}

TEST(ProcessTest, RunKeepsTheEndOfLongOutput) {
  absl::StatusOr<RunResult> result = embedded_pg::Run(
      {"/bin/sh", "-c", "i=0; while [ $i -lt 5000 ]; do echo line $i; i=$((i+1)); done"});
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_LE(result->output.size(), 8192u + 4);
  EXPECT_THAT(result->output, HasSubstr("line 4999\n"));
  EXPECT_EQ(result->output.rfind("...\n", 0), 0u) << "marked as cut";
}

TEST(ProcessTest, TheChildStartsInTheRootDirectoryWithNoInheritedDescriptors) {
  absl::StatusOr<RunResult> result = embedded_pg::Run({"/bin/sh", "-c", "pwd; ls /proc/self/fd"});
  ASSERT_TRUE(result.ok()) << result.status();
  // 0, 1, 2 and the descriptor ls opens for the listing.
  EXPECT_EQ(result->output, "/\n0\n1\n2\n3\n");
}

TEST(ProcessTest, AMissingProgramIsNotFound) {
  absl::StatusOr<RunResult> result = embedded_pg::Run({"/nonexistent/postgres"});
  EXPECT_EQ(result.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(result.status().message(), HasSubstr("could not execute for /nonexistent/postgres"));
}

TEST(ProcessTest, SpawnAndWaitFor) {
  ChildSpec spec;
  spec.argv = {"/bin/sleep", "60"};
  spec.own_process_group = true;
  absl::StatusOr<pid_t> pid = Spawn(spec);
  ASSERT_TRUE(pid.ok()) << pid.status();
  EXPECT_EQ(getpgid(*pid), *pid) << "leads its own process group";
  ASSERT_EQ(kill(*pid, SIGKILL), 0);
  EXPECT_EQ(DescribeWaitStatus(WaitFor(*pid)), "was killed by signal 9 (SIGKILL)");
  EXPECT_EQ(WaitFor(*pid), 0) << "already reaped";
}

TEST(ProcessTest, DescribeWaitStatus) {
  EXPECT_EQ(DescribeWaitStatus(0), "exited with status 0");
  EXPECT_EQ(DescribeWaitStatus(1 << 8), "exited with status 1");
  EXPECT_EQ(DescribeWaitStatus(SIGKILL), "was killed by signal 9 (SIGKILL)");
  EXPECT_EQ(DescribeWaitStatus(SIGABRT | 0x80), "was killed by signal 6 (SIGABRT)");  // core
}

TEST(ProcessTest, FindInPath) {
  ASSERT_TRUE(FindInPath("sh").has_value());
  EXPECT_TRUE(IsExecutable(*FindInPath("sh")));
  EXPECT_FALSE(FindInPath("no-such-program-turnout").has_value());
}

TEST(ProcessTest, Tail) {
  EXPECT_EQ(Tail("short", 10), "short");
  EXPECT_EQ(Tail("exactly10!", 10), "exactly10!");
  EXPECT_EQ(Tail("first line\nsecond\n", 10), "...\nsecond\n") << "starts at a line";
  EXPECT_EQ(Tail("no newline at all", 5), "...\nt all");
  EXPECT_EQ(Tail("abc\n", 2), "...\nc\n") << "a newline at the very end does not count";
}

}  // namespace
}  // namespace turnout::embedded_pg
