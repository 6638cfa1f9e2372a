// CPU instruction-set dispatch: the CPU is detected once (newest ISA first); FUSEDNN_ISA=avx512|avx2|ref
// forces a path. Kernel families keep one function table per ISA and pick it with select_isa().
#pragma once
#include <cstdint>
#include <string>

namespace fusednn {

enum class Isa : uint8_t { Ref = 0, Avx2 = 1, Avx512 = 2 };

Isa detected_isa();            // the newest ISA this CPU and OS support
Isa active_isa();              // the ISA in use (FUSEDNN_ISA if set, else detected)
void set_active_isa(Isa isa);  // throws ValueError when the CPU lacks it
const char* isa_name(Isa isa);
Isa parse_isa(const std::string& name);  // "avx512" | "avx2" | "ref"; throws ValueError otherwise

template <class Table>
const Table& select_isa(const Table& ref, const Table& avx2, const Table& avx512) {
  switch (active_isa()) {
    case Isa::Avx512: return avx512;
    case Isa::Avx2: return avx2;
    default: return ref;
  }
}

}  // namespace fusednn

// Declares the three copies of a per-ISA object that a *_loops.cpp file defines once per ISA
// (as fusednn::cpu::<isa>::name, inside namespace FUSEDNN_ISA_NS).
#define FUSEDNN_DECLARE_PER_ISA(Type, name)   \
  namespace fusednn::cpu {                     \
  namespace ref { extern const Type name; }    \
  namespace avx2 { extern const Type name; }   \
  namespace avx512 { extern const Type name; } \
  }
