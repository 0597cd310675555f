#include "libs/approx/structure.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "libs/approx/error_metrics.h"

namespace transaxx::approx {
namespace {

using Int = __int128;
using Row = std::array<Int, 256>;

// Every value the elimination stores stays within ±2^62, so a product of
// two is below 2^124 and a sum of two products below 2^125: the int128
// arithmetic itself can never overflow, and the bound is checked after each
// row operation instead of after each multiply.
constexpr Int kEntryLimit = Int{1} << 62;

Int Abs(Int v) { return v < 0 ? -v : v; }

// A reduced basis of the integer lattice spanned by the rows added so far.
// Exactness comes from integer arithmetic alone: the basis only ever changes
// by unimodular integer row operations (swaps, b_k -= q·b_j), so it always
// spans exactly the lattice of the rows added, and membership is proven by
// an exact integer identity. Floating point (the Gram-Schmidt data of LLL)
// only chooses which operations to do, which keeps the vectors short: short
// basis vectors g_r give small coefficients f_r(a), where a Hermite normal
// form would have entries as large as the lattice determinant.
class RowLattice {
 public:
  enum class Add { kOk, kRankAboveLimit, kFailed };

  explicit RowLattice(int max_rank) : max_rank_(max_rank) {}

  // Makes `v` part of the lattice. kFailed when values would leave ±2^62 or
  // LLL does not settle (never seen; the caller then takes the table path).
  Add Insert(const Row& v) {
    std::vector<Int> unused;
    if (Coordinates(v, &unused)) return Add::kOk;
    basis_.push_back(v);
    if (!Reduce()) return Add::kFailed;
    return static_cast<int>(basis_.size()) > max_rank_ ? Add::kRankAboveLimit : Add::kOk;
  }

  // The integer coordinates of `v` in the basis, if v is in the lattice:
  // solved in floating point, rounded, then checked exactly.
  bool Coordinates(const Row& v, std::vector<Int>* coords) const {
    const size_t n = basis_.size();
    coords->assign(n, 0);
    if (n > 0) {
      // Normal equations (B·Bᵀ) c = B·v by Gaussian elimination with
      // partial pivoting; B is LLL-reduced, hence well conditioned.
      std::vector<std::vector<long double>> m(n, std::vector<long double>(n + 1));
      for (size_t i = 0; i < n; ++i) {
        for (size_t j = 0; j < n; ++j) m[i][j] = Dot(basis_[i], basis_[j]);
        m[i][n] = Dot(basis_[i], v);
      }
      for (size_t col = 0; col < n; ++col) {
        size_t pivot = col;
        for (size_t r = col + 1; r < n; ++r) {
          if (std::fabs(m[r][col]) > std::fabs(m[pivot][col])) pivot = r;
        }
        std::swap(m[col], m[pivot]);
        if (m[col][col] == 0) return false;
        for (size_t r = 0; r < n; ++r) {
          if (r == col) continue;
          const long double factor = m[r][col] / m[col][col];
          for (size_t k = col; k <= n; ++k) m[r][k] -= factor * m[col][k];
        }
      }
      for (size_t i = 0; i < n; ++i) {
        const long double c = std::round(m[i][n] / m[i][i]);
        if (!(std::fabs(c) < 1e18L)) return false;
        (*coords)[i] = static_cast<Int>(static_cast<int64_t>(c));
      }
    }
    for (int k = 0; k < 256; ++k) {
      Int sum = 0;
      for (size_t i = 0; i < n; ++i) {
        if (Abs((*coords)[i]) > kEntryLimit) return false;
        sum += (*coords)[i] * basis_[i][k];
        if (Abs(sum) > kEntryLimit) return false;
      }
      if (sum != v[k]) return false;
    }
    return true;
  }

  const std::vector<Row>& basis() const { return basis_; }

 private:
  static long double Dot(const Row& x, const Row& y) {
    long double s = 0;
    for (int k = 0; k < 256; ++k) s += static_cast<long double>(x[k]) * static_cast<long double>(y[k]);
    return s;
  }

  static bool IsZero(const Row& v) {
    return std::all_of(v.begin(), v.end(), [](Int x) { return x == 0; });
  }

