#pragma once
// The one path from features to scored full-atom structures, shared by
// `rebuild` and `evaluate` so that MD frames and generated samples are
// treated exactly alike: dataset -> StructureRebuilder -> StructureScorer.
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "activediff/featurize/clashes.h"
#include "activediff/featurize/dataset.h"
#include "activediff/featurize/featurizer.h"
#include "activediff/featurize/rebuild.h"

namespace activediff::cli {

struct StructurePathOptions {
  std::string topology;        // template structure (.pdb/.gro/.tpr) the features were made from
  std::string systemXml;       // empty: no energies
  std::string relax = "none";  // none | hydrogens | phi-psi
  std::string platform = "CPU";  // 15x faster than Reference here for GB energies, 40x for minimization
  int workers = 1;
  nlohmann::json toJson() const;
};

// Relaxed structures and their OpenMM energies. The OpenMM side lives in
// structure_energies_openmm.cpp, linked only into the executables that hold
// OpenMM (commands.h): the one without it rebuilds structures but has no
// factory, and hands a command line asking for energies on.
struct ScoredStructures {
  std::vector<double> energiesKjPerMol;  // NaN for NaN input or failure
  StructureBatchNm structures;           // relaxed (or as given)
};
class StructureEnergies {
 public:
  virtual ~StructureEnergies() = default;
  virtual ScoredStructures score(const StructureBatchNm& structures) = 0;
};
using StructureEnergiesFactory = std::unique_ptr<StructureEnergies> (*)(const StructurePathOptions& options,
                                                                        const Featurizer& featurizer,
                                                                        const Topology& topology);
StructureEnergiesFactory& structureEnergiesFactory();  // null without OpenMM

class StructurePath {
 public:
  // featureSet: the dataset's feature-set name (meta.json "feature_set").
  StructurePath(const std::string& featureSet, const StructurePathOptions& options);
  ~StructurePath();
  const Featurizer& featurizer() const { return *featurizer_; }
  const Structure& templateStructure() const { return template_; }
  bool scoresEnergies() const { return scorer_ != nullptr; }

  struct Result {
    RebuildResult rebuilt;
    StructureBatchNm structures;              // relaxed when relaxation is on
    std::vector<double> energiesKjPerMol;     // empty without a System
    std::int64_t structuresWithClashes = 0;
  };
  Result run(const FeatureMatrix& features) const;

 private:
  Structure template_;
  std::unique_ptr<Featurizer> featurizer_;
  std::unique_ptr<StructureRebuilder> rebuilder_;
  std::unique_ptr<StructureEnergies> scorer_;
  std::unique_ptr<MoleculeGraph> graph_;
  std::unique_ptr<ClashDetector> clashes_;
};

// Writes structures (NaN rows skipped) as multi-model .pdb, .xtc, .gro or
// .trr to the claim's temporary (the caller commits once every file of the
// output is complete); returns the number written.
std::int64_t writeStructures(const OutputClaim& output, const Topology& topology, const StructureBatchNm& structures);

// Rows of a dataset's feature matrix: every row, or `limit` evenly spaced ones.
FeatureMatrix evenlySpacedRows(const FeatureMatrix& features, std::int64_t limit);

}  // namespace activediff::cli
