#include "activediff/model/linear_sde.h"

#include <cmath>
#include <sstream>

#include "activediff/featurize/error.h"

namespace activediff::model {
namespace {

// Every parameter error names the parameter, its value and what was expected.
void require(bool ok, const std::string& process, const std::string& name, double value,
             const std::string& expected) {
  if (ok) return;
  std::ostringstream message;
  message << process << " process: parameter " << name << " = " << value << " must be "
          << expected;
  throw Error(message.str());
}

void requirePositive(const std::string& process, const std::string& name, double value) {
  require(std::isfinite(value) && value > 0.0, process, name, value, "> 0 and finite");
}

}  // namespace

LinearSde::LinearSde(LinearSdeParameters p, const Eigen::Matrix2d& a, const Eigen::Matrix2d& q,
                     double auxStartVariance)
    : parameters_(p), drift_(a), diffusion_(q), auxStartVariance_(auxStartVariance) {}

LinearSde LinearSde::passive(double k, double temperature) {
  requirePositive("passive", "k", k);
  requirePositive("passive", "T", temperature);
  LinearSdeParameters p;
  p.kind = ProcessKind::Passive;
  p.k = k;
  p.temperature = temperature;
  Eigen::Matrix2d a = Eigen::Matrix2d::Zero();
  Eigen::Matrix2d q = Eigen::Matrix2d::Zero();
  a(0, 0) = -k;
  q(0, 0) = 2.0 * temperature;
  return LinearSde(p, a, q, 0.0);
}

LinearSde LinearSde::active(double k, double tau, double activeTemperature,
                            double passiveTemperature) {
  requirePositive("active", "k", k);
  requirePositive("active", "tau", tau);
  requirePositive("active", "Ta", activeTemperature);
  require(std::isfinite(passiveTemperature) && passiveTemperature >= 0.0, "active", "Tp",
          passiveTemperature, ">= 0 and finite");
  LinearSdeParameters p;
  p.kind = ProcessKind::Active;
  p.k = k;
  p.tau = tau;
  p.activeTemperature = activeTemperature;
  p.passiveTemperature = passiveTemperature;
  Eigen::Matrix2d a;
  a << -k, 1.0, 0.0, -1.0 / tau;
  Eigen::Matrix2d q = Eigen::Matrix2d::Zero();
  q(0, 0) = 2.0 * passiveTemperature;
  q(1, 1) = 2.0 * activeTemperature / (tau * tau);
  return LinearSde(p, a, q, activeTemperature / tau);
}

LinearSde LinearSde::cld(double beta, double mass, double velocityFactor) {
  requirePositive("CLD", "beta", beta);
  requirePositive("CLD", "M", mass);
  requirePositive("CLD", "gamma", velocityFactor);
  LinearSdeParameters p;
  p.kind = ProcessKind::Cld;
  p.beta = beta;
  p.mass = mass;
  p.velocityFactor = velocityFactor;
  const double friction = 2.0 * std::sqrt(mass);  // Gamma^2 = 4M: critical damping
  Eigen::Matrix2d a;
  a << 0.0, beta / mass, -beta, -beta * friction / mass;
  Eigen::Matrix2d q = Eigen::Matrix2d::Zero();
  q(1, 1) = 2.0 * friction * beta;
  return LinearSde(p, a, q, velocityFactor * mass);
}

LinearSde LinearSde::passiveMatching(const LinearSde& active) {
  if (active.kind() != ProcessKind::Active)
    throw Error("passiveMatching: " + active.describe() + " is not an active process");
  const LinearSdeParameters& p = active.parameters();
  return passive(p.k, p.passiveTemperature + p.activeTemperature / (1.0 + p.k * p.tau));
}

LinearSde LinearSde::fromParameters(const LinearSdeParameters& p) {
  switch (p.kind) {
    case ProcessKind::Passive:
      return passive(p.k, p.temperature);
    case ProcessKind::Active:
      return active(p.k, p.tau, p.activeTemperature, p.passiveTemperature);
    case ProcessKind::Cld:
      return cld(p.beta, p.mass, p.velocityFactor);
  }
  throw Error("LinearSdeParameters: unknown process kind");
}

std::string LinearSde::channelName(int channel) const {
  if (channel == 0) return "x";
  if (channel == 1 && kind() == ProcessKind::Active) return "eta";
  if (channel == 1 && kind() == ProcessKind::Cld) return "v";
  throw Error(describe() + ": no channel " + std::to_string(channel));
}

std::string LinearSde::describe() const {
  std::ostringstream s;
  const LinearSdeParameters& p = parameters_;
  switch (p.kind) {
    case ProcessKind::Passive:
      s << "passive(k=" << p.k << ", T=" << p.temperature << ")";
      break;
    case ProcessKind::Active:
      s << "active(k=" << p.k << ", tau=" << p.tau << ", Ta=" << p.activeTemperature
        << ", Tp=" << p.passiveTemperature << ")";
      break;
    case ProcessKind::Cld:
      s << "cld(beta=" << p.beta << ", M=" << p.mass << ", gamma=" << p.velocityFactor << ")";
      break;
  }
  return s.str();
}

}  // namespace activediff::model