  // Gram-Schmidt coefficients mu and squared norms of the orthogonalized
  // vectors, recomputed from scratch: the basis has at most max_rank + 1
  // vectors, so this is cheap and avoids accumulating rounding errors.
  void GramSchmidt(std::vector<std::vector<long double>>* mu, std::vector<long double>* norm2) const {
    const size_t n = basis_.size();
    std::vector<std::vector<long double>> star(n, std::vector<long double>(256));
    mu->assign(n, std::vector<long double>(n, 0));
    norm2->assign(n, 0);
    for (size_t i = 0; i < n; ++i) {
      for (int k = 0; k < 256; ++k) star[i][k] = static_cast<long double>(basis_[i][k]);
      for (size_t j = 0; j < i; ++j) {
        if ((*norm2)[j] == 0) continue;
        long double d = 0;
        for (int k = 0; k < 256; ++k) d += static_cast<long double>(basis_[i][k]) * star[j][k];
        (*mu)[i][j] = d / (*norm2)[j];
        for (int k = 0; k < 256; ++k) star[i][k] -= (*mu)[i][j] * star[j][k];
      }
      for (int k = 0; k < 256; ++k) (*norm2)[i] += star[i][k] * star[i][k];
    }
  }

  // LLL (delta = 0.99) on a generating set, dropping vectors that become
  // exactly zero: a row dependent on the others is ground down to zero by
  // the same Euclid-like swaps and reductions (Pohst's MLLL).
  bool Reduce() {
    constexpr long double kDelta = 0.99L;
    constexpr int kMaxSteps = 100000;
    std::vector<std::vector<long double>> mu;
    std::vector<long double> norm2;
    size_t k = 1;
    for (int step = 0; k < basis_.size(); ++step) {
      if (step == kMaxSteps) return false;
      GramSchmidt(&mu, &norm2);
      for (size_t j = k; j-- > 0;) {
        const long double q = std::round(mu[k][j]);
        if (q == 0) continue;
        if (!(std::fabs(q) < 1e18L)) return false;
        const Int qi = static_cast<Int>(static_cast<int64_t>(q));
        for (int c = 0; c < 256; ++c) {
          basis_[k][c] -= qi * basis_[j][c];
          if (Abs(basis_[k][c]) > kEntryLimit) return false;
        }
        for (size_t l = 0; l <= j; ++l) mu[k][l] -= q * (l == j ? 1 : mu[j][l]);
      }
      if (IsZero(basis_[k])) {
        basis_.erase(basis_.begin() + k);
        k = std::max<size_t>(1, k - 1);
        continue;
      }
      GramSchmidt(&mu, &norm2);
      if (norm2[k] >= (kDelta - mu[k][k - 1] * mu[k][k - 1]) * norm2[k - 1]) {
        ++k;
      } else {
        std::swap(basis_[k], basis_[k - 1]);
        k = std::max<size_t>(1, k - 1);
      }
    }
    return !basis_.empty() && !IsZero(basis_[0]);
  }

