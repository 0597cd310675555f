#include "libs/approx/torch/weight_operand_cache.h"

#include <c10/core/TensorImpl.h>
#include <c10/util/intrusive_ptr.h>

#include <cstdint>
#include <iterator>
#include <list>
#include <mutex>
#include <utility>
#include <vector>

namespace transaxx::approx {
namespace {

using WeakImpl = c10::weak_intrusive_ptr<c10::TensorImpl, c10::UndefinedTensorImpl>;

// What must not have changed since an operand was built from a weight.
struct Fingerprint {
  int64_t version = 0;
  const void* data = nullptr;
  std::vector<int64_t> sizes, strides;
  c10::Device device = c10::kCPU;

  bool operator==(const Fingerprint&) const = default;
};

Fingerprint Of(const at::Tensor& weight) {
  return {weight._version(), weight.data_ptr(), weight.sizes().vec(), weight.strides().vec(),
          weight.device()};
}

struct Entry {
  WeakImpl impl;  // keeps the address from being reused while the entry lives
  int kind;
  Fingerprint fingerprint;
  std::shared_ptr<const WeightOperand> operand;

  bool Matches(const c10::TensorImpl* target, int quantization_kind) const {
    return impl._unsafe_get_target() == target && kind == quantization_kind;
  }
};

class Cache {
 public:
  std::shared_ptr<const WeightOperand> Find(const at::Tensor& weight, int kind) {
    const std::lock_guard<std::mutex> lock(mu_);
    for (auto it = entries_.begin(); it != entries_.end(); ++it) {
      if (!it->Matches(weight.unsafeGetTensorImpl(), kind)) continue;
      if (it->fingerprint != Of(weight)) {
        entries_.erase(it);  // the weight was written or reshaped in place
        return nullptr;
      }
      entries_.splice(entries_.begin(), entries_, it);
      return it->operand;
    }
    return nullptr;
  }

  void Add(const at::Tensor& weight, int kind, Fingerprint fingerprint,
           std::shared_ptr<const WeightOperand> operand) {
    const std::lock_guard<std::mutex> lock(mu_);
    // Another thread may have added this weight meanwhile; entries of freed
    // weights only hold memory.
    entries_.remove_if([&](const Entry& e) {
      return e.impl.expired() || e.Matches(weight.unsafeGetTensorImpl(), kind);
    });
    entries_.push_front(
        {WeakImpl(weight.getIntrusivePtr()), kind, std::move(fingerprint), std::move(operand)});
    while (entries_.size() > kWeightOperandCacheCapacity) entries_.pop_back();
  }

  size_t Size() {
    const std::lock_guard<std::mutex> lock(mu_);
    return entries_.size();
  }

 private:
  std::mutex mu_;
  std::list<Entry> entries_;  // most recently used first
};

Cache& Global() {
  // Never destroyed: layers may still run while static objects are torn down.
  static Cache* const cache = new Cache;
  return *cache;
}

}  // namespace

std::shared_ptr<const WeightOperand> CachedWeightOperand(
    const at::Tensor& weight, int quantization_kind, const std::function<WeightOperand()>& make) {
  if (!weight.defined() || weight.is_inference()) {
    return std::make_shared<const WeightOperand>(make());
  }
  if (auto cached = Global().Find(weight, quantization_kind)) return cached;
  // Taken before make(), so a write racing with it makes the entry stale
  // rather than wrong.
  Fingerprint fingerprint = Of(weight);
  auto operand = std::make_shared<const WeightOperand>(make());
  Global().Add(weight, quantization_kind, std::move(fingerprint), operand);
  return operand;
}

size_t WeightOperandCacheSize() { return Global().Size(); }

}  // namespace transaxx::approx
