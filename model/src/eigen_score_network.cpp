#include "activediff/model/eigen_score_network.h"

#include <cmath>
#include <string>

#include "activediff/featurize/error.h"
#include "dense_product.h"

namespace activediff::model {

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
  // forward's products read raw buffers: each layer must take what the one before gives.
  for (std::size_t i = 1; i < n; ++i)
    if (w_.weights[i].cols() != w_.weights[i - 1].rows())
      throw Error("Eigen score network: layer " + std::to_string(i) + " takes " + std::to_string(w_.weights[i].cols()) +
                  " inputs, the layer before gives " + std::to_string(w_.weights[i - 1].rows()));
  for (const Eigen::MatrixXd& w : w_.weights) weightsFloat_.push_back(w.cast<float>());
  outputBiasFloat_ = w_.biases[n - 1].cast<float>();
  outputRowsFloat_ = weightsFloat_[n - 1];
}

const EigenScoreNetwork::AtTime& EigenScoreNetwork::at(double t) const {
  if (const auto found = atTimes_.find(t); found != atTimes_.end()) return found->second;
  if (atTimes_.size() >= kCachedTimes) atTimes_.clear();  // no caller holds an entry across calls
  AtTime& entry = atTimes_[t];
  entry.coefficients = targets_.coefficients(t);
  entry.preconditioning = targets_.preconditioningTable(Eigen::ArrayXd::Constant(1, t), w_.preconditioned);
  const double u = (std::log(t) - w_.timeLogAnchor) / w_.timeLogRange;
  const int f = static_cast<int>(w_.timeFrequencies.size());
  Eigen::VectorXd time(2 * f);
  for (int i = 0; i < f; ++i) {
    time(i) = std::sin(u * w_.timeFrequencies(i));
    time(f + i) = std::cos(u * w_.timeFrequencies(i));
  }
  // The constant (per call) part of each layer: bias plus its time projection.
  entry.offsets.resize(w_.weights.size());
  for (std::size_t i = 0; i < w_.weights.size(); ++i) {
    Eigen::VectorXd b = w_.biases[i];
    if (i == 0) b += w_.weights[0].rightCols(2 * f) * time;
    if (w_.timeWeights[i].size() > 0) b += w_.timeWeights[i] * time;
    entry.offsets[i] = b.cast<float>();
  }
  return entry;
}

