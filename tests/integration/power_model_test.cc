// Starts transaxx-power-model as a real process on loopback, with the
// EvoApprox reference tables and a temporary state folder, and checks every
// RPC over real gRPC: figures, estimates, bad input, persistence across a
// restart, concurrency, and the transaxx CLI against it.
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <thread>

#include <gmock/gmock.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "libs/approx/builtin.h"
#include "libs/approx/table_io.h"
#include "libs/rpc/client_channel.h"
#include "tests/support/subprocess.h"
#include "transaxx/v1/power_model.grpc.pb.h"

namespace transaxx {
namespace {

namespace v1 = transaxx::v1;
using ::testing::HasSubstr;
using transaxx::testing::Subprocess;

const std::string kEvo = TRANSAXX_EVOAPPROX_DIR;

class PowerModelTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    state_dir_ = new std::string(::testing::TempDir() + "/power_model_state_" +
                                 std::to_string(getpid()));
    std::filesystem::remove_all(*state_dir_);
    Start();
  }
  static void TearDownTestSuite() {
    Stop();
    std::filesystem::remove_all(*state_dir_);
    delete state_dir_;
  }
  static void Start() {
    auto p = Subprocess::Start({TRANSAXX_POWER_MODEL, "--listen=127.0.0.1:0",
                                "--metrics_listen=", "--multipliers_dir=" + kEvo,
                                "--state_dir=" + *state_dir_, "--warm_builtins=false"});
    ASSERT_TRUE(p.ok()) << p.status();
    process_ = p->release();
    auto line = process_->WaitForLine("\"msg\":\"serving\"", absl::Seconds(30));
    ASSERT_TRUE(line.ok()) << line.status() << process_->output();
    port_ = std::atoi(transaxx::testing::JsonField(*line, "grpc_port").c_str());
    rpc::ChannelOptions options;
    options.target = Target();
    auto channel = rpc::ClientChannel::Create(options);
    ASSERT_TRUE(channel.ok());
    stub_ = v1::PowerModel::NewStub(channel->channel()).release();
  }
  static void Stop() {
    delete stub_;
    stub_ = nullptr;
    if (process_ != nullptr) {
      process_->Signal(SIGTERM);
      EXPECT_TRUE(process_->Wait(absl::Seconds(30)).ok());
      delete process_;
      process_ = nullptr;
    }
  }
  static std::string Target() { return absl::StrCat("127.0.0.1:", port_); }

  static std::unique_ptr<grpc::ClientContext> Call(absl::Duration d = absl::Seconds(60)) {
    auto c = std::make_unique<grpc::ClientContext>();
    c->set_deadline(std::chrono::system_clock::now() + absl::ToChronoSeconds(d));
    return c;
  }

  static grpc::Status Estimate(const v1::EstimatePowerRequest& r, v1::EstimatePowerResponse* out) {
    return stub_->EstimatePower(Call().get(), r, out);
  }

  static inline std::string* state_dir_ = nullptr;
  static inline Subprocess* process_ = nullptr;
  static inline int port_ = 0;
  static inline v1::PowerModel::Stub* stub_ = nullptr;
};

void ExpectError(const grpc::Status& s, grpc::StatusCode code, const std::string& needle) {
  EXPECT_EQ(s.error_code(), code) << s.error_message();
  EXPECT_THAT(s.error_message(), HasSubstr(needle));
}

// Published figures of the reference data, as multipliers.json gives them.
constexpr double kExactSignedMw = 0.425;  // mul8s_1KV6
constexpr double k1L2JMw = 0.301;         // mul8s_1L2J

v1::EstimatePowerRequest ThreeLayerRequest() {
  v1::EstimatePowerRequest r;
  auto add = [&](const std::string& name, int64_t macs) {
    v1::LayerMacs* l = r.add_layers();
    l->set_name(name);
    l->set_macs_per_image(macs);
    l->set_kind(v1::LAYER_KIND_LINEAR);
  };
  add("blocks.0.attn.qkv", 100);
  add("blocks.0.mlp.fc1", 300);
  add("head", 600);
  r.mutable_configuration()->mutable_default_multiplier()->set_id("exact");
  v1::LayerAssignment* a = r.mutable_configuration()->add_assignments();
  a->set_layer("blocks.0.mlp.fc1");
  a->mutable_multiplier()->set_id("evo:mul8s_1L2J");
  return r;
}

