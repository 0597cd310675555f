#include "libs/approx/torch/weight_operand_cache.h"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <c10/core/InferenceMode.h>
#include <c10/core/TensorImpl.h>
#include <c10/util/intrusive_ptr.h>

#include <atomic>
#include <cstdint>
#include <cstring>
#include <list>
#include <mutex>
#include <optional>
#include <string>
#include <utility>

namespace transaxx::approx {
namespace {

using WeakImpl = c10::weak_intrusive_ptr<c10::TensorImpl, c10::UndefinedTensorImpl>;

struct Entry {
  WeakImpl impl;  // keeps the address from being reused while the entry lives
  std::string kind;
  int64_t version;
  at::Tensor values;  // a copy of the weight the value was built from
  std::shared_ptr<const void> value;

  bool Matches(const c10::TensorImpl* target, const std::string& derivation) const {
    return impl._unsafe_get_target() == target && kind == derivation;
  }
};

// What a hit is checked against, taken under the lock.
struct Candidate {
  int64_t version;
  at::Tensor values;
  std::shared_ptr<const void> value;
};

// Whether `weight` holds the bits of `values`, a copy of it. Bits, not
// values compared with ==: what is derived from a weight depends on its bits
// alone, and a weight holding NaN would never equal its own copy. CPU
// tensors laid out alike without gaps (a weight and its clone, contiguous or
// not) are compared by memcmp on the intra-op threads: on one thread it took
// a fifth to a quarter of at::equal's time on ViT-S weights of 384x384 and
// 1536x384 floats.
bool SameBits(const at::Tensor& weight, const at::Tensor& values) {
  if (weight.device() != values.device() || weight.scalar_type() != values.scalar_type() ||
      weight.sizes() != values.sizes()) {
    return false;
  }
  if (!weight.is_cpu() || weight.strides() != values.strides() ||
      !weight.is_non_overlapping_and_dense() || !values.is_non_overlapping_and_dense()) {
    auto bytes = [](const at::Tensor& t) { return t.contiguous().flatten().view(at::kByte); };
    return at::equal(bytes(weight), bytes(values));
  }
  const auto* x = static_cast<const char*>(weight.const_data_ptr());
  const auto* y = static_cast<const char*>(values.const_data_ptr());
  std::atomic<bool> same{true};
  at::parallel_for(0, static_cast<int64_t>(weight.nbytes()), int64_t{1} << 18,
                   [&](int64_t begin, int64_t end) {
                     if (same.load(std::memory_order_relaxed) &&
                         std::memcmp(x + begin, y + begin, static_cast<size_t>(end - begin)) != 0) {
                       same.store(false, std::memory_order_relaxed);
                     }
                   });
  return same.load();
}

class Cache {
 public:
  std::optional<Candidate> Find(const at::Tensor& weight, const std::string& kind) {
    const std::lock_guard<std::mutex> lock(mu_);
    entries_.remove_if([](const Entry& e) { return e.impl.expired(); });
    for (auto it = entries_.begin(); it != entries_.end(); ++it) {
      if (!it->Matches(weight.unsafeGetTensorImpl(), kind)) continue;
      entries_.splice(entries_.begin(), entries_, it);
      return Candidate{it->version, it->values, it->value};
    }
    return std::nullopt;
  }

  void Add(const at::Tensor& weight, const std::string& kind, Candidate built) {
    const std::lock_guard<std::mutex> lock(mu_);
    // Another thread may have added this weight meanwhile.
    entries_.remove_if([&](const Entry& e) {
      return e.impl.expired() || e.Matches(weight.unsafeGetTensorImpl(), kind);
    });
    entries_.push_front({WeakImpl(weight.getIntrusivePtr()), kind, built.version,
                         std::move(built.values), std::move(built.value)});
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

std::shared_ptr<const void> CachedDerivedValue(
    const at::Tensor& weight, const std::string& kind,
    const std::function<std::shared_ptr<const void>()>& make) {
  // Values built in inference mode may be inference tensors, which autograd
  // cannot save for a later training step.
  if (!weight.defined() || weight.is_inference() || c10::InferenceMode::is_enabled()) {
    return make();
  }
  // Compared outside the lock: a pass over the weight.
  if (const std::optional<Candidate> cached = Global().Find(weight, kind);
      cached && cached->version == weight._version() && SameBits(weight, cached->values)) {
    return cached->value;
  }
  // Taken before make(), so a write racing with it makes the entry stale
  // rather than wrong.
  Candidate built{weight._version(), weight.clone(), make()};
  std::shared_ptr<const void> value = built.value;
  Global().Add(weight, kind, std::move(built));
  return value;
}

std::shared_ptr<const WeightOperand> CachedWeightOperand(
    const at::Tensor& weight, int quantization_kind, const std::function<WeightOperand()>& make) {
  return std::static_pointer_cast<const WeightOperand>(CachedDerivedValue(
      weight, "weight operand " + std::to_string(quantization_kind),
      [&] { return std::make_shared<const WeightOperand>(make()); }));
}

size_t WeightOperandCacheSize() { return Global().Size(); }

}  // namespace transaxx::approx
