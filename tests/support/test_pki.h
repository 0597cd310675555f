// Certificates for TLS tests, generated at test time with the openssl
// command: a CA, a server certificate for 127.0.0.1 / localhost signed by
// it, a client certificate signed by it, and a client certificate signed by
// an unrelated CA (which servers must reject).
//
// Thread-safety: GenerateTestPki writes only under `dir`.
#ifndef TRANSAXX_TESTS_SUPPORT_TEST_PKI_H_
#define TRANSAXX_TESTS_SUPPORT_TEST_PKI_H_

#include <string>

#include "absl/status/statusor.h"

namespace transaxx::testing {

struct TestPki {
  std::string ca_cert;
  std::string server_cert, server_key;
  std::string client_cert, client_key;
  std::string other_ca_cert;  // An unrelated CA.
  std::string stranger_cert, stranger_key;  // A client signed by other_ca.
};

// Writes the files into `dir` (which must exist) and returns their paths.
absl::StatusOr<TestPki> GenerateTestPki(const std::string& dir);

}  // namespace transaxx::testing

#endif  // TRANSAXX_TESTS_SUPPORT_TEST_PKI_H_