TEST_F(PowerModelTest, PublishedFiguresServedUnchanged) {
  v1::GetMultiplierRequest req;
  req.mutable_multiplier()->set_id("evo:mul8s_1L2J");
  v1::GetMultiplierResponse resp;
  grpc::Status s = stub_->GetMultiplier(Call().get(), req, &resp);
  ASSERT_TRUE(s.ok()) << s.error_message();
  const v1::HardwareFigures& h = resp.multiplier().hardware();
  EXPECT_EQ(h.provenance(), v1::FIGURE_PROVENANCE_PUBLISHED);
  EXPECT_DOUBLE_EQ(h.power_mw(), k1L2JMw);
  EXPECT_DOUBLE_EQ(h.relative_power(), k1L2JMw / kExactSignedMw);
  EXPECT_EQ(h.relative_to().id(), "evo:mul8s_1KV6");
  EXPECT_EQ(resp.multiplier().signedness(), v1::SIGNEDNESS_SIGNED);
  // The masking built-in with the same table is not listed by default;
  // same_table holds the listed ones only.
  auto published = approx::ReadPublishedFigures(kEvo + "/multipliers.json");
  ASSERT_TRUE(published.ok());
  for (const approx::PublishedFigures& p : *published) {
    if (p.name == "mul8s_1L2J") {
      EXPECT_DOUBLE_EQ(*p.power_mw, h.power_mw());
      EXPECT_DOUBLE_EQ(*p.area_um2, h.area_um2());
      EXPECT_DOUBLE_EQ(*p.delay_ns, h.delay_ns());
    }
  }
  // Unsigned records are relative to the exact unsigned circuit.
  req.mutable_multiplier()->set_id("evo:mul8u_2V0");
  s = stub_->GetMultiplier(Call().get(), req, &resp);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(resp.multiplier().hardware().relative_to().id(), "evo:mul8u_1JJQ");
}

TEST_F(PowerModelTest, MultipliersCarryTheirKernelPath) {
  const std::pair<const char*, v1::KernelPath> cases[] = {
      {"evo:mul8s_1KV6", v1::KERNEL_PATH_EXACT},
      {"evo:mul8s_1L2J", v1::KERNEL_PATH_OPERAND_MASK},
      {"evo:mul8s_1KVA", v1::KERNEL_PATH_LOW_RANK},
      {"evo:mul8u_GJM", v1::KERNEL_PATH_TABLE}};
  for (const auto& [id, path] : cases) {
    v1::GetMultiplierRequest req;
    req.mutable_multiplier()->set_id(id);
    v1::GetMultiplierResponse resp;
    grpc::Status s = stub_->GetMultiplier(Call().get(), req, &resp);
    ASSERT_TRUE(s.ok()) << id << ": " << s.error_message();
    EXPECT_EQ(resp.multiplier().structure().kernel_path(), path) << id;
    EXPECT_FALSE(resp.multiplier().structure().description().empty()) << id;
  }
  v1::GetMultiplierRequest req;
  req.mutable_multiplier()->set_id("evo:mul8s_1KVA");
  v1::GetMultiplierResponse resp;
  ASSERT_TRUE(stub_->GetMultiplier(Call().get(), req, &resp).ok());
  EXPECT_EQ(resp.multiplier().structure().decomposition_rank(), 4);
}

