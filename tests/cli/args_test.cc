#include "cli/args.h"

#include <gtest/gtest.h>

namespace transaxx::cli {
namespace {

TEST(ArgsTest, SeparatesPositionalsValueAndBooleanFlags) {
  auto args = Args::Parse({"show", "--output", "json", "ID", "--verbose", "--dir=/x"},
                          {"output", "dir"}, {"verbose"});
  ASSERT_TRUE(args.ok()) << args.status();
  EXPECT_EQ(args->positional(), (std::vector<std::string>{"show", "ID"}));
  EXPECT_EQ(args->Value("output"), "json");
  EXPECT_EQ(args->Value("dir"), "/x");
  EXPECT_TRUE(args->Has("verbose"));
  EXPECT_FALSE(args->Value("missing").has_value());
}

TEST(ArgsTest, RefusesWhatTheCommandDoesNotDeclare) {
  EXPECT_FALSE(Args::Parse({"--nope"}, {}, {}).ok());
  EXPECT_FALSE(Args::Parse({"--output"}, {"output"}, {}).ok());
  EXPECT_FALSE(Args::Parse({"--verbose=1"}, {}, {"verbose"}).ok());
  EXPECT_FALSE(Args::Parse({"--dir", "a", "--dir", "b"}, {"dir"}, {}).ok());
}

TEST(ArgsTest, RepeatableFlagsKeepEveryValueInOrder) {
  auto args = Args::Parse({"--group", "a=x", "--group=b=y", "--dir", "d"}, {"group", "dir"}, {},
                          {"group"});
  ASSERT_TRUE(args.ok()) << args.status();
  EXPECT_EQ(args->Values("group"), (std::vector<std::string>{"a=x", "b=y"}));
  EXPECT_EQ(args->Value("group"), "b=y");
  EXPECT_EQ(args->Values("dir"), (std::vector<std::string>{"d"}));
  EXPECT_TRUE(args->Values("missing").empty());
  EXPECT_FALSE(Args::Parse({"--dir", "a", "--dir", "b"}, {"dir", "group"}, {}, {"group"}).ok());
}

}  // namespace
}  // namespace transaxx::cli
