// transaxx.v1.Evaluator over gRPC: the glue between the proto contract and
// the model, dataset and calibration stores, libs/nn (calibration,
// quantization, evaluation) and the multiplier catalog. Every handler
// validates its request before doing work, answers with the codes
// evaluator.proto lists (messages name the field), changes nothing on bad
// input and lets no exception escape.
//
// Heavy calls (Calibrate, Evaluate, FineTune) pass the admission control
// first (admission.h); they poll the call's cancellation and deadline
// between batches, so an abandoned call stops within a batch. FineTune
// trains a private copy of the model (the shared one keeps serving) and
// publishes the result as a new model only when everything succeeded
// (fine_tune.h).
//
// Device: the one given at start-up (EvaluatorOptions::device): a CUDA GPU
// or the CPU with the intra-op thread count set by --threads; models live
// there and batches are moved there, and the approximate layers use the
// fastest exact kernels of that device (libs/approx).
//
// Thread-safety: handlers run concurrently; shared state lives in the
// thread-safe stores, admission and metrics.
#ifndef TRANSAXX_SERVICES_EVALUATOR_EVALUATOR_SERVICE_H_
#define TRANSAXX_SERVICES_EVALUATOR_EVALUATOR_SERVICE_H_

#include <string>

#include <c10/core/Device.h>

#include "absl/time/time.h"
#include "libs/approx/catalog.h"
#include "libs/rpc/metrics.h"
#include "services/evaluator/admission.h"
#include "services/evaluator/calibration_store.h"
#include "services/evaluator/dataset_store.h"
#include "services/evaluator/model_store.h"
#include "transaxx/v1/evaluator.grpc.pb.h"

namespace transaxx::evaluator {

// The service's own metrics (the scaffold adds per-method call metrics).
struct EvaluatorMetrics {
  // REQUIRES: called once per registry.
  explicit EvaluatorMetrics(rpc::MetricsRegistry& registry);
  rpc::Family<rpc::Counter>& evaluations;   // by outcome (a status code name)
  rpc::Histogram& evaluation_seconds;
  rpc::Gauge& images_per_second;            // of the latest evaluation
  rpc::Family<rpc::Counter>& fine_tunes;    // by outcome (a status code name)
  rpc::Family<rpc::Counter>& calibrations;  // by source: "computed" or "cache"
  rpc::Gauge& running;
  rpc::Gauge& queued;
  rpc::Gauge& cache_bytes;
  rpc::Family<rpc::Gauge>& device;          // 1 for the device in use, by kind
};

struct EvaluatorOptions {
  std::string instance;  // host or pod name
  at::Device device = at::kCPU;
  int default_batch_size = 64;
  int64_t cache_budget_bytes = 0;
};

class EvaluatorService final : public transaxx::v1::Evaluator::Service {
 public:
  // Every pointer must outlive the service.
  EvaluatorService(const EvaluatorOptions& options, ModelStore* models, DatasetStore* datasets,
                   CalibrationStore* calibrations, const approx::Catalog* catalog,
                   Admission* admission, EvaluatorMetrics* metrics,
                   rpc::MetricsRegistry* registry);

  grpc::Status ListModels(grpc::ServerContext* context, const v1::ListModelsRequest* request,
                          v1::ListModelsResponse* response) override;
  grpc::Status ListDatasets(grpc::ServerContext* context, const v1::ListDatasetsRequest* request,
                            v1::ListDatasetsResponse* response) override;
  grpc::Status ListMultipliers(grpc::ServerContext* context,
                               const v1::ListEvaluatorMultipliersRequest* request,
                               v1::ListEvaluatorMultipliersResponse* response) override;
  grpc::Status GetStatus(grpc::ServerContext* context, const v1::GetStatusRequest* request,
                         v1::GetStatusResponse* response) override;
  grpc::Status DescribeModel(grpc::ServerContext* context,
                             const v1::DescribeModelRequest* request,
                             v1::DescribeModelResponse* response) override;
  grpc::Status Calibrate(grpc::ServerContext* context, const v1::CalibrateRequest* request,
                         v1::CalibrateResponse* response) override;
  grpc::Status Evaluate(grpc::ServerContext* context, const v1::EvaluateRequest* request,
                        v1::EvaluateResponse* response) override;
  grpc::Status FineTune(grpc::ServerContext* context, const v1::FineTuneRequest* request,
                        grpc::ServerWriter<v1::FineTuneEvent>* writer) override;

 private:
  const EvaluatorOptions options_;
  ModelStore* const models_;
  DatasetStore* const datasets_;
  CalibrationStore* const calibrations_;
  const approx::Catalog* const catalog_;
  Admission* const admission_;
  EvaluatorMetrics* const metrics_;
  const absl::Time start_time_;
};

}  // namespace transaxx::evaluator

#endif  // TRANSAXX_SERVICES_EVALUATOR_EVALUATOR_SERVICE_H_
