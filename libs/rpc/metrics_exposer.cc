#include "libs/rpc/metrics_exposer.h"

#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "libs/rpc/host_port.h"

namespace transaxx::rpc {
namespace {

// Requests larger than this are refused: a scrape's is a few hundred bytes.
constexpr size_t kMaxRequestBytes = 8192;

void SendAll(int fd, const std::string& data) {
  size_t sent = 0;
  while (sent < data.size()) {
    const ssize_t n = send(fd, data.data() + sent, data.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) return;  // the client went away; nothing to tell it
    sent += static_cast<size_t>(n);
  }
}

std::string Response(int status, const char* reason, const std::string& content_type,
                     const std::string& body, bool with_body, const char* extra_header = "") {
  return absl::StrCat("HTTP/1.1 ", status, " ", reason, "\r\nContent-Type: ", content_type,
                      "\r\nContent-Length: ", body.size(), "\r\n", extra_header,
                      "Connection: close\r\n\r\n", with_body ? body : "");
}

// Reads the request head (up to the blank line), or "" on timeout, error or
// an oversized request.
std::string ReadHead(int fd) {
  timeval timeout{5, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
  std::string head;
  char buffer[1024];
  while (head.find("\r\n\r\n") == std::string::npos && head.find("\n\n") == std::string::npos) {
    const ssize_t n = recv(fd, buffer, sizeof(buffer), 0);
    if (n <= 0 || head.size() + static_cast<size_t>(n) > kMaxRequestBytes) return "";
    head.append(buffer, static_cast<size_t>(n));
  }
  return head;
}

void Handle(int fd, const MetricsRegistry& registry) {
  const std::string head = ReadHead(fd);
  const size_t line_end = head.find_first_of("\r\n");
  const std::string line = head.substr(0, line_end);
  const size_t sp1 = line.find(' ');
  const size_t sp2 = sp1 == std::string::npos ? sp1 : line.find(' ', sp1 + 1);
  if (sp2 == std::string::npos) {
    SendAll(fd, Response(400, "Bad Request", "text/plain", "malformed request\n", true));
    return;
  }
  const std::string method = line.substr(0, sp1);
  std::string path = line.substr(sp1 + 1, sp2 - sp1 - 1);
  path = path.substr(0, path.find('?'));
  if (path != "/metrics") {
    SendAll(fd, Response(404, "Not Found", "text/plain", "only /metrics is served\n", true));
    return;
  }
  if (method != "GET" && method != "HEAD") {
    SendAll(fd, Response(405, "Method Not Allowed", "text/plain", "only GET and HEAD are served\n",
                         true, "Allow: GET, HEAD\r\n"));
    return;
  }
  SendAll(fd, Response(200, "OK", "text/plain; version=0.0.4; charset=utf-8", registry.Render(),
                       method == "GET"));
}

}  // namespace

MetricsExposer::MetricsExposer(int fd, int port, const MetricsRegistry* registry)
    : fd_(fd), port_(port), registry_(registry), thread_([this] { Serve(); }) {}

absl::StatusOr<std::unique_ptr<MetricsExposer>> MetricsExposer::Start(
    const std::string& address, const MetricsRegistry* registry) {
  absl::StatusOr<HostPort> hp = ParseHostPort(address);
  if (!hp.ok()) return hp.status();
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE;
  addrinfo* found = nullptr;
  const std::string port = std::to_string(hp->port);
  if (getaddrinfo(hp->host.c_str(), port.c_str(), &hints, &found) != 0 || found == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat("cannot serve metrics on ", address, ": unknown host '", hp->host, "'"));
  }
  int fd = -1;
  std::string error;
  for (addrinfo* a = found; a != nullptr && fd < 0; a = a->ai_next) {
    fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
    if (fd < 0) continue;
    const int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (bind(fd, a->ai_addr, a->ai_addrlen) != 0 || listen(fd, 16) != 0) {
      error = std::strerror(errno);
      close(fd);
      fd = -1;
    }
  }
  freeaddrinfo(found);
  if (fd < 0) {
    return absl::UnavailableError(absl::StrCat("cannot serve metrics on ", address, ": ", error));
  }
  sockaddr_storage bound{};
  socklen_t length = sizeof(bound);
  getsockname(fd, reinterpret_cast<sockaddr*>(&bound), &length);
  const int bound_port = bound.ss_family == AF_INET6
                             ? ntohs(reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port)
                             : ntohs(reinterpret_cast<sockaddr_in*>(&bound)->sin_port);
  return std::unique_ptr<MetricsExposer>(new MetricsExposer(fd, bound_port, registry));
}

void MetricsExposer::Serve() {
  while (!stop_.load()) {
    pollfd p{fd_, POLLIN, 0};
    if (poll(&p, 1, 100) <= 0) continue;  // checks stop_ ten times a second
    const int client = accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (client < 0) continue;
    Handle(client, *registry_);
    close(client);
  }
}

MetricsExposer::~MetricsExposer() {
  stop_.store(true);
  thread_.join();
  close(fd_);
}

}  // namespace transaxx::rpc
