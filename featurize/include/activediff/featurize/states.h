#pragma once
// THE metastable states of alanine dipeptide (PRODUCT.md), in degrees.
// Intervals are open as written there; psi "outside" means psi >= 50 or
// psi < -120. The boxes are disjoint; angles on a box edge or outside every
// box are State::Other.
//   alphaR  phi in (-180, 0),  psi in (-120, 50)
//   beta    phi in (-180, -90), psi >= 50 or psi < -120
//   PPII    phi in (-90, 0),    psi >= 50 or psi < -120
//   L       phi in (0, 180),    any psi
#include <array>
#include <string>

namespace activediff {

enum class MetastableState { AlphaR = 0, Beta = 1, PPII = 2, L = 3, Other = 4 };
constexpr int kMetastableStateCount = 5;  // including Other

struct StateBox {
  MetastableState state;
  const char* name;
  double phiMinDeg, phiMaxDeg;  // open interval
  bool psiInside;               // true: psi in (psiLow, psiHigh); false: psi >= psiHigh or psi < psiLow
  bool psiAny;
};
constexpr double kStatePsiLowDeg = -120.0;
constexpr double kStatePsiHighDeg = 50.0;
constexpr std::array<StateBox, 4> kStateBoxes = {{
    {MetastableState::AlphaR, "alphaR", -180.0, 0.0, true, false},
    {MetastableState::Beta, "beta", -180.0, -90.0, false, false},
    {MetastableState::PPII, "PPII", -90.0, 0.0, false, false},
    {MetastableState::L, "L", 0.0, 180.0, true, true},
}};

// Angles are wrapped to [-180, 180) first.
MetastableState classifyStateDeg(double phiDeg, double psiDeg);
MetastableState classifyStateRad(double phiRad, double psiRad);
std::string stateName(MetastableState state);  // "alphaR", ..., "other"

}  // namespace activediff
