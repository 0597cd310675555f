#include "libs/rpc/v1_enums.h"

namespace transaxx::rpc {

approx::LayerKind LayerKindFromProto(v1::LayerKind kind) {
  switch (kind) {
    case v1::LAYER_KIND_LINEAR:
      return approx::LayerKind::kLinear;
    case v1::LAYER_KIND_CONV2D:
      return approx::LayerKind::kConv2d;
    case v1::LAYER_KIND_ATTENTION_QK:
      return approx::LayerKind::kAttentionQk;
    case v1::LAYER_KIND_ATTENTION_AV:
      return approx::LayerKind::kAttentionAv;
    default:
      return approx::LayerKind::kUnspecified;
  }
}

v1::LayerKind LayerKindToProto(approx::LayerKind kind) {
  switch (kind) {
    case approx::LayerKind::kLinear:
      return v1::LAYER_KIND_LINEAR;
    case approx::LayerKind::kConv2d:
      return v1::LAYER_KIND_CONV2D;
    case approx::LayerKind::kAttentionQk:
      return v1::LAYER_KIND_ATTENTION_QK;
    case approx::LayerKind::kAttentionAv:
      return v1::LAYER_KIND_ATTENTION_AV;
    case approx::LayerKind::kUnspecified:
      break;
  }
  return v1::LAYER_KIND_UNSPECIFIED;
}

std::optional<approx::KernelPath> KernelPathFromProto(v1::KernelPath path) {
  switch (path) {
    case v1::KERNEL_PATH_EXACT:
      return approx::KernelPath::kExactInt8;
    case v1::KERNEL_PATH_OPERAND_MASK:
      return approx::KernelPath::kMask;
    case v1::KERNEL_PATH_LOW_RANK:
      return approx::KernelPath::kLowRank;
    case v1::KERNEL_PATH_TABLE:
      return approx::KernelPath::kTable;
    default:
      return std::nullopt;
  }
}

v1::KernelPath KernelPathToProto(approx::KernelPath path) {
  switch (path) {
    case approx::KernelPath::kExactInt8:
      return v1::KERNEL_PATH_EXACT;
    case approx::KernelPath::kMask:
      return v1::KERNEL_PATH_OPERAND_MASK;
    case approx::KernelPath::kLowRank:
      return v1::KERNEL_PATH_LOW_RANK;
    case approx::KernelPath::kTable:
      return v1::KERNEL_PATH_TABLE;
  }
  return v1::KERNEL_PATH_UNSPECIFIED;
}

}  // namespace transaxx::rpc
