// transaxx.v1.PowerModel over gRPC: the glue between the proto contract and
// libs/approx (PowerCatalog for the catalog and hardware figures,
// EstimateConfigPower for configurations). Every handler validates its
// request, answers with the codes power_model.proto lists (messages name the
// field), changes nothing on bad input, and lets no exception escape.
//
// Synthesis and deadlines: a call that needs a synthesis estimate waits for
// it at most until shortly before its own deadline, then answers UNAVAILABLE
// ("being estimated, retry"); the synthesis continues in the background and
// its result is cached, so a retry succeeds. ListMultipliers never waits:
// figures still being estimated are listed as UNKNOWN with a "pending" source.
//
// Thread-safety: handlers run concurrently; all shared state is in the
// thread-safe PowerCatalog and metrics.
#ifndef TRANSAXX_SERVICES_POWER_MODEL_POWER_MODEL_SERVICE_H_
#define TRANSAXX_SERVICES_POWER_MODEL_POWER_MODEL_SERVICE_H_

#include "libs/approx/power_catalog.h"
#include "libs/rpc/metrics.h"
#include "transaxx/v1/power_model.grpc.pb.h"

namespace transaxx::power_model {

// The service's own metrics (the scaffold adds per-method call metrics).
struct PowerModelMetrics {
  // REQUIRES: called once per registry.
  explicit PowerModelMetrics(rpc::MetricsRegistry& registry);
  rpc::Family<rpc::Counter>& estimates;  // by outcome (a status code name)
  rpc::Counter& synthesis_runs;
  rpc::Histogram& synthesis_seconds;
  rpc::Gauge& catalog_size;
};

class PowerModelService final : public transaxx::v1::PowerModel::Service {
 public:
  // `catalog` and `metrics` must outlive the service.
  PowerModelService(approx::PowerCatalog* catalog, PowerModelMetrics* metrics);

  grpc::Status ListMultipliers(grpc::ServerContext* context,
                               const transaxx::v1::ListMultipliersRequest* request,
                               transaxx::v1::ListMultipliersResponse* response) override;
  grpc::Status GetMultiplier(grpc::ServerContext* context,
                             const transaxx::v1::GetMultiplierRequest* request,
                             transaxx::v1::GetMultiplierResponse* response) override;
  grpc::Status CharacterizeMultiplier(grpc::ServerContext* context,
                                      const transaxx::v1::CharacterizeMultiplierRequest* request,
                                      transaxx::v1::CharacterizeMultiplierResponse* response) override;
  grpc::Status EstimatePower(grpc::ServerContext* context,
                             const transaxx::v1::EstimatePowerRequest* request,
                             transaxx::v1::EstimatePowerResponse* response) override;

 private:
  approx::PowerCatalog* const catalog_;
  PowerModelMetrics* const metrics_;
};

}  // namespace transaxx::power_model

#endif  // TRANSAXX_SERVICES_POWER_MODEL_POWER_MODEL_SERVICE_H_