  int max_rank_;
  std::vector<Row> basis_;
};

int ToInt8(int byte) { return static_cast<int8_t>(static_cast<uint8_t>(byte)); }

std::optional<MaskForm> FindMaskForm(const Table& t) {
  for (int ka = 0; ka < 8; ++ka) {
    for (int kb = 0; kb < 8; ++kb) {
      const int ma = (1 << ka) - 1, mb = (1 << kb) - 1;
      bool match = true;
      for (int a = -128; a < 128 && match; ++a) {
        for (int b = -128; b < 128; ++b) {
          if (t[TableIndex(a, b)] != (a & ~ma) * (b & ~mb)) {
            match = false;
            break;
          }
        }
      }
      if (match) return MaskForm{ma, mb};
    }
  }
  return std::nullopt;
}

// Checks the decomposition on every operand pair with arithmetic that cannot
// overflow (|f|, |g| < 2^31 and rank <= 256 keep the sum below 2^71).
bool Reproduces(const Decomposition& d, const Table& t) {
  for (int ua = 0; ua < 256; ++ua) {
    for (int ub = 0; ub < 256; ++ub) {
      Int sum = d.with_product ? Int{ToInt8(ua)} * ToInt8(ub) : 0;
      for (int r = 0; r < d.rank; ++r) sum += Int{d.f[r][ua]} * d.g[r][ub];
      if (sum != t[(ua << 8) | ub]) return false;
    }
  }
  return true;
}

// An integer factoring of the error matrix,
// T(a, b) - a·b = Σ_{r<rank} f_r(a)·g_r(b), and of the table itself when the
// product's row b ↦ b is an integer combination Σ_r c_r·g_r of the basis:
// then T(a, b) = Σ_r (f_r(a) + c_r·a)·g_r(b), one term fewer. That happens
// when a term undoes part of the product, as (a & 1)·(-b) does. Folding
// misses tables where only a multiple of b lies in the lattice, such as
// (a - 2·(a & 1))·b; their T would need its own lattice, whose short basis
// has larger coefficients.
struct Factoring {
  RowLattice::Add outcome = RowLattice::Add::kOk;  // of inserting E's rows
  Decomposition error;                             // set when outcome is kOk
  std::optional<Decomposition> table;              // with_product false
};

int64_t MaxAbs(const Decomposition& d) {
  int64_t m = 0;
  for (int r = 0; r < d.rank; ++r) {
    for (int byte = 0; byte < 256; ++byte) {
      m = std::max({m, std::abs(d.f[r][byte]), std::abs(d.g[r][byte])});
    }
  }
  return m;
}

// The basis vectors of the rows' lattice are g_r, each row's coordinates
// f_r(a): basis vectors that stay independent through exact integer
// operations number the rank over the rationals. INTERNAL if a row is not
// found in the lattice it helped span (a bug).
absl::StatusOr<Factoring> Factor(const Multiplier& multiplier, int max_rank) {
  const Table& t = multiplier.int8_table();
  Factoring out;
  RowLattice lattice(max_rank);
  std::vector<Row> rows(256);
  for (int ua = 0; ua < 256 && out.outcome == RowLattice::Add::kOk; ++ua) {
    for (int ub = 0; ub < 256; ++ub) {
      rows[ua][ub] = Int{t[(ua << 8) | ub]} - Int{ToInt8(ua)} * ToInt8(ub);
    }
    out.outcome = lattice.Insert(rows[ua]);
  }
  if (out.outcome != RowLattice::Add::kOk) return out;
  Decomposition& d = out.error;
  d.rank = static_cast<int>(lattice.basis().size());
  d.f.assign(d.rank, {});
  d.g.assign(d.rank, {});
  std::vector<Int> coords;
  for (int ua = 0; ua < 256; ++ua) {
    if (!lattice.Coordinates(rows[ua], &coords)) {
      return absl::InternalError(absl::StrCat("structure of ", multiplier.id(), ": row ", ua,
                                              " of the error matrix left its own lattice"));
    }
    for (int r = 0; r < d.rank; ++r) d.f[r][ua] = static_cast<int64_t>(coords[r]);
  }
  for (int r = 0; r < d.rank; ++r) {
    for (int ub = 0; ub < 256; ++ub) d.g[r][ub] = static_cast<int64_t>(lattice.basis()[r][ub]);
  }
  Row product;
  for (int ub = 0; ub < 256; ++ub) product[ub] = ToInt8(ub);
  if (!lattice.Coordinates(product, &coords)) return out;
  // |c_r| <= 2^62, so c_r·a + f_r(a) stays below 2^70 in int128.
  Decomposition table = d;
  table.with_product = false;
  for (int r = 0; r < d.rank; ++r) {
    for (int ua = 0; ua < 256; ++ua) {
      const Int folded = coords[r] * ToInt8(ua) + d.f[r][ua];
      if (Abs(folded) > kEntryLimit) return out;
      table.f[r][ua] = static_cast<int64_t>(folded);
    }
  }
  out.table = std::move(table);
  return out;
}

absl::Status VerificationFailure(const Multiplier& multiplier, const Decomposition& d) {
  return absl::InternalError(
      absl::StrCat("structure of ", multiplier.id(), ": the rank-", d.rank, " decomposition of ",
                   d.with_product ? "its error" : "its table", " fails verification"));
}

std::string MaskOperand(const char* name, int mask) {
  return mask == 0 ? name : absl::StrCat("(", name, " & ~", mask, ")");
}

}  // namespace

const char* KernelPathName(KernelPath path) {
  switch (path) {
    case KernelPath::kExactInt8:
      return "exact_int8";
    case KernelPath::kMask:
      return "mask";
    case KernelPath::kLowRank:
      return "low_rank";
    case KernelPath::kTable:
      return "table";
  }
  return "table";
}

std::string Structure::Describe() const {
  switch (path) {
    case KernelPath::kExactInt8:
      return "exact: plain int8 GEMM";
    case KernelPath::kMask:
      return absl::StrCat("mask: ", MaskOperand("A", mask->a_mask), "·",
                          MaskOperand("B", mask->b_mask));
    case KernelPath::kLowRank:
      return absl::StrCat("low-rank: a·b + ", decomposition->rank, " separable term",
                          decomposition->rank == 1 ? "" : "s", " (rank ", decomposition->rank, ")",
                          table_decomposition ? "; a·b can fold into them" : "");
    case KernelPath::kTable:
      break;
  }
  return absl::StrCat("table: error rank ", error_rank, ", generic table kernel",
                      table_reason.empty() ? "" : absl::StrCat(" (", table_reason, ")"));
}

absl::StatusOr<Structure> AnalyzeStructure(const Multiplier& multiplier,
                                           const StructureOptions& options) {
  if (options.max_rank < 0 || options.max_rank > 256) {
    return absl::InvalidArgumentError(
        absl::StrCat("max_rank must be in 0..256, not ", options.max_rank));
  }
  constexpr int64_t kMaxCoefficientBound = (int64_t{1} << 31) - 1;
  if (options.max_abs_coefficient < 1 || options.max_abs_coefficient > kMaxCoefficientBound) {
    return absl::InvalidArgumentError(absl::StrCat("max_abs_coefficient must be in 1..",
                                                   kMaxCoefficientBound, ", not ",
                                                   options.max_abs_coefficient));
  }
  const Table& t = multiplier.int8_table();
  Structure s;
  s.mask = FindMaskForm(t);

  absl::StatusOr<Factoring> factored = Factor(multiplier, options.max_rank);
  if (!factored.ok()) return factored.status();
  const Factoring& factoring = *factored;
  if (factoring.outcome == RowLattice::Add::kOk) {
    s.error_rank = factoring.error.rank;
    const int64_t max_abs = MaxAbs(factoring.error);
    if (max_abs <= options.max_abs_coefficient) {
      if (!Reproduces(factoring.error, t)) return VerificationFailure(multiplier, factoring.error);
      s.decomposition = factoring.error;
      if (factoring.table && MaxAbs(*factoring.table) <= options.max_abs_coefficient) {
        if (!Reproduces(*factoring.table, t)) {
          return VerificationFailure(multiplier, *factoring.table);
        }
        s.table_decomposition = factoring.table;
      }
    } else {
      s.table_reason = absl::StrCat("decomposition coefficients up to ", max_abs, " exceed ",
                                    options.max_abs_coefficient);
    }
  } else {
    // Unsigned circuits serve int8 through sign-magnitude, a different
    // matrix from their own table, so the rank is taken of int8_table().
    absl::StatusOr<Multiplier> int8 =
        multiplier.is_signed()
            ? absl::StatusOr<Multiplier>(multiplier)
            : Multiplier::Create(multiplier.id(), Signedness::kSigned, t);
    if (!int8.ok()) return int8.status();
    s.error_rank = ErrorRank(*int8);
    s.table_reason = factoring.outcome == RowLattice::Add::kRankAboveLimit
                         ? absl::StrCat("rank above ", options.max_rank)
                         : "no exact integer decomposition found within 2^62";
  }

  if (s.error_rank == 0) {
    s.path = KernelPath::kExactInt8;
  } else if (s.mask) {
    s.path = KernelPath::kMask;
  } else if (s.decomposition) {
    s.path = KernelPath::kLowRank;
  } else {
    s.path = KernelPath::kTable;
  }
  if (s.path != KernelPath::kTable) s.table_reason.clear();
  return s;
}

}  // namespace transaxx::approx
