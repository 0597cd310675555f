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

}  // namespace transaxx::rpc