TEST_F(PowerModelTest, RelativePowerOfHandComputedConfigurations) {
  v1::EstimatePowerResponse resp;
  grpc::Status s = Estimate(ThreeLayerRequest(), &resp);
  ASSERT_TRUE(s.ok()) << s.error_message();
  const double rel = k1L2JMw / kExactSignedMw;
  EXPECT_NEAR(resp.power().relative_power(), 0.1 + 0.3 * rel + 0.6, 1e-12);
  EXPECT_NEAR(resp.approximated_mac_fraction(), 0.3, 1e-12);
  EXPECT_NEAR(resp.approximated_power_share(), 0.3 * rel, 1e-12);
  EXPECT_NEAR(resp.power().power_mw(), 0.7 * kExactSignedMw + 0.3 * k1L2JMw, 1e-12);
  EXPECT_EQ(resp.power().provenance(), v1::FIGURE_PROVENANCE_PUBLISHED);
  EXPECT_EQ(resp.total_macs_per_image(), 1000);
  ASSERT_EQ(resp.layers_size(), 3);
  EXPECT_EQ(resp.layers(1).multiplier().id(), "evo:mul8s_1L2J");
  EXPECT_EQ(resp.config_hash().size(), 64u);
  // All layers on 1L2N through the default only.
  v1::EstimatePowerRequest all = ThreeLayerRequest();
  all.mutable_configuration()->clear_assignments();
  all.mutable_configuration()->mutable_default_multiplier()->set_id("evo:mul8s_1L2N");
  s = Estimate(all, &resp);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_NEAR(resp.power().relative_power(), 0.126 / kExactSignedMw, 1e-12);
  EXPECT_NEAR(resp.approximated_mac_fraction(), 1.0, 1e-12);
  // `exact` and the exact EvoApprox circuit are the same arithmetic: same hash.
  v1::EstimatePowerRequest a = ThreeLayerRequest(), b = ThreeLayerRequest();
  a.mutable_configuration()->clear_assignments();
  b.mutable_configuration()->clear_assignments();
  b.mutable_configuration()->mutable_default_multiplier()->set_id("evo:mul8s_1KV6");
  v1::EstimatePowerResponse ra, rb;
  ASSERT_TRUE(Estimate(a, &ra).ok());
  ASSERT_TRUE(Estimate(b, &rb).ok());
  EXPECT_EQ(ra.config_hash(), rb.config_hash());
  EXPECT_DOUBLE_EQ(ra.power().relative_power(), 1.0);
}

TEST_F(PowerModelTest, SynthesisEstimateOfExactAndMasked) {
  if (std::system("yosys -V > /dev/null 2>&1") != 0) {
    GTEST_SKIP() << "Yosys is not installed (Debian package yosys): synthesis estimates untested";
  }
  v1::GetMultiplierRequest req;
  v1::GetMultiplierResponse resp;
  req.mutable_multiplier()->set_id("exact");
  grpc::Status s = stub_->GetMultiplier(Call(absl::Seconds(120)).get(), req, &resp);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_DOUBLE_EQ(resp.multiplier().hardware().relative_power(), 1.0);
  req.mutable_multiplier()->set_id("mask:a=3,b=3");
  s = stub_->GetMultiplier(Call(absl::Seconds(120)).get(), req, &resp);
  ASSERT_TRUE(s.ok()) << s.error_message();
  const v1::HardwareFigures& h = resp.multiplier().hardware();
  EXPECT_EQ(h.provenance(), v1::FIGURE_PROVENANCE_ESTIMATED);
  EXPECT_GT(h.relative_power(), 0.3);
  EXPECT_LT(h.relative_power(), 0.7);  // published 1L2L: 0.471
  EXPECT_GT(h.transistor_count(), 0);
  EXPECT_NEAR(h.power_mw(), h.relative_power() * kExactSignedMw, 1e-9);
  // In a configuration its provenance makes the whole estimate ESTIMATED.
  v1::EstimatePowerRequest r = ThreeLayerRequest();
  r.mutable_configuration()->mutable_assignments(0)->mutable_multiplier()->set_id("mask:a=3,b=3");
  v1::EstimatePowerResponse er;
  s = Estimate(r, &er);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(er.power().provenance(), v1::FIGURE_PROVENANCE_ESTIMATED);
  EXPECT_NEAR(er.power().relative_power(), 0.1 + 0.3 * h.relative_power() + 0.6, 1e-9);
}

