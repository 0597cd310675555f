// Starts the Echo test service (tests/support/echo_server_main.cc) as a real
// process on loopback and checks the scaffold over real gRPC: health and
// graceful shutdown, reflection, Prometheus metrics, TLS, mTLS, tokens,
// round-robin balancing and deadlines.
#include <signal.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <thread>

#include <gmock/gmock.h>
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "echo.grpc.pb.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "grpc/reflection/v1alpha/reflection.grpc.pb.h"
#include "libs/rpc/client_channel.h"
#include "tests/support/http_get.h"
#include "tests/support/subprocess.h"
#include "tests/support/test_pki.h"

namespace transaxx {
namespace {

using ::grpc::health::v1::HealthCheckRequest;
using ::grpc::health::v1::HealthCheckResponse;
using ::testing::HasSubstr;
using transaxx::testing::Subprocess;

// A running echo server and the ports it announced.
struct EchoServer {
  std::unique_ptr<Subprocess> process;
  int port = 0;
  int metrics_port = 0;
  std::string target() const { return absl::StrCat("127.0.0.1:", port); }
};

EchoServer StartEcho(std::vector<std::string> extra_flags = {}) {
  std::vector<std::string> argv = {TRANSAXX_ECHO_SERVER, "--listen=127.0.0.1:0",
                                   "--metrics_listen=127.0.0.1:0"};
  argv.insert(argv.end(), extra_flags.begin(), extra_flags.end());
  EchoServer server;
  auto process = Subprocess::Start(argv);
  EXPECT_TRUE(process.ok()) << process.status();
  if (!process.ok()) return server;
  server.process = std::move(*process);
  auto line = server.process->WaitForLine("\"msg\":\"serving\"", absl::Seconds(30));
  EXPECT_TRUE(line.ok()) << line.status();
  if (!line.ok()) return server;
  server.port = std::atoi(transaxx::testing::JsonField(*line, "grpc_port").c_str());
  server.metrics_port = std::atoi(transaxx::testing::JsonField(*line, "metrics_port").c_str());
  return server;
}

rpc::ClientChannel Connect(const std::string& target, rpc::SecurityOptions security = {}) {
  rpc::ChannelOptions options;
  options.target = target;
  options.security = std::move(security);
  auto channel = rpc::ClientChannel::Create(options);
  EXPECT_TRUE(channel.ok()) << channel.status();
  return *channel;
}

grpc::Status Say(const rpc::ClientChannel& channel, const std::string& text, int delay_ms = 0,
                 int fail_code = 0, absl::Duration deadline = absl::Seconds(20)) {
  auto stub = transaxx::testing::Echo::NewStub(channel.channel());
  transaxx::testing::SayRequest request;
  request.set_text(text);
  request.set_delay_ms(delay_ms);
  request.set_fail_code(fail_code);
  transaxx::testing::SayReply reply;
  auto context = channel.NewCall(deadline);
  grpc::Status status = stub->Say(context.get(), request, &reply);
  if (status.ok() && reply.text() != text) return grpc::Status(grpc::StatusCode::DATA_LOSS, "bad echo");
  return status;
}

HealthCheckResponse::ServingStatus CheckHealth(const rpc::ClientChannel& channel,
                                               const std::string& service = "") {
  auto stub = grpc::health::v1::Health::NewStub(channel.channel());
  HealthCheckRequest request;
  request.set_service(service);
  HealthCheckResponse response;
  auto context = channel.NewCall(absl::Seconds(10));
  grpc::Status status = stub->Check(context.get(), request, &response);
  EXPECT_TRUE(status.ok()) << status.error_message();
  return response.status();
}

std::string ScrapeMetrics(int port) {
  auto response = transaxx::testing::HttpGet(port, "/metrics");
  EXPECT_TRUE(response.ok()) << response.status();
  if (!response.ok()) return "";
  EXPECT_EQ(response->status, 200);
  EXPECT_THAT(response->headers, HasSubstr("text/plain; version=0.0.4"));
  return response->body;
}

std::string TempDir(const std::string& name) {
  std::string dir = absl::StrCat(::testing::TempDir(), "/", name, "-", getpid());
  std::filesystem::create_directories(dir);
  return dir;
}

TEST(RpcScaffoldTest, HealthTurnsNotServingOnSigtermAndInFlightCallsComplete) {
  EchoServer server = StartEcho({"--drain_delay=1s", "--shutdown_timeout=20s"});
  ASSERT_GT(server.port, 0);
  rpc::ClientChannel channel = Connect(server.target());
  EXPECT_EQ(CheckHealth(channel), HealthCheckResponse::SERVING);
  EXPECT_EQ(CheckHealth(channel, "transaxx.testing.Echo"), HealthCheckResponse::SERVING);

  // Watch health from a second connection, as a load balancer would.
  auto health = grpc::health::v1::Health::NewStub(channel.channel());
  grpc::ClientContext watch_context;
  watch_context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
  HealthCheckRequest watch_request;
  auto watch = health->Watch(&watch_context, watch_request);
  HealthCheckResponse update;
  ASSERT_TRUE(watch->Read(&update));
  EXPECT_EQ(update.status(), HealthCheckResponse::SERVING);

  grpc::Status in_flight;
  std::thread caller([&] { in_flight = Say(channel, "finish me", /*delay_ms=*/3000); });
  absl::SleepFor(absl::Milliseconds(500));  // Let the call reach the handler.
  server.process->Signal(SIGTERM);

  ASSERT_TRUE(watch->Read(&update));
  EXPECT_EQ(update.status(), HealthCheckResponse::NOT_SERVING);
  watch_context.TryCancel();
  caller.join();
  EXPECT_TRUE(in_flight.ok()) << in_flight.error_code() << " " << in_flight.error_message();
  auto exit_code = server.process->Wait(absl::Seconds(30));
  ASSERT_TRUE(exit_code.ok()) << exit_code.status();
  EXPECT_EQ(*exit_code, 0) << server.process->output();
  EXPECT_THAT(server.process->output(), HasSubstr("\"msg\":\"draining\""));
  EXPECT_THAT(server.process->output(), HasSubstr("\"msg\":\"stopped\""));
}

TEST(RpcScaffoldTest, CallsStillRunningAtTheShutdownDeadlineAreCancelled) {
  EchoServer server = StartEcho({"--shutdown_timeout=1s"});
  ASSERT_GT(server.port, 0);
  rpc::ClientChannel channel = Connect(server.target());
  grpc::Status in_flight;
  std::thread caller([&] { in_flight = Say(channel, "too slow", /*delay_ms=*/20000); });
  absl::SleepFor(absl::Milliseconds(500));
  server.process->Signal(SIGINT);
  auto exit_code = server.process->Wait(absl::Seconds(15));
  caller.join();
  ASSERT_TRUE(exit_code.ok()) << exit_code.status();
  EXPECT_EQ(*exit_code, 0);
  EXPECT_FALSE(in_flight.ok());
}

TEST(RpcScaffoldTest, ReflectionListsTheServices) {
  EchoServer server = StartEcho();
  ASSERT_GT(server.port, 0);
  rpc::ClientChannel channel = Connect(server.target());
  auto stub = grpc::reflection::v1alpha::ServerReflection::NewStub(channel.channel());
  auto context = channel.NewCall();
  auto stream = stub->ServerReflectionInfo(context.get());
  grpc::reflection::v1alpha::ServerReflectionRequest request;
  request.set_list_services("");
  ASSERT_TRUE(stream->Write(request));
  grpc::reflection::v1alpha::ServerReflectionResponse response;
  ASSERT_TRUE(stream->Read(&response));
  std::vector<std::string> names;
  for (const auto& s : response.list_services_response().service()) names.push_back(s.name());
  EXPECT_THAT(names, ::testing::IsSupersetOf({"transaxx.testing.Echo", "grpc.health.v1.Health"}));
  // And it can describe our service's file.
  request.set_file_containing_symbol("transaxx.testing.Echo");
  ASSERT_TRUE(stream->Write(request));
  ASSERT_TRUE(stream->Read(&response));
  EXPECT_EQ(response.file_descriptor_response().file_descriptor_proto_size(), 1);
  stream->WritesDone();
  EXPECT_TRUE(stream->Finish().ok());
}

TEST(RpcScaffoldTest, MetricsCountCallsPerMethodAndCodeAndPassPromtool) {
  EchoServer server = StartEcho();
  ASSERT_GT(server.port, 0);
  rpc::ClientChannel channel = Connect(server.target());
  EXPECT_TRUE(Say(channel, "a").ok());
  EXPECT_TRUE(Say(channel, "b").ok());
  EXPECT_EQ(Say(channel, "c", 0, /*INVALID_ARGUMENT*/ 3).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(CheckHealth(channel), HealthCheckResponse::SERVING);

  std::string text = ScrapeMetrics(server.metrics_port);
  const std::string echo = "grpc_service=\"transaxx.testing.Echo\",grpc_method=\"Say\",grpc_type=\"unary\"";
  EXPECT_THAT(text, HasSubstr(absl::StrCat("transaxx_grpc_server_started_total{", echo, "} 3\n")));
  EXPECT_THAT(text, HasSubstr(absl::StrCat("transaxx_grpc_server_handled_total{", echo,
                                           ",grpc_code=\"OK\"} 2\n")));
  EXPECT_THAT(text, HasSubstr(absl::StrCat("transaxx_grpc_server_handled_total{", echo,
                                           ",grpc_code=\"INVALID_ARGUMENT\"} 1\n")));
  EXPECT_THAT(text, HasSubstr(absl::StrCat("transaxx_grpc_server_handling_seconds_count{", echo,
                                           "} 3\n")));
  EXPECT_THAT(text, HasSubstr("grpc_service=\"grpc.health.v1.Health\",grpc_method=\"Check\""));
  for (const char* m : {"process_cpu_seconds_total ", "process_resident_memory_bytes ",
                        "process_open_fds ", "process_start_time_seconds "}) {
    EXPECT_THAT(text, HasSubstr(m));
  }
  EXPECT_EQ(transaxx::testing::HttpGet(server.metrics_port, "/nothing")->status, 404);

  const std::string dir = TempDir("metrics");
  const std::string file = dir + "/metrics.txt";
  std::ofstream(file) << text;
  const std::string check = absl::StrCat(TRANSAXX_PROMTOOL, " check metrics < ", file);
  EXPECT_EQ(std::system(check.c_str()), 0) << text;
  std::filesystem::remove_all(dir);
}

TEST(RpcScaffoldTest, UnknownMethodsDoNotCreateLabelValues) {
  EchoServer server = StartEcho();
  ASSERT_GT(server.port, 0);
  rpc::ClientChannel channel = Connect(server.target());
  grpc::GenericStub generic(channel.channel());
  transaxx::testing::SayRequest say;
  say.set_text("lost");
  std::string wire = say.SerializeAsString();
  grpc::Slice slice(wire);
  grpc::ByteBuffer request(&slice, 1), response;
  auto context = channel.NewCall();
  grpc::Status status;
  std::mutex mu;
  std::condition_variable cv;
  bool done = false;
  generic.UnaryCall(context.get(), "/transaxx.testing.Echo/NoSuchMethod", {}, &request, &response,
                    [&](grpc::Status s) {
                      std::lock_guard<std::mutex> lock(mu);
                      status = s;
                      done = true;
                      cv.notify_one();
                    });
  std::unique_lock<std::mutex> lock(mu);
  cv.wait(lock, [&] { return done; });
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNIMPLEMENTED);
  EXPECT_THAT(ScrapeMetrics(server.metrics_port), ::testing::Not(HasSubstr("NoSuchMethod")));
}

// Calls to Echo.Say answered OK by the server behind `metrics_port`.
int SaysServed(int metrics_port) {
  const std::string text = ScrapeMetrics(metrics_port);
  const std::string key = "grpc_method=\"Say\",grpc_type=\"unary\",grpc_code=\"OK\"} ";
  size_t at = text.find(key);
  return at == std::string::npos ? 0 : std::atoi(text.c_str() + at + key.size());
}

TEST(RpcScaffoldTest, RoundRobinSpreadsCallsOverAListOfServers) {
  EchoServer a = StartEcho();
  EchoServer b = StartEcho();
  ASSERT_GT(a.port, 0);
  ASSERT_GT(b.port, 0);
  rpc::ClientChannel channel = Connect(absl::StrCat(a.target(), ",", b.target()));
  // Round-robin only uses connected servers; call until both have answered.
  for (int i = 0; i < 200 && (SaysServed(a.metrics_port) == 0 || SaysServed(b.metrics_port) == 0);
       ++i) {
    ASSERT_TRUE(Say(channel, "warm-up").ok());
  }
  const int a0 = SaysServed(a.metrics_port), b0 = SaysServed(b.metrics_port);
  ASSERT_GT(a0, 0);
  ASSERT_GT(b0, 0);
  // With both connected, calls alternate.
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(Say(channel, "x").ok());
  EXPECT_EQ(SaysServed(a.metrics_port) - a0, 5);
  EXPECT_EQ(SaysServed(b.metrics_port) - b0, 5);
}

TEST(RpcScaffoldTest, DnsTargetsReachTheServer) {
  EchoServer server = StartEcho();
  ASSERT_GT(server.port, 0);
  EXPECT_TRUE(Say(Connect(absl::StrCat("dns:///127.0.0.1:", server.port)), "by dns").ok());
}

TEST(RpcScaffoldTest, PerCallDeadlinesAreEnforced) {
  EchoServer server = StartEcho();
  ASSERT_GT(server.port, 0);
  rpc::ClientChannel channel = Connect(server.target());
  EXPECT_EQ(Say(channel, "slow", 5000, 0, absl::Milliseconds(300)).error_code(),
            grpc::StatusCode::DEADLINE_EXCEEDED);
}

TEST(RpcScaffoldTest, BadFlagsAndUnusableAddressesExitNonZeroWithAMessage) {
  EchoServer first = StartEcho();
  ASSERT_GT(first.port, 0);
  struct Case {
    std::vector<std::string> flags;
    std::string message;
  } cases[] = {
      {{"--listen=nonsense"}, "--listen"},
      {{"--log_level=loud"}, "--log_level"},
      {{"--listen=127.0.0.1:0", absl::StrCat("--metrics_listen=127.0.0.1:", first.metrics_port)},
       "cannot serve metrics"},
      {{"--listen=127.0.0.1:0", "--metrics_listen=", "--auth_token_file=/tmp/x"},
       "--auth_token_file needs --tls_cert"},
  };
  for (const Case& c : cases) {
    std::vector<std::string> argv = {TRANSAXX_ECHO_SERVER};
    argv.insert(argv.end(), c.flags.begin(), c.flags.end());
    auto process = Subprocess::Start(argv);
    ASSERT_TRUE(process.ok());
    auto code = (*process)->Wait(absl::Seconds(20));
    ASSERT_TRUE(code.ok());
    EXPECT_NE(*code, 0) << c.flags[0];
    EXPECT_THAT((*process)->output(), HasSubstr(c.message));
  }
}

class SecureScaffoldTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new std::string(TempDir("pki"));
    auto pki = transaxx::testing::GenerateTestPki(*dir_);
    ASSERT_TRUE(pki.ok()) << pki.status();
    pki_ = new transaxx::testing::TestPki(*pki);
    std::ofstream(*dir_ + "/token") << "s3cret-token\n";
    std::ofstream(*dir_ + "/wrong_token") << "guess\n";
  }
  static void TearDownTestSuite() { std::filesystem::remove_all(*dir_); }
  static std::string* dir_;
  static transaxx::testing::TestPki* pki_;
};
std::string* SecureScaffoldTest::dir_ = nullptr;
transaxx::testing::TestPki* SecureScaffoldTest::pki_ = nullptr;

