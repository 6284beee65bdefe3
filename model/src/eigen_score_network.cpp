#include "activediff/model/eigen_score_network.h"

#include <cmath>

#include "activediff/featurize/error.h"

namespace activediff::model {
namespace {

Eigen::MatrixXd silu(const Eigen::MatrixXd& x) {
  return x.unaryExpr([](double v) { return v / (1.0 + std::exp(-v)); });
}
// d silu / dx = s (1 + x (1 - s)), s = sigmoid(x).
Eigen::MatrixXd siluDerivative(const Eigen::MatrixXd& x) {
  return x.unaryExpr([](double v) {
    const double s = 1.0 / (1.0 + std::exp(-v));
    return s * (1.0 + v * (1.0 - s));
  });
}

}  // namespace

EigenScoreNetwork::EigenScoreNetwork(EigenNetworkWeights weights, const TrainingTargets& targets)
    : w_(std::move(weights)), targets_(targets) {
  const std::size_t n = w_.weights.size();
  if (n < 2 || w_.biases.size() != n || w_.timeWeights.size() != n)
    throw Error("Eigen score network: layers, biases and time layers do not match");
  if (w_.kind != "mlp" && w_.kind != "resmlp") throw Error("Eigen score network: unknown kind " + w_.kind);
  if (w_.weights[0].cols() != w_.channels * w_.dims + 2 * w_.timeFrequencies.size())
    throw Error("Eigen score network: the input layer does not take c*D + 2F inputs");
  if (w_.weights[n - 1].rows() != targets_.outputs().count() * w_.dims)
    throw Error("Eigen score network: the output layer does not give the process's output channels");
}

const EigenScoreNetwork::AtTime& EigenScoreNetwork::at(double t) const {
  if (atTime_.t == t) return atTime_;
  atTime_.t = t;
  atTime_.coefficients = targets_.coefficients(t);
  atTime_.preconditioning = targets_.preconditioningTable(Eigen::ArrayXd::Constant(1, t), w_.preconditioned);
  const double u = (std::log(t) - w_.timeLogAnchor) / w_.timeLogRange;
  const int f = static_cast<int>(w_.timeFrequencies.size());
  Eigen::VectorXd time(2 * f);
  for (int i = 0; i < f; ++i) {
    time(i) = std::sin(u * w_.timeFrequencies(i));
    time(f + i) = std::cos(u * w_.timeFrequencies(i));
  }
  // The constant (per call) part of each layer: bias plus its time projection.
  atTime_.offsets.resize(w_.weights.size());
  for (std::size_t i = 0; i < w_.weights.size(); ++i) {
    Eigen::VectorXd b = w_.biases[i];
    if (i == 0) b += w_.weights[0].rightCols(2 * f) * time;
    if (w_.timeWeights[i].size() > 0) b += w_.timeWeights[i] * time;
    atTime_.offsets[i] = b;
  }
  return atTime_;
}

// forward of score_network.cpp; with tangents, also the derivative of the
// outputs along each input column j paired with output column o (the
// Jacobian diagonal: output o = (block, d) with input (channel of block, d)).
Eigen::MatrixXd EigenScoreNetwork::forward(const Eigen::ArrayXXd& zArray, double t,
                                           std::vector<Eigen::MatrixXd>* tangents) const {
  const int d = w_.dims, c = w_.channels;
  const Eigen::Index rows = zArray.rows();
  const Eigen::MatrixXd z = zArray.matrix();
  const ScoreChannels outputs = targets_.outputs();
  const AtTime& cached = at(t);
  const Eigen::ArrayXXd& table = cached.preconditioning;
  // z~ = W z per dimension (W = I when not preconditioned).
  Eigen::Matrix2d wIn = Eigen::Matrix2d::Zero();
  wIn(0, 0) = table(0, kInputXX);
  wIn(1, 0) = table(0, kInputAuxX);
  wIn(1, 1) = table(0, kInputAuxAux);
  Eigen::MatrixXd input(rows, c * d);
  input.leftCols(d) = wIn(0, 0) * z.leftCols(d);
  if (c == 2) input.rightCols(d) = wIn(1, 0) * z.leftCols(d) + wIn(1, 1) * z.rightCols(d);
  const std::size_t n = w_.weights.size();
  auto offset = [&](std::size_t i) -> const Eigen::VectorXd& { return cached.offsets[i]; };
  // Output columns and their paired input columns.
  std::vector<std::pair<int, int>> pairs;
  int block = 0;
  for (int ch = 0; ch < c; ++ch) {
    if (!outputs.has(ch)) continue;
    for (int k = 0; k < d; ++k) pairs.emplace_back(block * d + k, ch * d + k);
    ++block;
  }
  const Eigen::MatrixXd wz = w_.weights[0].leftCols(c * d);
  std::vector<Eigen::MatrixXd> dh;  // per tangent, rows x width
  Eigen::MatrixXd pre = (input * wz.transpose()).rowwise() + offset(0).transpose();
  if (tangents) {
    for (const auto& [o, j] : pairs) {
      // dz = e_j -> dz~ = W e_j: column j of the block matrix of W.
      Eigen::VectorXd dInput = Eigen::VectorXd::Zero(c * d);
      const int ch = j / d, k = j % d;
      if (ch == 0) {
        dInput(k) = wIn(0, 0);
        if (c == 2) dInput(d + k) = wIn(1, 0);
      } else {
        dInput(d + k) = wIn(1, 1);
      }
      dh.push_back(Eigen::MatrixXd(rows, wz.rows()));
      dh.back().rowwise() = (wz * dInput).transpose();
    }
  }
  Eigen::MatrixXd h, body;
  if (w_.kind == "mlp") {
    for (std::size_t i = 0;; ++i) {
      if (tangents)
        for (auto& g : dh) g = g.cwiseProduct(siluDerivative(pre));
      h = silu(pre);
      if (i + 1 == n - 1) break;
      pre = (h * w_.weights[i + 1].transpose()).rowwise() + offset(i + 1).transpose();
      if (tangents)
        for (auto& g : dh) g = g * w_.weights[i + 1].transpose();
    }
    body = (h * w_.weights[n - 1].transpose()).rowwise() + w_.biases[n - 1].transpose();
    if (tangents)
      for (auto& g : dh) g = g * w_.weights[n - 1].transpose();
  } else {
    h = pre;  // the input layer has no activation
    for (std::size_t i = 1; i + 2 < n; i += 2) {
      const Eigen::MatrixXd a = silu(h);
      const Eigen::MatrixXd p = (a * w_.weights[i].transpose()).rowwise() + offset(i).transpose();
      const Eigen::MatrixXd q = silu(p);
      if (tangents) {
        const Eigen::MatrixXd sh = siluDerivative(h), sp = siluDerivative(p);
        for (auto& g : dh)
          g = g + ((g.cwiseProduct(sh) * w_.weights[i].transpose()).cwiseProduct(sp) * w_.weights[i + 1].transpose());
      }
      h = h + ((q * w_.weights[i + 1].transpose()).rowwise() + offset(i + 1).transpose());
    }
    if (tangents) {
      const Eigen::MatrixXd sh = siluDerivative(h);
      for (auto& g : dh) g = g.cwiseProduct(sh) * w_.weights[n - 1].transpose();
    }
    body = (silu(h) * w_.weights[n - 1].transpose()).rowwise() + w_.biases[n - 1].transpose();
  }
  if (w_.preconditioned) {
    block = 0;
    for (int ch = 0; ch < c; ++ch) {
      if (!outputs.has(ch)) continue;
      const double gx = table(0, ch == 0 ? kGaussianXX : kGaussianAuxX);
      const double ga = table(0, ch == 0 ? kGaussianXAux : kGaussianAuxAux);
      body.middleCols(block * d, d) += gx * z.leftCols(d);
      if (c == 2) body.middleCols(block * d, d) += ga * z.rightCols(d);
      ++block;
    }
  }
  if (tangents) {
    tangents->assign(1, Eigen::MatrixXd(rows, body.cols()));
    for (std::size_t p = 0; p < pairs.size(); ++p) {
      const auto [o, j] = pairs[p];
      Eigen::VectorXd column = dh[p].col(o);
      if (w_.preconditioned) {
        const int ch = j / d, blockOf = o / d;
        int outChannel = -1, b2 = 0;
        for (int cc = 0; cc < c; ++cc)
          if (outputs.has(cc)) {
            if (b2 == blockOf) outChannel = cc;
            ++b2;
          }
        const int col = outChannel == 0 ? (ch == 0 ? kGaussianXX : kGaussianXAux)
                                        : (ch == 0 ? kGaussianAuxX : kGaussianAuxAux);
        column.array() += table(0, col);
      }
      (*tangents)[0].col(o) = column;
    }
  }
  return body;
}

Eigen::MatrixXd EigenScoreNetwork::whitenedOutputs(const Eigen::ArrayXXd& z, double t) const {
  return forward(z, t, nullptr);
}

void EigenScoreNetwork::score(const Eigen::ArrayXXd& z, double t, Eigen::ArrayXXd& score) {
  const Eigen::MatrixXd out = forward(z, t, nullptr);
  targets_.scoresFromWhitened(at(t).coefficients, out.array(), score);
}

void EigenScoreNetwork::scoreAndJacobianDiagonal(const Eigen::ArrayXXd& z, double t, Eigen::ArrayXXd& score,
                                                 Eigen::ArrayXXd& jacobianDiagonal) {
  std::vector<Eigen::MatrixXd> diagonal;
  const Eigen::MatrixXd out = forward(z, t, &diagonal);
  targets_.scoresFromWhitened(at(t).coefficients, out.array(), score);
  targets_.scoresFromWhitened(at(t).coefficients, diagonal[0].array(), jacobianDiagonal);
}

}  // namespace activediff::model