TEST_F(PowerModelTest, EstimatePowerBadInput) {
  using C = grpc::StatusCode;
  v1::EstimatePowerResponse resp;
  auto check = [&](const std::function<void(v1::EstimatePowerRequest&)>& edit, C code,
                   const std::string& needle) {
    v1::EstimatePowerRequest r = ThreeLayerRequest();
    edit(r);
    ExpectError(Estimate(r, &resp), code, needle);
  };
  check([](auto& r) { r.clear_layers(); }, C::INVALID_ARGUMENT, "layers: empty");
  check([](auto& r) { r.mutable_layers(1)->set_name(""); }, C::INVALID_ARGUMENT, "layers[1].name");
  check([](auto& r) { r.mutable_layers(2)->set_name("head"); r.mutable_layers(1)->set_name("head"); },
        C::INVALID_ARGUMENT, "listed twice");
  check([](auto& r) { r.mutable_layers(0)->set_macs_per_image(-1); }, C::INVALID_ARGUMENT,
        "layers[0].macs_per_image");
  check([](auto& r) { for (auto& l : *r.mutable_layers()) l.set_macs_per_image(0); },
        C::INVALID_ARGUMENT, "every macs_per_image is 0");
  check([](auto& r) { r.clear_configuration(); }, C::INVALID_ARGUMENT, "configuration: empty");
  check([](auto& r) { r.mutable_configuration()->mutable_assignments(0)->set_layer("nope"); },
        C::INVALID_ARGUMENT, "configuration.assignments[0].layer: 'nope'");
  check([](auto& r) { r.mutable_configuration()->clear_default_multiplier(); }, C::INVALID_ARGUMENT,
        "has no multiplier");
  check([](auto& r) {
          r.mutable_configuration()->mutable_assignments(0)->mutable_multiplier()->set_id("evo:nope");
        },
        C::INVALID_ARGUMENT, "configuration.assignments[0].multiplier.id");
  check([](auto& r) {
          r.mutable_configuration()->mutable_default_multiplier()->set_id("drum:k=99");
        },
        C::INVALID_ARGUMENT, "configuration.default_multiplier.id");
  check([](auto& r) {
          r.mutable_configuration()->mutable_assignments(0)->mutable_multiplier()->set_content_hash(
              std::string(64, '0'));
        },
        C::FAILED_PRECONDITION, "configuration.assignments[0].multiplier.content_hash");
}

TEST_F(PowerModelTest, GetAndListBadInput) {
  using C = grpc::StatusCode;
  v1::GetMultiplierResponse g;
  v1::GetMultiplierRequest req;
  ExpectError(stub_->GetMultiplier(Call().get(), req, &g), C::INVALID_ARGUMENT, "multiplier.id");
  req.mutable_multiplier()->set_id("evo:mul8s_NOPE");
  ExpectError(stub_->GetMultiplier(Call().get(), req, &g), C::NOT_FOUND, "multiplier.id");
  req.mutable_multiplier()->set_id("drum:q=1");
  ExpectError(stub_->GetMultiplier(Call().get(), req, &g), C::INVALID_ARGUMENT, "multiplier.id");
  req.mutable_multiplier()->set_id("evo:mul8s_1L2J");
  req.mutable_multiplier()->set_content_hash(std::string(64, 'a'));
  ExpectError(stub_->GetMultiplier(Call().get(), req, &g), C::FAILED_PRECONDITION,
              "multiplier.content_hash");
  req.mutable_multiplier()->clear_id();
  ExpectError(stub_->GetMultiplier(Call().get(), req, &g), C::NOT_FOUND, "multiplier.content_hash");
  req.mutable_multiplier()->set_content_hash("xyz");
  ExpectError(stub_->GetMultiplier(Call().get(), req, &g), C::INVALID_ARGUMENT,
              "multiplier.content_hash");

  v1::ListMultipliersRequest lr;
  v1::ListMultipliersResponse l;
  lr.mutable_filter()->add_id_globs("evo:[mul");
  ExpectError(stub_->ListMultipliers(Call().get(), lr, &l), C::INVALID_ARGUMENT,
              "filter.id_globs[0]");
  lr.Clear();
  lr.set_page_size(-1);
  ExpectError(stub_->ListMultipliers(Call().get(), lr, &l), C::INVALID_ARGUMENT, "page_size");
  lr.Clear();
  lr.set_page_token("garbage");
  ExpectError(stub_->ListMultipliers(Call().get(), lr, &l), C::INVALID_ARGUMENT, "page_token");
}

