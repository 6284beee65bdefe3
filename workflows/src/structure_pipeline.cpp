#include "structure_pipeline.h"

#include "activediff/featurize/atomic_output.h"
#include "activediff/featurize/clashes.h"
#include "activediff/featurize/error.h"
#include "activediff/featurize/molecule_graph.h"

namespace activediff::cli {

nlohmann::json StructurePathOptions::toJson() const {
  return {{"topology", topology}, {"system", systemXml}, {"relax", relax}, {"platform", platform}, {"workers", workers}};
}

StructurePath::StructurePath(const std::string& featureSet, const StructurePathOptions& options)
    : template_(readStructure(options.topology)) {
  const FeatureSet set = featureSetFromName(featureSet);
  featurizer_ = std::make_unique<Featurizer>(set, template_, options.topology);
  rebuilder_ = std::make_unique<StructureRebuilder>(*featurizer_, template_, options.topology);
  graph_ = std::make_unique<MoleculeGraph>(template_.topology, template_.positionsNm);
  clashes_ = std::make_unique<ClashDetector>(template_.topology, *graph_);
  const plugin::Relax relax = plugin::relaxFromName(options.relax);
  if (relax != plugin::Relax::None && options.systemXml.empty()) {
    throw Error("--relax", "relaxation needs an OpenMM System (--system)");
  }
  if (relax == plugin::Relax::Hydrogens && set != FeatureSet::ZMatrix25D) {
    throw Error("--relax", "'hydrogens' is for 25D features; use 'phi-psi' for 2D");
  }
  if (!options.systemXml.empty()) {
    plugin::ScoringOptions scoring;
    scoring.relax = relax;
    scoring.platform = options.platform;
    scoring.workers = options.workers;
    scoring.phiAtoms = featurizer_->backbone().phi;
    scoring.psiAtoms = featurizer_->backbone().psi;
    scorer_ = std::make_unique<plugin::StructureScorer>(options.systemXml, template_.topology, scoring);
  }
}

StructurePath::~StructurePath() = default;

StructurePath::Result StructurePath::run(const FeatureMatrix& features) const {
  Result result;
  result.rebuilt = rebuilder_->rebuild(features);
  if (scorer_) {
    plugin::ScoredBatch scored = scorer_->score(result.rebuilt.structures);
    result.structures = std::move(scored.structures);
    result.energiesKjPerMol = std::move(scored.energiesKjPerMol);
  } else {
    result.structures = result.rebuilt.structures;
  }
  result.structuresWithClashes = clashes_->countStructuresWithClashes(result.structures);
  return result;
}

std::int64_t writeStructures(const std::string& path, const Topology& topology, const StructureBatchNm& structures) {
  AtomicOutput output(path);
  // The temporary keeps the extension: libgromacs picks the format by it.
  std::filesystem::path temporary = output.temporary();
  temporary += std::filesystem::path(path).extension();
  std::int64_t written = 0;
  try {
    TrajectoryWriter writer(temporary, topology);
    Frame frame;
    const auto atoms = static_cast<Eigen::Index>(topology.size());
    for (Eigen::Index r = 0; r < structures.rows(); ++r) {
      if (!structures.row(r).allFinite()) continue;
      frame.positionsNm = Eigen::Map<const PositionsNm>(structures.row(r).data(), atoms, 3);
      frame.index = written;
      frame.step = written;
      frame.timePs = static_cast<double>(written);
      frame.boxNm = enclosingBoxNm(frame.positionsNm, 1.0);
      writer.write(frame);
      ++written;
    }
    writer.close();
  } catch (...) {
    std::error_code ec;
    std::filesystem::remove(temporary, ec);
    throw;
  }
  if (written == 0) {
    std::filesystem::remove(temporary);
    throw Error(path, "no valid structure to write");
  }
  std::filesystem::rename(temporary, output.temporary());
  output.commit();
  return written;
}

FeatureMatrix evenlySpacedRows(const FeatureMatrix& features, std::int64_t limit) {
  const std::int64_t n = features.rows();
  if (limit <= 0 || limit >= n) return features;
  FeatureMatrix rows(limit, features.cols());
  for (std::int64_t k = 0; k < limit; ++k) rows.row(k) = features.row(k * n / limit);
  return rows;
}

}  // namespace activediff::cli
