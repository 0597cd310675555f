// Conversions between the v1 contract's enums and the domain types of
// libs/approx, shared by the services and the CLI so that each mapping is
// written once.
//
// Thread-safety: pure functions.
#ifndef TRANSAXX_LIBS_RPC_V1_ENUMS_H_
#define TRANSAXX_LIBS_RPC_V1_ENUMS_H_

#include <optional>

#include "libs/approx/config_power.h"
#include "libs/approx/structure.h"
#include "transaxx/v1/common.pb.h"

namespace transaxx::rpc {

// LAYER_KIND_UNSPECIFIED <-> kUnspecified; every other value to its twin.
approx::LayerKind LayerKindFromProto(v1::LayerKind kind);
v1::LayerKind LayerKindToProto(approx::LayerKind kind);

// KERNEL_PATH_UNSPECIFIED (not analysed) has no domain twin: nullopt.
std::optional<approx::KernelPath> KernelPathFromProto(v1::KernelPath path);
v1::KernelPath KernelPathToProto(approx::KernelPath path);

}  // namespace transaxx::rpc

#endif  // TRANSAXX_LIBS_RPC_V1_ENUMS_H_