TEST_F(PowerModelTest, ListFiltersAndPages) {
  v1::ListMultipliersRequest lr;
  lr.mutable_filter()->add_id_globs("evo:mul8s_*");
  lr.set_page_size(5);
  std::vector<std::string> ids;
  for (int pages = 0; pages < 10; ++pages) {
    v1::ListMultipliersResponse l;
    grpc::Status s = stub_->ListMultipliers(Call().get(), lr, &l);
    ASSERT_TRUE(s.ok()) << s.error_message();
    EXPECT_EQ(l.total_size(), 13);
    for (const auto& m : l.multipliers()) ids.push_back(m.ref().id());
    if (l.next_page_token().empty()) break;
    lr.set_page_token(l.next_page_token());
  }
  ASSERT_EQ(ids.size(), 13u);
  EXPECT_TRUE(std::is_sorted(ids.begin(), ids.end()));
  // A token of one filter is refused for another.
  v1::ListMultipliersRequest other;
  other.set_page_token(lr.page_token());
  v1::ListMultipliersResponse l;
  ExpectError(stub_->ListMultipliers(Call().get(), other, &l), grpc::StatusCode::INVALID_ARGUMENT,
              "page_token");
  other.Clear();
  other.mutable_filter()->set_signedness(v1::SIGNEDNESS_UNSIGNED);
  ASSERT_TRUE(stub_->ListMultipliers(Call().get(), other, &l).ok());
  EXPECT_EQ(l.total_size(), 6);
}

approx::Table MaskTable() { return approx::MakeBuiltin("mask:a=1")->table(); }

TEST_F(PowerModelTest, CharacterizeBadInput) {
  using C = grpc::StatusCode;
  v1::CharacterizeMultiplierResponse resp;
  auto check = [&](const std::function<void(v1::CharacterizeMultiplierRequest&)>& edit, C code,
                   const std::string& needle) {
    v1::CharacterizeMultiplierRequest r;
    r.set_signedness(v1::SIGNEDNESS_SIGNED);
    r.set_name("bad_case");
    r.set_add_to_catalog(true);
    for (int32_t v : MaskTable()) r.mutable_values()->add_entries(v);
    edit(r);
    ExpectError(stub_->CharacterizeMultiplier(Call().get(), r, &resp), code, needle);
  };
  check([](auto& r) { r.clear_values(); }, C::INVALID_ARGUMENT, "table: required");
  check([](auto& r) { r.mutable_values()->mutable_entries()->RemoveLast(); }, C::INVALID_ARGUMENT,
        "values.entries: 65535 entries");
  check([](auto& r) { r.set_table_bytes(std::string(1000, '\0')); }, C::INVALID_ARGUMENT,
        "table_bytes: 1000 bytes");
  check([](auto& r) {
          r.set_encoding(v1::TABLE_ENCODING_LUT16_LE);
          r.set_table_bytes(std::string(262144, '\0'));
        },
        C::INVALID_ARGUMENT, "expected 131072");
  check([](auto& r) { r.mutable_values()->set_entries(approx::TableIndex(-1, 2), 40000); },
        C::INVALID_ARGUMENT, "A=-1, B=2");
  check([](auto& r) { r.set_signedness(v1::SIGNEDNESS_UNSPECIFIED); }, C::INVALID_ARGUMENT,
        "signedness");
  check([](auto& r) { r.set_name("bad name!"); }, C::INVALID_ARGUMENT, "name");
  check([](auto& r) { r.set_name(std::string(65, 'x')); }, C::INVALID_ARGUMENT, "name");
  check([](auto& r) { r.set_verilog_top_module("mult"); }, C::INVALID_ARGUMENT,
        "verilog_top_module: given without verilog");
  check(
      [](auto& r) {
        r.set_verilog("module mult(input [7:0] a, input [7:0] b, output [15:0] p);\n"
                      "  assign p = a;\nendmodule\n");
        r.set_verilog_top_module("mult; shell");
      },
      C::INVALID_ARGUMENT, "not a Verilog identifier");
  // Nothing was added by the bad requests.
  v1::GetMultiplierRequest g;
  g.mutable_multiplier()->set_id("user:bad_case");
  v1::GetMultiplierResponse gr;
  EXPECT_EQ(stub_->GetMultiplier(Call().get(), g, &gr).error_code(), grpc::StatusCode::NOT_FOUND);
}

