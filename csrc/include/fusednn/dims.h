// Dims: a fixed-capacity list of sizes or strides, so tensor metadata never touches the heap.
#pragma once
#include <cstdint>
#include <initializer_list>
#include <ostream>

#include "fusednn/errors.h"

namespace fusednn {

constexpr int kMaxDims = 16;

class Dims {
 public:
  Dims() = default;
  explicit Dims(int n, int64_t fill = 0) : n_(checked(n)) {
    for (int i = 0; i < n_; ++i) v_[i] = fill;
  }
  Dims(std::initializer_list<int64_t> values) : n_(checked(static_cast<int>(values.size()))) {
    int i = 0;
    for (int64_t v : values) v_[i++] = v;
  }
  template <class It>
  Dims(It first, It last) {
    for (; first != last; ++first) push_back(static_cast<int64_t>(*first));
  }

  int size() const { return n_; }
  bool empty() const { return n_ == 0; }
  int64_t operator[](int i) const { return v_[i]; }
  int64_t& operator[](int i) { return v_[i]; }
  int64_t back() const { return v_[n_ - 1]; }
  const int64_t* begin() const { return v_; }
  const int64_t* end() const { return v_ + n_; }
  int64_t* begin() { return v_; }
  int64_t* end() { return v_ + n_; }

  void push_back(int64_t v) {
    checked(n_ + 1);
    v_[n_++] = v;
  }
  void insert(int pos, int64_t v) {
    checked(n_ + 1);
    for (int i = n_; i > pos; --i) v_[i] = v_[i - 1];
    v_[pos] = v;
    ++n_;
  }
  void erase(int pos) {
    for (int i = pos; i + 1 < n_; ++i) v_[i] = v_[i + 1];
    --n_;
  }
  void resize(int n, int64_t fill = 0) {
    checked(n);
    for (int i = n_; i < n; ++i) v_[i] = fill;
    n_ = n;
  }

  // Product of all entries (the element count when these are sizes); 1 for no entries.
  int64_t product() const {
    int64_t p = 1;
    for (int i = 0; i < n_; ++i) p *= v_[i];
    return p;
  }

  friend bool operator==(const Dims& a, const Dims& b) {
    if (a.n_ != b.n_) return false;
    for (int i = 0; i < a.n_; ++i)
      if (a.v_[i] != b.v_[i]) return false;
    return true;
  }
  friend bool operator!=(const Dims& a, const Dims& b) { return !(a == b); }

  // Prints like a Python tuple: (3, 4), (5,), ().
  friend std::ostream& operator<<(std::ostream& out, const Dims& d) {
    out << '(';
    for (int i = 0; i < d.n_; ++i) out << (i ? ", " : "") << d.v_[i];
    return out << (d.n_ == 1 ? ",)" : ")");
  }

 private:
  static int checked(int n) {
    if (n < 0 || n > kMaxDims) throw ValueError(cat("fusednn supports at most ", kMaxDims, " dimensions, got ", n));
    return n;
  }
  int64_t v_[kMaxDims];
  int n_ = 0;
};

}  // namespace fusednn
