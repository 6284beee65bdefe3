#pragma once
// The linear-SDE family of MATH.md 1: passive (OU), active (OU driven by an
// OU force eta) and critically damped Langevin (CLD), as ONE value type given
// by the per-dimension block (A, Q) of dz = A z dt + G dW, Q = G G^T.
//
// Channels. Every feature dimension carries 1 or 2 channels:
//   channels() == 1 (passive):      z = x
//   channels() == 2 (active, CLD):  z = (x, aux), aux = eta (active) or v (CLD)
// The same block acts on every dimension independently. Blocks are stored as
// Eigen::Matrix2d for speed; for a one-channel process only the (0, 0) entry
// is meaningful and every other entry is exactly zero ("padding"). Code that
// loops over channels must stop at channels().
#include <Eigen/Core>
#include <string>

namespace activediff::model {

enum class ProcessKind { Passive, Active, Cld };

// Named parameters of a process, as written to configs and checkpoints.
// Only the fields of `kind` are used; the others stay 0.
struct LinearSdeParameters {
  ProcessKind kind = ProcessKind::Passive;
  double k = 0.0;                   // passive, active: restoring rate
  double temperature = 0.0;         // passive: T, Q = 2T
  double tau = 0.0;                 // active: correlation time of eta
  double activeTemperature = 0.0;   // active: Ta
  double passiveTemperature = 0.0;  // active: Tp (0 allowed)
  double beta = 0.0;                // CLD: time scale
  double mass = 0.0;                // CLD: M (Gamma = 2 sqrt(M), critical damping)
  double velocityFactor = 0.0;      // CLD: gamma, v0 ~ N(0, gamma M)
};

class LinearSde {
 public:
  // dx = -k x dt + sqrt(2T) dW. Stationary Var(x) = T / k.
  static LinearSde passive(double k, double temperature);
  // dx = (-k x + eta) dt + sqrt(2 Tp) dW,  d eta = -eta / tau dt + sqrt(2 Ta) / tau dW'.
  // eta0 ~ N(0, Ta / tau) (its stationary law), independent of x0.
  static LinearSde active(double k, double tau, double activeTemperature,
                          double passiveTemperature = 0.0);
  // dx = beta v / M dt,  dv = -beta (x + Gamma v / M) dt + sqrt(2 Gamma beta) dW,
  // Gamma = 2 sqrt(M); v0 ~ N(0, gamma M). Stationary Var(x) = 1, Var(v) = M.
  static LinearSde cld(double beta, double mass, double velocityFactor);
  // The fair passive baseline of an active process (MATH.md 1): same k and the
  // same stationary Var(x), i.e. T_eq = Tp + Ta / (1 + k tau).
  static LinearSde passiveMatching(const LinearSde& active);
  // Validates and dispatches on p.kind.
  static LinearSde fromParameters(const LinearSdeParameters& p);

  ProcessKind kind() const { return parameters_.kind; }
  const LinearSdeParameters& parameters() const { return parameters_; }
  int channels() const { return kind() == ProcessKind::Passive ? 1 : 2; }
  // A and Q, padded (see the top of this file).
  const Eigen::Matrix2d& drift() const { return drift_; }
  const Eigen::Matrix2d& diffusion() const { return diffusion_; }
  // Variance of the auxiliary start aux0 (independent of x0); 0 for passive.
  double auxStartVariance() const { return auxStartVariance_; }
  // The reverse process needs the score of channel c only where Q_cc > 0.
  bool hasNoise(int channel) const { return diffusion_(channel, channel) > 0.0; }
  // "x", "eta" or "v".
  std::string channelName(int channel) const;
  // e.g. "active(k=1, tau=0.5, Ta=1.5, Tp=0)".
  std::string describe() const;

 private:
  LinearSde(LinearSdeParameters p, const Eigen::Matrix2d& a, const Eigen::Matrix2d& q,
            double auxStartVariance);
  LinearSdeParameters parameters_;
  Eigen::Matrix2d drift_;
  Eigen::Matrix2d diffusion_;
  double auxStartVariance_;
};

}  // namespace activediff::model
