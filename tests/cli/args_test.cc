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

}  // namespace
}  // namespace transaxx::cli
