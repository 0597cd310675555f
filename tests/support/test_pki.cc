#include "tests/support/test_pki.h"

#include <cstdlib>
#include <fstream>

#include "absl/strings/str_cat.h"

namespace transaxx::testing {
namespace {

absl::Status Sh(const std::string& command) {
  const std::string quiet = absl::StrCat(command, " >/dev/null 2>&1");
  if (std::system(quiet.c_str()) != 0) {
    return absl::InternalError(absl::StrCat("command failed: ", command));
  }
  return absl::OkStatus();
}

absl::Status MakeCa(const std::string& dir, const std::string& name) {
  return Sh(absl::StrCat("openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=", name,
                         " -keyout ", dir, "/", name, ".key -out ", dir, "/", name, ".pem"));
}

// A leaf certificate `name` signed by CA `ca`, valid for 127.0.0.1 and localhost.
absl::Status MakeLeaf(const std::string& dir, const std::string& name, const std::string& ca,
                      const std::string& usage) {
  const std::string ext = absl::StrCat(dir, "/", name, ".ext");
  std::ofstream(ext) << "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=" << usage
                     << "\n";
  if (auto s = Sh(absl::StrCat("openssl req -newkey rsa:2048 -nodes -subj /CN=", name, " -keyout ",
                               dir, "/", name, ".key -out ", dir, "/", name, ".csr"));
      !s.ok()) {
    return s;
  }
  return Sh(absl::StrCat("openssl x509 -req -days 2 -in ", dir, "/", name, ".csr -CA ", dir, "/",
                         ca, ".pem -CAkey ", dir, "/", ca, ".key -CAcreateserial -extfile ", ext,
                         " -out ", dir, "/", name, ".pem"));
}

}  // namespace

absl::StatusOr<TestPki> GenerateTestPki(const std::string& dir) {
  for (absl::Status s : {MakeCa(dir, "ca"), MakeCa(dir, "other_ca"),
                         MakeLeaf(dir, "server", "ca", "serverAuth"),
                         MakeLeaf(dir, "client", "ca", "clientAuth"),
                         MakeLeaf(dir, "stranger", "other_ca", "clientAuth")}) {
    if (!s.ok()) return s;
  }
  auto path = [&](const std::string& f) { return absl::StrCat(dir, "/", f); };
  return TestPki{path("ca.pem"),         path("server.pem"), path("server.key"),
                 path("client.pem"),     path("client.key"), path("other_ca.pem"),
                 path("stranger.pem"),   path("stranger.key")};
}

}  // namespace transaxx::testing