// forward of score_network.cpp; with tangents, also the derivative of the
// outputs along each input column j paired with output column o (the
// Jacobian diagonal: output o = (block, d) with input (channel of block, d)).
// The values (rows 0 .. B-1) and every tangent p (rows B (p + 1) .. B (p + 2) - 1)
// are stacked in one row-major buffer, so each layer is one product of all
// of them with the layer's weights: at batch 1 (the move's density) that is a
// small matrix product instead of 1 + tangents vector products.
Eigen::MatrixXd EigenScoreNetwork::forward(const Eigen::ArrayXXd& zArray, double t,
                                           std::vector<Eigen::MatrixXd>* tangents) const {
  const int d = w_.dims, c = w_.channels;
  const int rows = static_cast<int>(zArray.rows());
  const Eigen::MatrixXd z = zArray.matrix();
  const ScoreChannels outputs = targets_.outputs();
  const AtTime& cached = at(t);
  const Eigen::ArrayXXd& table = cached.preconditioning;
  // z~ = W z per dimension (W = I when not preconditioned).
  Eigen::Matrix2d wIn = Eigen::Matrix2d::Zero();
  wIn(0, 0) = table(0, kInputXX);
  wIn(1, 0) = table(0, kInputAuxX);
  wIn(1, 1) = table(0, kInputAuxAux);
  RowMatrix& input = scratch_.input;
  input.resize(rows, c * d);
  input.leftCols(d) = (wIn(0, 0) * z.leftCols(d)).cast<float>();
  if (c == 2) input.rightCols(d) = (wIn(1, 0) * z.leftCols(d) + wIn(1, 1) * z.rightCols(d)).cast<float>();
  const std::size_t n = w_.weights.size();
  // Output columns and their paired input columns, for the channels with
  // noise: the flow's divergence reads no other (score_model.h), and for an
  // active model without passive noise that halves the tangents.
  std::vector<std::pair<int, int>> pairs;
  if (tangents) {
    const LinearSde& sde = targets_.kernel().sde();
    int block = 0;
    for (int ch = 0; ch < c; ++ch) {
      if (!outputs.has(ch)) continue;
      if (sde.hasNoise(ch))
        for (int k = 0; k < d; ++k) pairs.emplace_back(block * d + k, ch * d + k);
      ++block;
    }
  }
  const int stacked = rows * (1 + static_cast<int>(pairs.size()));
  const int width = static_cast<int>(w_.weights[0].rows());
  // y = x W^T for all stacked rows; the values also get the layer's offset.
  auto product = [&](const RowMatrix& x, const Eigen::MatrixXf& weights, const Eigen::VectorXf* offset, RowMatrix& y) {
    y.resize(stacked, weights.rows());
    detail::denseProductTransposed(x.data(), stacked, static_cast<int>(weights.cols()), static_cast<int>(x.cols()),
                                   weights.data(), static_cast<int>(weights.rows()), y.data(),
                                   static_cast<int>(weights.rows()));
    if (offset) y.topRows(rows).rowwise() += offset->transpose();
  };
  // In place: values v -> silu(v), each tangent g -> g silu'(v) of its row's
  // value (block by block: contiguous rows, whatever the batch).
  RowMatrix& slope = scratch_.slope;
  auto activate = [&](RowMatrix& m) {
    slope.resize(rows, m.cols());
    for (int r = 0; r < rows; ++r)
      for (int k = 0; k < m.cols(); ++k) {
        const float v = m(r, k);
        const float s = 1.0f / (1.0f + std::exp(-v));
        m(r, k) = v * s;
        slope(r, k) = s * (1.0f + v * (1.0f - s));  // d silu / dv
      }
    for (int g = rows; g < stacked; g += rows) m.middleRows(g, rows).array() *= slope.array();
  };
  // The input layer: values from the state, tangents dz = e_j -> W e_j
  // through the layer (the same for every row).
  RowMatrix& h = scratch_.h;
  h.resize(stacked, width);
  detail::denseProductTransposed(input.data(), rows, c * d, c * d, weightsFloat_[0].data(), width, h.data(), width);
  h.topRows(rows).rowwise() += cached.offsets[0].transpose();
  for (std::size_t p = 0; p < pairs.size(); ++p) {
    const int j = pairs[p].second, ch = j / d, k = j % d;
    Eigen::VectorXd direction;
    if (ch == 0) {
      direction = wIn(0, 0) * w_.weights[0].col(k);
      if (c == 2) direction += wIn(1, 0) * w_.weights[0].col(d + k);
    } else {
      direction = wIn(1, 1) * w_.weights[0].col(d + k);
    }
    h.middleRows(rows * (1 + static_cast<int>(p)), rows).rowwise() = direction.cast<float>().transpose();
  }
  RowMatrix& a = scratch_.a;
  RowMatrix& b = scratch_.b;
  if (w_.kind == "mlp") {
    for (std::size_t i = 0;; ++i) {
      activate(h);
      if (i + 1 == n - 1) break;
      product(h, weightsFloat_[i + 1], &cached.offsets[i + 1], a);
      std::swap(h, a);
    }
  } else {
    // h = input layer (no activation); h += W2 silu(W1 silu(h) + o1) + o2 per block.
    for (std::size_t i = 1; i + 2 < n; i += 2) {
      a = h;
      activate(a);
      product(a, weightsFloat_[i], &cached.offsets[i], b);
      activate(b);
      product(b, weightsFloat_[i + 1], &cached.offsets[i + 1], a);
      h += a;
    }
    activate(h);
  }
  // The output layer: every output for the values, only its own output
  // column o for tangent p.
  const Eigen::MatrixXf& last = weightsFloat_[n - 1];
  const int hidden = static_cast<int>(h.cols());  // the last hidden layer's width
  RowMatrix& top = scratch_.a;
  top.resize(rows, last.rows());
  detail::denseProductTransposed(h.data(), rows, hidden, hidden, last.data(), static_cast<int>(last.rows()), top.data(),
                                 static_cast<int>(last.rows()));
  top.rowwise() += outputBiasFloat_.transpose();
  // The analytic Gaussian part in float64: near t_eps it is most of the score.
  Eigen::MatrixXd body = top.cast<double>();
  if (w_.preconditioned) {
    int block = 0;
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
    tangents->assign(1, Eigen::MatrixXd::Zero(rows, body.cols()));
    for (std::size_t p = 0; p < pairs.size(); ++p) {
      const auto [o, j] = pairs[p];
      // d output o = tangent rows . W_last(o, :), by the same product as every
      // layer, so a state's Jacobian does not depend on its batch either.
      Eigen::VectorXf columnFloat(rows);
      detail::denseProductTransposed(h.data() + static_cast<long>(rows) * (1 + static_cast<int>(p)) * hidden, rows,
                                     hidden, hidden, outputRowsFloat_.row(o).data(), 1, columnFloat.data(), 1);
      Eigen::VectorXd column = columnFloat.cast<double>();
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
