// A minimal HTTP/1.0 GET over loopback, for scraping /metrics in tests
// without any client library, and the value of a metric in what it returns.
//
// Thread-safety: pure functions.
#ifndef TRANSAXX_TESTS_SUPPORT_HTTP_GET_H_
#define TRANSAXX_TESTS_SUPPORT_HTTP_GET_H_

#include <string>

#include "absl/status/statusor.h"

namespace transaxx::testing {

struct HttpResponse {
  int status = 0;
  std::string headers;
  std::string body;
};

// GET http://127.0.0.1:`port``path`. UNAVAILABLE when nothing listens.
absl::StatusOr<HttpResponse> HttpGet(int port, const std::string& path);

// The value of metric `name` in a Prometheus text exposition, summed over
// its labelled series; 0 when it has none.
double MetricSum(const std::string& text, const std::string& name);

}  // namespace transaxx::testing

#endif  // TRANSAXX_TESTS_SUPPORT_HTTP_GET_H_
