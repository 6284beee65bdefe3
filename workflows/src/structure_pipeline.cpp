#include "structure_pipeline.h"

#include <cerrno>

#include "activediff/featurize/output_policy.h"
#include "activediff/featurize/clashes.h"
#include "activediff/featurize/error.h"
#include "activediff/featurize/molecule_graph.h"
// Header only (relaxFromName is inline): this file is linked without OpenMM.
#include "activediff/plugin/structure_scoring.h"

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
    if (structureEnergiesFactory() == nullptr)
      throw std::logic_error("energies asked of an activediff executable without OpenMM");
    scorer_ = structureEnergiesFactory()(options, *featurizer_, template_.topology);
  }
}

StructureEnergiesFactory& structureEnergiesFactory() {
  static StructureEnergiesFactory factory = nullptr;
  return factory;
}

StructurePath::~StructurePath() = default;

StructurePath::Result StructurePath::run(const FeatureMatrix& features) const {
  Result result;
  result.rebuilt = rebuilder_->rebuild(features);
  if (scorer_) {
    ScoredStructures scored = scorer_->score(result.rebuilt.structures);
    result.structures = std::move(scored.structures);
    result.energiesKjPerMol = std::move(scored.energiesKjPerMol);
  } else {
    result.structures = result.rebuilt.structures;
  }
  result.structuresWithClashes = clashes_->countStructuresWithClashes(result.structures);
  return result;
}

std::int64_t writeStructures(const OutputClaim& output, const Topology& topology, const StructureBatchNm& structures) {
  // The temporary keeps the extension: libgromacs picks the format by it.
  const std::filesystem::path& temporary = output.temporary();
  const std::string path = output.target().string();
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
  } catch (const Error&) {
    throw;  // the claim removes its temporary
  } catch (const std::exception& e) {
    throwWriteError(output.target(), std::string("writing structures failed (") + e.what() + ")");
  }
  if (written == 0) throw Error(path, "no valid structure to write");
  // libgromacs ignores failed writes (stdio buffers, xdr): a full device
  // leaves a silently truncated file, so look at the device before commit.
  if (deviceIsFull(temporary)) {
    errno = ENOSPC;
    throwWriteError(output.target(), "writing structures failed");
  }
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
