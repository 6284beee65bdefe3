// Benchmark (not a test): structures/s of rebuild + OpenMM energy on CPU, and
// the rate of independent conformations from MD (integrated autocorrelation
// time of phi/psi in the shipped data) for comparison with a generator.
// usage: structures_bench <examples/ala2> [generator samples/s]
#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "activediff/featurize/featurizer.h"
#include "activediff/featurize/populations.h"
#include "activediff/featurize/rebuild.h"
#include "activediff/plugin/structure_scoring.h"

using namespace activediff;

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s <examples/ala2> [generator samples/s]\n", argv[0]);
    return 2;
  }
  const std::string ex = argv[1];
  const std::string pdb = ex + "/ala2.pdb", xtc = ex + "/md/run1.xtc", system = ex + "/system.xml";
  const Structure templ = readStructure(pdb);
  for (FeatureSet set : {FeatureSet::ZMatrix25D, FeatureSet::PhiPsi2D}) {
    const Featurizer featurizer(set, templ, pdb);
    TrajectoryReader reader(xtc);
    Frame frame;
    std::vector<double> rows, out(featurizer.dimension());
    while (reader.next(frame)) {
      featurizer.compute(frame, xtc, out.data());
      rows.insert(rows.end(), out.begin(), out.end());
    }
    const FeatureMatrix features = Eigen::Map<FeatureMatrix>(rows.data(), rows.size() / out.size(), out.size());
    const StructureRebuilder rebuilder(featurizer, templ, pdb);
    for (int workers : {1, 2}) {
      plugin::ScoringOptions options;
      options.workers = workers;
      plugin::StructureScorer scorer(system, templ.topology, options);
      const auto start = std::chrono::steady_clock::now();
      const RebuildResult rebuilt = rebuilder.rebuild(features);
      const plugin::ScoredBatch scored = scorer.score(rebuilt.structures);
      const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      std::printf("rebuild+energy %s, CPU platform, %d worker(s): %lld structures in %.3f s = %.0f structures/s\n",
                  featureSetName(set).c_str(), workers,
                  static_cast<long long>(features.rows()), seconds, features.rows() / seconds);
      (void)scored;
    }
    if (set == FeatureSet::PhiPsi2D) {
      // Integrated autocorrelation time of phi/psi through cos and sin (angles wrap).
      double tau = 0;
      for (int k = 0; k < 2; ++k) {
        std::vector<double> c(features.rows()), s(features.rows());
        for (Eigen::Index r = 0; r < features.rows(); ++r) {
          c[r] = std::cos(features(r, k));
          s[r] = std::sin(features(r, k));
        }
        tau = std::max({tau, integratedAutocorrelationTime(c), integratedAutocorrelationTime(s)});
      }
      std::ifstream summary(ex + "/md/run1.json");
      const auto json = nlohmann::json::parse(summary);
      const double nsPerDay = json["result"]["ns_per_day"].get<double>();
      const double framePs = json["config"]["frame_interval_ps"].get<double>();
      const double psPerSecond = nsPerDay * 1000.0 / 86400.0;
      const double independentPerSecond = psPerSecond / (2.0 * tau * framePs);
      std::printf("MD: tau_int(phi/psi) = %.1f frames of %.1f ps; %.0f ns/day -> %.3f independent conformations/s\n",
                  tau, framePs, nsPerDay, independentPerSecond);
      if (argc > 2) {
        const double generator = std::stod(argv[2]);
        std::printf("generator: %.0f samples/s -> ratio %.0f\n", generator, generator / independentPerSecond);
      }
    }
  }
  return 0;
}