TEST_F(PowerModelTest, CharacterizeAddRestartStillListed) {
  v1::CharacterizeMultiplierRequest r;
  r.set_signedness(v1::SIGNEDNESS_SIGNED);
  r.set_name("my_mask");
  r.set_description("mask:a=1 uploaded as LUT16 bytes");
  r.set_add_to_catalog(true);
  r.set_encoding(v1::TABLE_ENCODING_LUT16_LE);
  std::string bytes;
  for (int32_t v : MaskTable()) {
    bytes.push_back(static_cast<char>(v & 0xff));
    bytes.push_back(static_cast<char>((v >> 8) & 0xff));
  }
  r.set_table_bytes(bytes);
  v1::CharacterizeMultiplierResponse resp;
  grpc::Status s = stub_->CharacterizeMultiplier(Call().get(), r, &resp);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_TRUE(resp.added());
  EXPECT_EQ(resp.multiplier().ref().id(), "user:my_mask");
  EXPECT_EQ(resp.multiplier().ref().content_hash(), approx::MakeBuiltin("mask:a=1")->content_hash());
  EXPECT_EQ(resp.multiplier().hardware().provenance(), v1::FIGURE_PROVENANCE_UNKNOWN);
  bool has_evo = false;
  for (const auto& ref : resp.same_table()) has_evo |= ref.id() == "evo:mul8s_1KVM";
  EXPECT_TRUE(has_evo);
  // The same again: not added, no error; another table under the name: ALREADY_EXISTS.
  ASSERT_TRUE(stub_->CharacterizeMultiplier(Call().get(), r, &resp).ok());
  EXPECT_FALSE(resp.added());
  r.clear_table_bytes();
  const approx::Multiplier exact = *approx::MakeBuiltin("exact");
  for (int32_t v : exact.table()) r.mutable_values()->add_entries(v);
  ExpectError(stub_->CharacterizeMultiplier(Call().get(), r, &resp),
              grpc::StatusCode::ALREADY_EXISTS, "user:my_mask");
  // Its relative power is unknown: EstimatePower names it.
  v1::EstimatePowerRequest e = ThreeLayerRequest();
  e.mutable_configuration()->mutable_assignments(0)->mutable_multiplier()->set_id("user:my_mask");
  v1::EstimatePowerResponse er;
  ExpectError(Estimate(e, &er), grpc::StatusCode::FAILED_PRECONDITION, "user:my_mask");

  Stop();
  Start();
  v1::ListMultipliersRequest lr;
  lr.mutable_filter()->add_families("user");
  v1::ListMultipliersResponse l;
  s = stub_->ListMultipliers(Call().get(), lr, &l);
  ASSERT_TRUE(s.ok()) << s.error_message();
  ASSERT_EQ(l.multipliers_size(), 1);
  EXPECT_EQ(l.multipliers(0).ref().id(), "user:my_mask");
  EXPECT_EQ(l.multipliers(0).description(), "mask:a=1 uploaded as LUT16 bytes");
  EXPECT_EQ(l.multipliers(0).ref().content_hash(), approx::MakeBuiltin("mask:a=1")->content_hash());
}

