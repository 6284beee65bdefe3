// The OpenMM half of the structure path (structure_pipeline.h): relaxation and
// energies through plugin::StructureScorer. Linked only into the executables
// that hold OpenMM; its static registration fills the factory.
#include "activediff/plugin/structure_scoring.h"
#include "structure_pipeline.h"

namespace activediff::cli {
namespace {

class OpenMMStructureEnergies final : public StructureEnergies {
 public:
  OpenMMStructureEnergies(const StructurePathOptions& options, const Featurizer& featurizer, const Topology& topology)
      : scorer_(options.systemXml, topology, scoringOptions(options, featurizer)) {}
  ScoredStructures score(const StructureBatchNm& structures) override {
    plugin::ScoredBatch scored = scorer_.score(structures);
    return {std::move(scored.energiesKjPerMol), std::move(scored.structures)};
  }

 private:
  static plugin::ScoringOptions scoringOptions(const StructurePathOptions& options, const Featurizer& featurizer) {
    plugin::ScoringOptions scoring;
    scoring.relax = plugin::relaxFromName(options.relax);
    scoring.platform = options.platform;
    scoring.workers = options.workers;
    scoring.phiAtoms = featurizer.backbone().phi;
    scoring.psiAtoms = featurizer.backbone().psi;
    return scoring;
  }
  plugin::StructureScorer scorer_;
};

const bool registered = [] {
  structureEnergiesFactory() = [](const StructurePathOptions& options, const Featurizer& featurizer,
                                  const Topology& topology) -> std::unique_ptr<StructureEnergies> {
    return std::make_unique<OpenMMStructureEnergies>(options, featurizer, topology);
  };
  return true;
}();

}  // namespace
}  // namespace activediff::cli
