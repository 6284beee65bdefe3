#include "activediff/featurize/states.h"

#include <cmath>

#include "activediff/featurize/geometry.h"

namespace activediff {

namespace {
double wrapDeg(double angleDeg) {
  double wrapped = std::fmod(angleDeg + 180.0, 360.0);
  if (wrapped < 0.0) wrapped += 360.0;
  return wrapped - 180.0;
}
}  // namespace

MetastableState classifyStateDeg(double phiDeg, double psiDeg) {
  if (!std::isfinite(phiDeg) || !std::isfinite(psiDeg)) return MetastableState::Other;
  const double phi = wrapDeg(phiDeg), psi = wrapDeg(psiDeg);
  for (const StateBox& box : kStateBoxes) {
    if (!(phi > box.phiMinDeg && phi < box.phiMaxDeg)) continue;
    if (box.psiAny) return box.state;
    const bool inside = psi > kStatePsiLowDeg && psi < kStatePsiHighDeg;
    const bool outside = psi >= kStatePsiHighDeg || psi < kStatePsiLowDeg;
    if (box.psiInside ? inside : outside) return box.state;
  }
  return MetastableState::Other;
}

MetastableState classifyStateRad(double phiRad, double psiRad) {
  return classifyStateDeg(phiRad * kDegPerRad, psiRad * kDegPerRad);
}

std::string stateName(MetastableState state) {
  for (const StateBox& box : kStateBoxes)
    if (box.state == state) return box.name;
  return "other";
}

}  // namespace activediff