TEST_F(SecureScaffoldTest, TlsAcceptsClientsTrustingTheCaAndRejectsOthers) {
  EchoServer server =
      StartEcho({"--tls_cert=" + pki_->server_cert, "--tls_key=" + pki_->server_key});
  ASSERT_GT(server.port, 0);
  EXPECT_TRUE(Say(Connect(server.target(), {.tls_ca_file = pki_->ca_cert}), "hi").ok());
  EXPECT_EQ(Say(Connect(server.target()), "plaintext", 0, 0, absl::Seconds(3)).error_code(),
            grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(Say(Connect(server.target(), {.tls_ca_file = pki_->other_ca_cert}), "wrong ca", 0, 0,
                absl::Seconds(3))
                .error_code(),
            grpc::StatusCode::UNAVAILABLE);
}

TEST_F(SecureScaffoldTest, MutualTlsRequiresAClientCertificateFromTheCa) {
  EchoServer server = StartEcho({"--tls_cert=" + pki_->server_cert,
                                 "--tls_key=" + pki_->server_key, "--tls_ca=" + pki_->ca_cert});
  ASSERT_GT(server.port, 0);
  EXPECT_TRUE(Say(Connect(server.target(), {.tls_cert_file = pki_->client_cert,
                                            .tls_key_file = pki_->client_key,
                                            .tls_ca_file = pki_->ca_cert}),
                  "member")
                  .ok());
  EXPECT_FALSE(
      Say(Connect(server.target(), {.tls_ca_file = pki_->ca_cert}), "no cert", 0, 0,
          absl::Seconds(3))
          .ok());
  EXPECT_FALSE(Say(Connect(server.target(), {.tls_cert_file = pki_->stranger_cert,
                                             .tls_key_file = pki_->stranger_key,
                                             .tls_ca_file = pki_->ca_cert}),
                   "stranger", 0, 0, absl::Seconds(3))
                   .ok());
}

TEST_F(SecureScaffoldTest, TokensAreCheckedExceptForHealth) {
  EchoServer server = StartEcho({"--tls_cert=" + pki_->server_cert,
                                 "--tls_key=" + pki_->server_key,
                                 "--auth_token_file=" + *dir_ + "/token"});
  ASSERT_GT(server.port, 0);
  auto with_token = [&](const std::string& file) {
    return Connect(server.target(), {.tls_ca_file = pki_->ca_cert, .auth_token_file = file});
  };
  EXPECT_TRUE(Say(with_token(*dir_ + "/token"), "let me in").ok());
  grpc::Status wrong = Say(with_token(*dir_ + "/wrong_token"), "guess");
  EXPECT_EQ(wrong.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_THAT(wrong.error_message(), HasSubstr("invalid bearer token"));
  rpc::ClientChannel anonymous = Connect(server.target(), {.tls_ca_file = pki_->ca_cert});
  grpc::Status none = Say(anonymous, "anonymous");
  EXPECT_EQ(none.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_THAT(none.error_message(), HasSubstr("missing bearer token"));
  EXPECT_EQ(CheckHealth(anonymous), HealthCheckResponse::SERVING);
}

}  // namespace
}  // namespace transaxx
