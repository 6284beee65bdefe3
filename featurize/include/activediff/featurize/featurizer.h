#pragma once
// Featurization: a per-frame function (Featurizer) applied by a streaming
// reader (TrajectoryReader), written by a streaming DatasetWriter. The reader
// knows formats, the featurizer knows geometry, neither knows the other.
#include <functional>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include "activediff/featurize/backbone.h"
#include "activediff/featurize/dataset.h"
#include "activediff/featurize/molecule_graph.h"
#include "activediff/featurize/structure.h"
#include "activediff/featurize/zmatrix.h"

namespace activediff {

enum class FeatureSet {
  PhiPsi2D,    // "phi-psi-2d": phi, psi of the central residue (rad)
  ZMatrix25D,  // "capped-residue-25d": see zmatrix.h
};
FeatureSet featureSetFromName(const std::string& name);  // "2d" | "25d" | the long names
std::string featureSetName(FeatureSet set);

class Featurizer {
 public:
  // topology: the reference structure (.tpr/.gro/.pdb); residueNumber: the
  // central residue as numbered in the file (nullopt: the one with phi and psi).
  Featurizer(FeatureSet set, const Structure& topology, const std::string& topologyFile,
             std::optional<int> residueNumber = std::nullopt);

  FeatureSet set() const { return set_; }
  int dimension() const { return static_cast<int>(features_.size()); }
  const std::vector<FeatureInfo>& features() const { return features_; }
  const BackboneDihedralAtoms& backbone() const { return backbone_; }
  const ZMatrix* zmatrix() const { return zmatrix_ ? &*zmatrix_ : nullptr; }
  int atomCount() const { return static_cast<int>(topology_.size()); }

  // Features of one frame into out[0..dimension()). Makes the molecule whole
  // across periodic boundaries (frame is modified) and rejects frames with
  // implausible bonds (BondPlausibility): Error("<file>", "frame N: ...").
  void compute(Frame& frame, const std::string& file, double* out) const;

 private:
  FeatureSet set_;
  Topology topology_;
  BackboneDihedralAtoms backbone_;
  std::optional<ZMatrix> zmatrix_;
  std::optional<MoleculeGraph> graph_;
  std::optional<BondPlausibility> plausibility_;
  std::vector<FeatureInfo> features_;
};

struct FeaturizeOptions {
  std::int64_t begin = 0, end = -1, stride = 1;  // frame indices, per file
  // Time selection in ps per file (gmx -b, -e, -dt; NaN = unset): see
  // TrajectoryReader::Options.
  double beginPs = std::numeric_limits<double>::quiet_NaN();
  double endPs = std::numeric_limits<double>::quiet_NaN();
  double dtPs = std::numeric_limits<double>::quiet_NaN();
  // The molecule's atoms in the trajectories' system (0-based, an index
  // group); empty = the trajectories hold exactly the featurizer's atoms.
  // Each frame is cut down to these atoms, then made whole (Featurizer::compute).
  std::vector<int> atoms;
  int systemAtoms = -1;  // atoms per trajectory frame when `atoms` is set
  // Called for every frame written, with its time and features (e.g. an .xvg table).
  std::function<void(double timePs, const double* features)> onFrame;
  std::string extraJson = "{}";                   // provenance for meta.json
  // Called now and then with (frames done, total frames or 0 if unknown).
  std::function<void(std::int64_t, std::int64_t)> progress;
  // One-line warnings (a file given twice, time restarts); null = stderr.
  // What they report is also recorded in meta.json ("time_warnings",
  // "duplicate_trajectories").
  std::function<void(const std::string&)> warn;
};

struct FeaturizeSummary {
  DatasetInfo info;
  std::int64_t frames = 0;
  double seconds = 0.0;
};

// Reads every trajectory, featurizes every selected frame and writes one
// dataset directory atomically. Any error leaves no output behind.
FeaturizeSummary featurizeTrajectories(const Featurizer& featurizer, const std::string& topologyFile,
                                       const std::vector<std::string>& trajectories,
                                       const std::filesystem::path& output, const FeaturizeOptions& options);

}  // namespace activediff