TEST_F(PowerModelTest, CharacterizeWithVerilogEstimatesTheUploadedCircuit) {
  if (std::system("yosys -V > /dev/null 2>&1") != 0) {
    GTEST_SKIP() << "Yosys is not installed (Debian package yosys): Verilog uploads untested";
  }
  // mask:a=1 (= evo:mul8s_1KVM, published relative power 0.868) as a user
  // might describe it: a top module of their own name and a helper module.
  v1::CharacterizeMultiplierRequest r;
  r.set_signedness(v1::SIGNEDNESS_SIGNED);
  r.set_name("lsb_cleared");
  r.set_add_to_catalog(true);
  for (int32_t v : MaskTable()) r.mutable_values()->add_entries(v);
  r.set_verilog(
      "module clear_lsb(input [7:0] x, output [7:0] y);\n"
      "  assign y = {x[7:1], 1'b0};\nendmodule\n"
      "module lsb_cleared_mul(input [7:0] a, input [7:0] b, output [15:0] p);\n"
      "  wire [7:0] a_cleared;\n"
      "  clear_lsb c(.x(a), .y(a_cleared));\n"
      "  assign p = $signed(a_cleared) * $signed(b);\nendmodule\n");
  r.set_verilog_top_module("lsb_cleared_mul");
  v1::CharacterizeMultiplierResponse resp;
  grpc::Status s = stub_->CharacterizeMultiplier(Call(absl::Seconds(120)).get(), r, &resp);
  ASSERT_TRUE(s.ok()) << s.error_message();
  const v1::HardwareFigures& h = resp.multiplier().hardware();
  EXPECT_EQ(h.provenance(), v1::FIGURE_PROVENANCE_ESTIMATED);
  EXPECT_GT(h.transistor_count(), 0);
  // Yosys's own multiplier, not our array, so only roughly the built-in's.
  EXPECT_GT(h.relative_power(), 0.5);
  EXPECT_LT(h.relative_power(), 1.2);
  // Usable in a configuration at once.
  v1::EstimatePowerRequest e = ThreeLayerRequest();
  e.mutable_configuration()->mutable_assignments(0)->mutable_multiplier()->set_id(
      "user:lsb_cleared");
  v1::EstimatePowerResponse er;
  s = Estimate(e, &er);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_NEAR(er.power().relative_power(), 0.1 + 0.3 * h.relative_power() + 0.6, 1e-9);

  // Naming the helper, or a module the design lacks, is the caller's error.
  r.set_name("lsb_cleared_helper");
  r.set_verilog_top_module("clear_lsb");
  ExpectError(stub_->CharacterizeMultiplier(Call(absl::Seconds(120)).get(), r, &resp),
              grpc::StatusCode::INVALID_ARGUMENT, "input [7:0] a");
  r.set_verilog_top_module("no_such_module");
  ExpectError(stub_->CharacterizeMultiplier(Call(absl::Seconds(120)).get(), r, &resp),
              grpc::StatusCode::INVALID_ARGUMENT, "no_such_module");
}

