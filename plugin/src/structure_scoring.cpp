#include "activediff/plugin/structure_scoring.h"

#include <OpenMM.h>

#include <cmath>
#include <limits>
#include <thread>

#include "activediff/featurize/error.h"
#include "activediff/featurize/geometry.h"
#include "activediff/featurize/molecule_graph.h"
#include "activediff/plugin/openmm_setup.h"
#include "activediff/plugin/potential_energy.h"

namespace activediff::plugin {

namespace {
// Restraints live in their own force group so the reported energy is the
// force field's alone.
constexpr int kRestraintGroup = 31;
constexpr int kForceFieldGroups = ~(1 << kRestraintGroup);
}  // namespace

struct StructureScorer::Worker {
  std::unique_ptr<OpenMM::System> system;
  std::unique_ptr<OpenMM::VerletIntegrator> integrator;
  std::unique_ptr<OpenMM::Context> context;
  OpenMM::CustomExternalForce* positionRestraint = nullptr;  // owned by system
  OpenMM::CustomTorsionForce* torsionRestraint = nullptr;    // owned by system
  std::vector<int> restrainedAtoms;
  std::vector<OpenMM::Vec3> positions;
};

StructureScorer::StructureScorer(const std::filesystem::path& systemXml, const Topology& topology,
                                 ScoringOptions options)
    : options_(options) {
  if (options_.workers < 1) throw Error("--workers", "must be at least 1");
  OpenMM::Platform& platform = platformByName(options_.platform);
  for (int w = 0; w < options_.workers; ++w) {
    auto worker = std::make_unique<Worker>();
    worker->system = loadSystemXml(systemXml);
    if (worker->system->getNumParticles() != static_cast<int>(topology.size())) {
      throw Error(systemXml.string(), "System has " + std::to_string(worker->system->getNumParticles()) +
                                          " particles but the structures have " + std::to_string(topology.size()) +
                                          " atoms");
    }
    if (options_.relax == Relax::Hydrogens) {
      auto* force = new OpenMM::CustomExternalForce("0.5*k*((x-x0)^2+(y-y0)^2+(z-z0)^2)");
      force->addGlobalParameter("k", options_.positionRestraintKjPerMolNm2);
      force->addPerParticleParameter("x0");
      force->addPerParticleParameter("y0");
      force->addPerParticleParameter("z0");
      for (std::size_t i = 0; i < topology.size(); ++i) {
        if (isHydrogen(topology.atoms[i])) continue;
        force->addParticle(static_cast<int>(i), {0.0, 0.0, 0.0});
        worker->restrainedAtoms.push_back(static_cast<int>(i));
      }
      force->setForceGroup(kRestraintGroup);
      worker->system->addForce(force);
      worker->positionRestraint = force;
    } else if (options_.relax == Relax::PhiPsiRestrained) {
      auto* force = new OpenMM::CustomTorsionForce(
          "0.5*k*d^2; d = min(a, 6.283185307179586 - a); a = abs(theta - theta0)");
      force->addGlobalParameter("k", options_.torsionRestraintKjPerMolRad2);
      force->addPerTorsionParameter("theta0");
      const auto& p = options_.phiAtoms;
      const auto& q = options_.psiAtoms;
      force->addTorsion(p[0], p[1], p[2], p[3], {0.0});
      force->addTorsion(q[0], q[1], q[2], q[3], {0.0});
      force->setForceGroup(kRestraintGroup);
      worker->system->addForce(force);
      worker->torsionRestraint = force;
    }
    worker->integrator = std::make_unique<OpenMM::VerletIntegrator>(0.001);
    worker->context = std::make_unique<OpenMM::Context>(*worker->system, *worker->integrator, platform,
                                                        platformProperties(options_.platform, 1));
    worker->positions.resize(topology.size());
    workers_.push_back(std::move(worker));
  }
}

StructureScorer::~StructureScorer() = default;

namespace {

// The restraint's reference torsion, by featurize's one dihedral definition.
double dihedralOf(const std::vector<OpenMM::Vec3>& x, const std::array<int, 4>& atoms) {
  const auto at = [&](int k) { return Eigen::Vector3d(x[atoms[k]][0], x[atoms[k]][1], x[atoms[k]][2]); };
  return dihedralRad(at(0), at(1), at(2), at(3));
}

}  // namespace

ScoredBatch StructureScorer::score(const StructureBatchNm& structures) {
  ScoredBatch result;
  const Eigen::Index rows = structures.rows();
  const auto atoms = static_cast<Eigen::Index>(workers_.front()->positions.size());
  if (structures.cols() != 3 * atoms) {
    throw Error("scoring: structures have " + std::to_string(structures.cols() / 3) + " atoms, expected " +
                std::to_string(atoms));
  }
  result.energiesKjPerMol.assign(rows, std::numeric_limits<double>::quiet_NaN());
  result.structures = structures;
  auto work = [&](Worker& worker, Eigen::Index begin, Eigen::Index end) {
    for (Eigen::Index r = begin; r < end; ++r) {
      if (!structures.row(r).allFinite()) continue;
      for (Eigen::Index i = 0; i < atoms; ++i) {
        worker.positions[i] = OpenMM::Vec3(structures(r, 3 * i), structures(r, 3 * i + 1), structures(r, 3 * i + 2));
      }
      try {
        worker.context->setPositions(worker.positions);
        if (options_.relax != Relax::None) {
          if (worker.positionRestraint != nullptr) {
            for (std::size_t k = 0; k < worker.restrainedAtoms.size(); ++k) {
              const OpenMM::Vec3& p = worker.positions[worker.restrainedAtoms[k]];
              worker.positionRestraint->setParticleParameters(static_cast<int>(k), worker.restrainedAtoms[k],
                                                              {p[0], p[1], p[2]});
            }
            worker.positionRestraint->updateParametersInContext(*worker.context);
          }
          if (worker.torsionRestraint != nullptr) {
            const auto& p = options_.phiAtoms;
            const auto& q = options_.psiAtoms;
            worker.torsionRestraint->setTorsionParameters(0, p[0], p[1], p[2], p[3], {dihedralOf(worker.positions, p)});
            worker.torsionRestraint->setTorsionParameters(1, q[0], q[1], q[2], q[3], {dihedralOf(worker.positions, q)});
            worker.torsionRestraint->updateParametersInContext(*worker.context);
          }
          OpenMM::LocalEnergyMinimizer::minimize(*worker.context, options_.minimizeToleranceKjPerMolNm,
                                                 options_.maxIterations);
        }
        const OpenMM::State state = worker.context->getState(
            OpenMM::State::Energy | (options_.relax != Relax::None ? OpenMM::State::Positions : 0), false,
            kForceFieldGroups);
        result.energiesKjPerMol[r] = state.getPotentialEnergy();
        if (options_.relax != Relax::None) {
          const auto& x = state.getPositions();
          for (Eigen::Index i = 0; i < atoms; ++i)
            for (int d = 0; d < 3; ++d) result.structures(r, 3 * i + d) = x[i][d];
        }
      } catch (const std::exception&) {
        // A structure OpenMM cannot handle (e.g. overlapping atoms) scores NaN.
      }
    }
  };
  const auto count = static_cast<Eigen::Index>(workers_.size());
  if (count == 1 || rows < 2 * count) {
    work(*workers_.front(), 0, rows);
    return result;
  }
  std::vector<std::thread> threads;
  for (Eigen::Index w = 0; w < count; ++w) {
    threads.emplace_back(work, std::ref(*workers_[w]), rows * w / count, rows * (w + 1) / count);
  }
  for (auto& t : threads) t.join();
  return result;
}

}  // namespace activediff::plugin
