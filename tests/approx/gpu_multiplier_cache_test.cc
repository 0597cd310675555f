// The memo of GpuMultipliers: one per content hash and device, errors not
// kept. The test that needs a CUDA device skips without one.
#include "libs/approx/cuda/gpu_multiplier_cache.h"

#include <gtest/gtest.h>

#include "libs/approx/builtin.h"

namespace transaxx::approx {
namespace {

TEST(GpuMultiplierCacheTest, OneInstancePerTableAndDevice) {
  if (GpuDeviceCount() == 0) GTEST_SKIP() << "no CUDA device";
  const Multiplier exact = *MakeBuiltin("exact");
  const absl::StatusOr<std::shared_ptr<const GpuMultiplier>> first = CachedGpuMultiplier(exact, 0);
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ((*first)->device(), 0);
  // The same table under another ID has the same content hash.
  const Multiplier renamed = *Multiplier::Create("renamed", Signedness::kSigned, exact.table());
  EXPECT_EQ(CachedGpuMultiplier(renamed, 0)->get(), first->get());
  EXPECT_NE(CachedGpuMultiplier(*MakeBuiltin("mitchell"), 0)->get(), first->get());
  for (int device = 1; device < GpuDeviceCount(); ++device) {
    const absl::StatusOr<std::shared_ptr<const GpuMultiplier>> other =
        CachedGpuMultiplier(exact, device);
    ASSERT_TRUE(other.ok()) << other.status();
    EXPECT_EQ((*other)->device(), device);
  }
}

// Runs everywhere: a missing device is reported on every call, not cached.
TEST(GpuMultiplierCacheTest, MissingDeviceIsReportedEveryTime) {
  const Multiplier exact = *MakeBuiltin("exact");
  for (int attempt = 0; attempt < 2; ++attempt) {
    EXPECT_EQ(CachedGpuMultiplier(exact, GpuDeviceCount()).status().code(),
              absl::StatusCode::kFailedPrecondition);
  }
}

}  // namespace
}  // namespace transaxx::approx
