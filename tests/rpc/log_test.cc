#include "libs/rpc/log.h"

#include <gtest/gtest.h>

namespace transaxx::rpc {
namespace {

TEST(LogTest, EscapesJson) {
  EXPECT_EQ(JsonEscape("a\"b\\c\nd\x01"), "a\\\"b\\\\c\\nd\\u0001");
}

TEST(LogTest, ParsesLevels) {
  LogLevel level;
  ASSERT_TRUE(ParseLogLevel("warning", &level).ok());
  EXPECT_EQ(level, LogLevel::kWarning);
  EXPECT_EQ(ParseLogLevel("loud", &level).code(), absl::StatusCode::kInvalidArgument);
}

TEST(LogTest, WritesOneJsonObjectPerLine) {
  ::testing::internal::CaptureStderr();
  LogInfo("hello \"world\"", {{"port", "5"}});
  LogDebug("dropped at the default level");
  std::string out = ::testing::internal::GetCapturedStderr();
  EXPECT_NE(out.find("\"level\":\"info\",\"msg\":\"hello \\\"world\\\"\",\"port\":\"5\"}\n"),
            std::string::npos)
      << out;
  EXPECT_EQ(out.find("dropped"), std::string::npos);
}

}  // namespace
}  // namespace transaxx::rpc
