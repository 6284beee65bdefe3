#include "activediff/model/score_model.h"

#include "activediff/featurize/error.h"

namespace activediff::model {

void ScoreModel::scoreAndJacobianDiagonal(const Eigen::ArrayXXd&, double, Eigen::ArrayXXd&,
                                          Eigen::ArrayXXd&) {
  throw Error(
      "this score model provides no Jacobian diagonal; exact log-densities need one");
}

FunctionScoreModel::FunctionScoreModel(ScoreChannels channels, ScoreFunction score,
                                       ScoreJacobianFunction withJacobian)
    : channels_(channels), score_(std::move(score)), withJacobian_(std::move(withJacobian)) {
  if (!score_) throw Error("FunctionScoreModel: no score function given");
}

void FunctionScoreModel::score(const Eigen::ArrayXXd& z, double t, Eigen::ArrayXXd& score) {
  score_(z, t, score);
}

void FunctionScoreModel::scoreAndJacobianDiagonal(const Eigen::ArrayXXd& z, double t,
                                                  Eigen::ArrayXXd& score,
                                                  Eigen::ArrayXXd& jacobianDiagonal) {
  if (!withJacobian_) ScoreModel::scoreAndJacobianDiagonal(z, t, score, jacobianDiagonal);
  withJacobian_(z, t, score, jacobianDiagonal);
}

}  // namespace activediff::model
