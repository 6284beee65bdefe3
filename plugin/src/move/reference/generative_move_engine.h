#pragma once
// The computation of one generative move (MATH.md 4b), platform
// independent: it reads and writes the Context through ContextImpl's generic
// API, so the Reference and CPU kernels share it.
//
// State space: the model's features on its chart (move_charts.h), each
// periodic one unwrapped to [cut, cut + 2 pi) (feature_spec.h), with every
// other coordinate fixed during the move: phi/psi by rigid-fragment rotations
// (2D, no Jacobian), or the 25 Z-matrix coordinates with the hydrogens
// carried along (25D, the Z-matrix volume element J in the ratio).
// Proposal: an independent draw of the model with its log-density (the
// probability-flow ODE, RK4); a draw outside the chart has zero target
// density there and is rejected. For two-channel models the chain state is
// (x, aux): aux is refreshed from r(aux | x) = the forward kernel's aux law at
// t_eps given x_0 = x before every move, and r enters the ratio:
//   log A = -(U' - U) / kT + log J(x') - log J(x) + log q(x, aux) - log q(x', aux')
//           + log r(aux' | x') - log r(aux | x)
// Randomness: the move at step s draws its aux refresh and uniform from
// streamSeed(seed, 2 s), its proposal from a block seeded by the attempt's
// block index (layout.h), never from a stored state, so a resumed run makes
// the same moves.
#include <openmm/System.h>
#include <openmm/internal/ContextImpl.h>

#include <array>
#include <memory>
#include <vector>

#include "activediff/plugin/generative_monte_carlo_move.h"
#include "move_charts.h"

namespace activediff::model {
class Generator;
struct GeneratedSamples;
}

namespace activediff::plugin {

class GenerativeMoveEngine {
 public:
  // Throws OpenMMException naming what does not fit: the checkpoint (missing,
  // corrupt, neither a 2D phi/psi nor a 25D Z-matrix model), the atoms (out
  // of range, masses or bonds not those the model's features need in the
  // System), a ring through the rotated bonds, a constraint a 25D move breaks.
  GenerativeMoveEngine(const OpenMM::System& system, const GenerativeMonteCarloMove& move);
  ~GenerativeMoveEngine();
  bool attempt(OpenMM::ContextImpl& context, long long stepCount);

 private:
  std::unique_ptr<model::Generator> generator_;
  std::unique_ptr<MoveChart> chart_;
  std::uint32_t seed_;
  int densitySteps_;
  int interval_;
  // Proposals drawn ahead: block proposalBlock_ of kProposalBlock attempts.
  static constexpr int kProposalBlock = 32;
  std::unique_ptr<model::GeneratedSamples> proposals_;
  std::int64_t proposalBlock_ = -1;
  bool omitProposalDensity_, omitVolumeElement_;
  double auxMean_ = 0.0, auxVariance_ = 1.0;  // r(aux | x) = N(auxMean_ x, auxVariance_) per dimension
};

}  // namespace activediff::plugin
