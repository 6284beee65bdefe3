#include "activediff/featurize/superposition.h"

#include <Eigen/LU>
#include <Eigen/SVD>
#include <cmath>

#include "activediff/featurize/error.h"

namespace activediff {

namespace {
std::vector<int> selectionOrAll(const std::vector<int>& atoms, Eigen::Index count) {
  std::vector<int> selection = atoms;
  if (selection.empty())
    for (int i = 0; i < count; ++i) selection.push_back(i);
  return selection;
}
}  // namespace

PositionsNm superposeOnto(const PositionsNm& reference, const PositionsNm& mobile, const std::vector<int>& atoms) {
  if (reference.rows() != mobile.rows()) throw Error("superposition: structures have different atom counts");
  const std::vector<int> selection = selectionOrAll(atoms, reference.rows());
  const auto n = static_cast<Eigen::Index>(selection.size());
  Eigen::MatrixXd x(n, 3), y(n, 3);
  for (Eigen::Index k = 0; k < n; ++k) {
    x.row(k) = reference.row(selection[k]);
    y.row(k) = mobile.row(selection[k]);
  }
  const Eigen::RowVector3d xCentre = x.colwise().mean();
  const Eigen::RowVector3d yCentre = y.colwise().mean();
  x.rowwise() -= xCentre;
  y.rowwise() -= yCentre;
  const Eigen::Matrix3d covariance = y.transpose() * x;
  Eigen::JacobiSVD<Eigen::Matrix3d> svd(covariance, Eigen::ComputeFullU | Eigen::ComputeFullV);
  Eigen::Matrix3d correction = Eigen::Matrix3d::Identity();
  if ((svd.matrixV() * svd.matrixU().transpose()).determinant() < 0) correction(2, 2) = -1.0;
  const Eigen::Matrix3d rotation = svd.matrixU() * correction * svd.matrixV().transpose();  // y * R ~ x
  PositionsNm moved = (mobile.rowwise() - yCentre) * rotation;
  moved.rowwise() += xCentre;
  return moved;
}

double superposedRmsdNm(const PositionsNm& a, const PositionsNm& b, const std::vector<int>& atoms) {
  const PositionsNm moved = superposeOnto(a, b, atoms);
  const std::vector<int> selection = selectionOrAll(atoms, a.rows());
  double sum = 0.0;
  for (int atom : selection) sum += (moved.row(atom) - a.row(atom)).squaredNorm();
  return std::sqrt(sum / static_cast<double>(selection.size()));
}

}  // namespace activediff
