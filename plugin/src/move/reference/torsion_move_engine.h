#pragma once
// The computation of one generative torsion move (MATH.md 4b), platform
// independent: it reads and writes the Context through ContextImpl's generic
// API, so the Reference and CPU kernels share it.
//
// State space: the torsions (phi, psi) on the model's chart, each unwrapped
// to [cut, cut + 2 pi) (feature_spec.h), with every other coordinate fixed
// during the move. A move rotates two rigid fragments -- the atoms on CA's
// side of N-CA (phi), then those on C's side of CA-C (psi) -- which leaves the
// Cartesian volume element unchanged, so no Jacobian enters. Velocities turn
// with their fragment, so constraints stay satisfied.
// Proposal: an independent draw of the model with its log-density (the
// probability-flow ODE, RK4); a draw outside the chart has zero target
// density there and is rejected. For two-channel models the chain state is
// (x, aux): aux is refreshed from r(aux | x) = the forward kernel's aux law at
// t_eps given x_0 = x before every move, and r enters the ratio:
//   log A = -(U' - U) / kT + log q(x, aux) - log q(x', aux') + log r(aux' | x') - log r(aux | x)
// Randomness: the move at step s draws its aux refresh and uniform from
// streamSeed(seed, 2 s), its proposal from a block seeded by the attempt's
// block index (layout.h), never from a stored state, so a resumed run makes
// the same moves.
#include <openmm/System.h>
#include <openmm/internal/ContextImpl.h>

#include <array>
#include <memory>
#include <vector>

#include "activediff/plugin/backbone_torsions.h"
#include "activediff/plugin/generative_monte_carlo_move.h"

namespace activediff::model {
class Generator;
struct GeneratedSamples;
}

namespace activediff::plugin {

class TorsionMoveEngine {
 public:
  // Throws OpenMMException naming what does not fit: the checkpoint (missing,
  // corrupt, not a 2D phi/psi model), the atoms (out of range, not bonded in
  // the System as C-N-CA-C-N, masses not those of C and N), a ring through
  // the rotated bonds.
  TorsionMoveEngine(const OpenMM::System& system, const GenerativeMonteCarloMove& move);
  ~TorsionMoveEngine();
  bool attempt(OpenMM::ContextImpl& context, long long stepCount);

 private:
  std::unique_ptr<model::Generator> generator_;
  BackboneTorsions torsions_;  // the atoms and the fragments each rotation moves
  std::uint32_t seed_;
  int densitySteps_;
  int interval_;
  // Proposals drawn ahead: block proposalBlock_ of kProposalBlock attempts.
  static constexpr int kProposalBlock = 32;
  std::unique_ptr<model::GeneratedSamples> proposals_;
  std::int64_t proposalBlock_ = -1;
  bool omitProposalDensity_;
  double auxMean_ = 0.0, auxVariance_ = 1.0;  // r(aux | x) = N(auxMean_ x, auxVariance_) per dimension
};

}  // namespace activediff::plugin
