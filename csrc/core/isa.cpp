// CPU feature detection (cpuid + xgetbv: the OS must also save the wide registers) and the active ISA.
#include "fusednn/isa.h"

#include <cpuid.h>

#include <atomic>
#include <cstdlib>

#include "fusednn/errors.h"

namespace fusednn {
namespace {

uint64_t xgetbv0() {
  uint32_t eax, edx;
  __asm__ volatile("xgetbv" : "=a"(eax), "=d"(edx) : "c"(0));
  return (uint64_t{edx} << 32) | eax;
}

Isa detect() {
  unsigned a, b, c, d;
  if (!__get_cpuid(1, &a, &b, &c, &d)) return Isa::Ref;
  const bool fma = c & (1u << 12), osxsave = c & (1u << 27), avx = c & (1u << 28), f16c = c & (1u << 29);
  if (!(osxsave && avx && fma && f16c)) return Isa::Ref;
  const uint64_t xcr0 = xgetbv0();
  if ((xcr0 & 0x6) != 0x6) return Isa::Ref;  // XMM and YMM state
  if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return Isa::Ref;
  const bool avx2 = b & (1u << 5), bmi1 = b & (1u << 3), bmi2 = b & (1u << 8);
  if (!(avx2 && bmi1 && bmi2)) return Isa::Ref;
  const bool avx512f = b & (1u << 16), avx512dq = b & (1u << 17), avx512bw = b & (1u << 30),
             avx512vl = b & (1u << 31);
  const bool zmm_state = (xcr0 & 0xE6) == 0xE6;  // opmask, ZMM_Hi256, Hi16_ZMM
  if (avx512f && avx512dq && avx512bw && avx512vl && zmm_state) return Isa::Avx512;
  return Isa::Avx2;
}

std::atomic<int>& active() {
  static std::atomic<int> isa{[] {
    const char* env = std::getenv("FUSEDNN_ISA");
    if (env && *env) {
      const Isa wanted = parse_isa(env);  // an unknown name raises at import: better than silently ignoring it
      if (static_cast<int>(wanted) > static_cast<int>(detected_isa()))
        throw ValueError(cat("FUSEDNN_ISA=", env, " but this CPU supports at most ", isa_name(detected_isa())));
      return static_cast<int>(wanted);
    }
    return static_cast<int>(detected_isa());
  }()};
  return isa;
}

}  // namespace

Isa detected_isa() {
  static const Isa isa = detect();
  return isa;
}

Isa active_isa() { return static_cast<Isa>(active().load(std::memory_order_relaxed)); }

void set_active_isa(Isa isa) {
  if (static_cast<int>(isa) > static_cast<int>(detected_isa()))
    throw ValueError(cat("cannot use ISA ", isa_name(isa), ": this CPU supports at most ", isa_name(detected_isa())));
  active().store(static_cast<int>(isa));
}

const char* isa_name(Isa isa) {
  switch (isa) {
    case Isa::Avx512: return "avx512";
    case Isa::Avx2: return "avx2";
    default: return "ref";
  }
}

Isa parse_isa(const std::string& name) {
  if (name == "avx512") return Isa::Avx512;
  if (name == "avx2") return Isa::Avx2;
  if (name == "ref") return Isa::Ref;
  throw ValueError(cat("unknown ISA '", name, "': expected one of avx512, avx2, ref"));
}

}  // namespace fusednn
