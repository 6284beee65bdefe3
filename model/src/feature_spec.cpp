#include "activediff/model/feature_spec.h"

#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>

#include "activediff/featurize/dataset.h"
#include "activediff/featurize/error.h"
#include "activediff/featurize/npy.h"
#include "activediff/featurize/periodic.h"

namespace activediff::model {
namespace fs = std::filesystem;

void FeatureSpec::validate() const {
  const std::size_t d = names.size();
  if (units.size() != d || kinds.size() != d || periodic.size() != d ||
      branchCutsRad.size() != d)
    throw Error("feature spec: names, units, kinds, periodic flags and branch cuts disagree in length");
  if ((mean.size() != 0 && mean.size() != Eigen::Index(d)) ||
      (stddev.size() != 0 && stddev.size() != Eigen::Index(d)))
    throw Error("feature spec: standardization has the wrong dimension");
  for (std::size_t i = 0; i < d; ++i)
    if (periodic[i] && !std::isfinite(branchCutsRad[i]))
      throw Error("feature spec: periodic feature " + names[i] + " has no branch cut");
}

namespace {
Eigen::ArrayXXd unwrap(const FeatureSpec& spec, const Eigen::ArrayXXd& f) {
  Eigen::ArrayXXd u = f;
  for (int d = 0; d < spec.dims(); ++d)
    if (spec.periodic[d])
      for (Eigen::Index i = 0; i < u.rows(); ++i)
        u(i, d) = unwrapFromCutRad(u(i, d), spec.branchCutsRad[d]);
  return u;
}
void requireColumns(const FeatureSpec& spec, const Eigen::ArrayXXd& f, const char* who) {
  if (f.cols() != spec.dims())
    throw Error(std::string(who) + ": " + std::to_string(f.cols()) +
                " features per row, the model has " + std::to_string(spec.dims()));
}
}  // namespace

void FeatureSpec::fitStandardization(const Eigen::ArrayXXd& features) {
  requireColumns(*this, features, "standardization");
  if (features.rows() < 2) throw Error("standardization: need at least 2 training rows");
  const Eigen::ArrayXXd u = unwrap(*this, features);
  mean = u.colwise().mean().transpose();
  stddev = ((u.rowwise() - mean.transpose()).square().colwise().sum() / double(u.rows() - 1))
               .sqrt()
               .transpose();
  for (int d = 0; d < dims(); ++d)
    if (!(stddev(d) > 1e-12))
      throw Error("standardization: feature " + names[d] + " is constant in the training data");
}

Eigen::ArrayXXd FeatureSpec::toModel(const Eigen::ArrayXXd& features) const {
  requireColumns(*this, features, "features -> model");
  return (unwrap(*this, features).rowwise() - mean.transpose()).rowwise() / stddev.transpose();
}

Eigen::ArrayXXd FeatureSpec::fromModel(const Eigen::ArrayXXd& x) const {
  requireColumns(*this, x, "model -> features");
  Eigen::ArrayXXd f = (x.rowwise() * stddev.transpose()).rowwise() + mean.transpose();
  for (int d = 0; d < dims(); ++d)
    if (periodic[d])
      for (Eigen::Index i = 0; i < f.rows(); ++i) f(i, d) = wrapAngleRad(f(i, d));
  return f;
}

double FeatureSpec::logJacobianToModel() const { return -stddev.log().sum(); }

namespace {
Eigen::ArrayXXd takeRows(const Eigen::ArrayXXd& all, const std::vector<std::int64_t>& rows) {
  Eigen::ArrayXXd out(static_cast<Eigen::Index>(rows.size()), all.cols());
  for (std::size_t i = 0; i < rows.size(); ++i) out.row(Eigen::Index(i)) = all.row(rows[i]);
  return out;
}
}  // namespace

std::string featureChecksum(const Eigen::ArrayXXd& features) {
  // FNV-1a over the little-endian bytes of each value, row by row.
  std::uint64_t hash = 0xcbf29ce484222325ull;
  for (Eigen::Index i = 0; i < features.rows(); ++i) {
    for (Eigen::Index d = 0; d < features.cols(); ++d) {
      std::uint64_t bits;
      const double v = features(i, d);
      std::memcpy(&bits, &v, sizeof bits);
      for (int b = 0; b < 8; ++b) {
        hash ^= (bits >> (8 * b)) & 0xffu;
        hash *= 0x100000001b3ull;
      }
    }
  }
  char text[32];
  std::snprintf(text, sizeof text, "fnv1a64:%016llx", static_cast<unsigned long long>(hash));
  return text;
}

TrainingData loadTrainingData(const fs::path& path, double validationFraction) {
  TrainingData data;
  data.source = path.string();
  Eigen::ArrayXXd all;
  if (fs::is_directory(path)) {
    const Dataset dataset = readDataset(path);
    all = dataset.features.array();
    data.spec.featureSet = dataset.info.featureSet;
    for (std::size_t i = 0; i < dataset.info.features.size(); ++i) {
      const FeatureInfo& f = dataset.info.features[i];
      data.spec.names.push_back(f.name);
      data.spec.units.push_back(f.unit);
      data.spec.kinds.push_back(static_cast<int>(f.kind));
      data.spec.periodic.push_back(f.periodic);
      data.spec.branchCutsRad.push_back(dataset.info.branchCutsRad[i]);
    }
  } else {
    if (!fs::exists(path)) throw Error(path.string(), "no such dataset directory or .npy file");
    const NpyArray a = readNpy(path);
    if (a.type != NpyType::Float64 || a.shape.size() != 2)
      throw Error(path.string(), "a plain training file must be a 2-D float64 array (N x D)");
    all = Eigen::Map<const Eigen::Array<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>>(
        a.float64.data(), a.rows(), a.columns());
    if (!all.allFinite()) throw Error(path.string(), "contains non-finite values");
    data.spec.featureSet = "plain-npy";
    for (Eigen::Index d = 0; d < all.cols(); ++d) {
      data.spec.names.push_back("f" + std::to_string(d));
      data.spec.units.push_back("");
      data.spec.kinds.push_back(-1);
      data.spec.periodic.push_back(false);
      data.spec.branchCutsRad.push_back(std::numeric_limits<double>::quiet_NaN());
    }
  }
  if (all.rows() < 2 || all.cols() < 1)
    throw Error(path.string(), "needs at least 2 rows and 1 feature");
  data.checksum = featureChecksum(all);
  const DatasetSplit split = splitByTimeBlocks(all.rows(), validationFraction);
  data.train = takeRows(all, split.train);
  data.validation = takeRows(all, split.validation);
  data.spec.validate();
  return data;
}

void writeFeatureDataset(const fs::path& directory, const FeatureSpec& spec,
                         const Eigen::ArrayXXd& features, const std::string& source,
                         const std::string& extraJson) {
  DatasetInfo info;
  info.featureSet = spec.featureSet;
  for (int d = 0; d < spec.dims(); ++d) {
    FeatureInfo f;
    f.name = spec.names[d];
    f.unit = spec.units[d];
    f.periodic = spec.periodic[d];
    // Plain-npy features have no featurize kind; torsion-or-not follows periodic.
    f.kind = spec.kinds[d] >= 0 ? static_cast<FeatureKind>(spec.kinds[d])
                                : (f.periodic ? FeatureKind::TorsionRad : FeatureKind::BondNm);
    info.features.push_back(f);
  }
  info.sources.push_back({source, features.rows()});
  info.extraJson = extraJson;
  DatasetWriter writer(directory, info);
  Eigen::Array<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> rows = features;
  for (Eigen::Index i = 0; i < rows.rows(); ++i)
    writer.append(rows.row(i).data(), 0.0, 0, static_cast<std::int64_t>(i));
  writer.commit();
}

}  // namespace activediff::model