TEST_F(PowerModelTest, ThousandConcurrentEstimates) {
  v1::EstimatePowerResponse expected;
  ASSERT_TRUE(Estimate(ThreeLayerRequest(), &expected).ok());
  constexpr int kThreads = 12, kPerThread = 84;  // 1,008 calls
  std::atomic<int> right{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        v1::EstimatePowerRequest r = ThreeLayerRequest();
        // Vary the MACs so every answer is distinct and checkable.
        const int64_t macs = 100 + t * kPerThread + i;
        r.mutable_layers(0)->set_macs_per_image(macs);
        v1::EstimatePowerResponse resp;
        if (!Estimate(r, &resp).ok()) continue;
        const double total = macs + 900.0;
        const double want = (macs + 600.0) / total + 300.0 / total * k1L2JMw / kExactSignedMw;
        if (std::abs(resp.power().relative_power() - want) < 1e-12) ++right;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(right.load(), kThreads * kPerThread);
}

TEST_F(PowerModelTest, CliAgainstServer) {
  const std::string dir = *state_dir_ + "/cli";
  std::filesystem::create_directories(dir);
  std::ofstream(dir + "/layers.json")
      << R"([{"name":"a","macs_per_image":100,"kind":"linear"},
             {"name":"b","macs_per_image":300,"kind":"linear"},
             {"name":"c","macs_per_image":600,"kind":"conv2d"}])";
  std::ofstream(dir + "/config.json")
      << R"({"default":"exact","layers":{"b":"evo:mul8s_1L2J"}})";
  auto run = [&](const std::string& args) {
    const std::string out = dir + "/out.txt";
    const int rc = std::system((std::string(TRANSAXX_CLI) + " " + args + " > " + out + " 2>&1").c_str());
    std::ifstream in(out);
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    return std::make_pair(WEXITSTATUS(rc), text);
  };
  auto [rc, text] = run("power estimate --server " + Target() + " --layers " + dir +
                        "/layers.json --config " + dir + "/config.json --output json");
  ASSERT_EQ(rc, 0) << text;
  EXPECT_THAT(text, HasSubstr("\"relative_power\""));
  const double want = 0.1 + 0.3 * k1L2JMw / kExactSignedMw + 0.6;
  EXPECT_THAT(text, HasSubstr(absl::StrCat(want).substr(0, 6)));
  std::tie(rc, text) = run("multipliers list --server " + Target() + " --match 'evo:mul8u_*'");
  ASSERT_EQ(rc, 0) << text;
  EXPECT_THAT(text, HasSubstr("evo:mul8u_1JJQ"));
  std::tie(rc, text) = run("multipliers show --server " + Target() + " evo:mul8s_1L2J --output json");
  ASSERT_EQ(rc, 0) << text;
  EXPECT_THAT(text, HasSubstr("\"kernel_path\": \"mask\""));
  std::tie(rc, text) = run("multipliers show --server " + Target() + " drum:k=4");
  ASSERT_EQ(rc, 0) << text;
  EXPECT_THAT(text, HasSubstr("kernel path: low-rank"));
  std::tie(rc, text) = run("power estimate --server 127.0.0.1:1 --layers " + dir +
                           "/layers.json --config " + dir + "/config.json --timeout 2s");
  EXPECT_EQ(rc, 1) << text;
  std::tie(rc, text) = run("power estimate --server " + Target() + " --layers " + dir +
                           "/config.json --config " + dir + "/config.json");
  EXPECT_NE(rc, 0) << text;
  std::tie(rc, text) = run("power estimate --server " + Target() + " --config " + dir +
                           "/config.json");
  EXPECT_EQ(rc, 2) << text;
}

TEST_F(PowerModelTest, CliTakesTheLayersFromAModel) {
  const std::string dir = *state_dir_ + "/cli_model";
  std::filesystem::create_directories(dir);
  std::ofstream(dir + "/config.json")
      << R"({"default":"evo:mul8s_1L2N","layers":{"head":"exact"}})";
  const std::string out = dir + "/out.json";
  const int rc = std::system((std::string(TRANSAXX_CLI) + " power estimate --server " + Target() +
                              " --model " + TRANSAXX_DEMO_MODEL_DIR + " --config " + dir +
                              "/config.json --output json > " + out + " 2>&1")
                                 .c_str());
  std::ifstream in(out);
  const nlohmann::json j = nlohmann::json::parse(in, nullptr, false);
  ASSERT_EQ(WEXITSTATUS(rc), 0) << j;
  // The demo model (vit_fm_micro_patch4_28): patch embedding 49*16*64 MACs,
  // 4 blocks of 50*64*(192 + 64 + 128 + 128), head 64*10.
  const double head = 640, total = 50176 + 4 * 50 * 64 * 512 + head;
  EXPECT_EQ(j["total_macs_per_image"], total);
  ASSERT_EQ(j["layers"].size(), 18u);
  const double k1L2NMw = 0.126;  // published PDK45 power of mul8s_1L2N
  EXPECT_NEAR(j["relative_power"].get<double>(),
              (total - head) / total * k1L2NMw / kExactSignedMw + head / total, 1e-9);
}

}  // namespace
}  // namespace transaxx
