// Downstream use of an installed activediff: phi/psi of a PDB through
// activediff::featurize and the variance of a Van Loan kernel through
// activediff::model, each checked against a value known independently.
#include <activediff/featurize/backbone.h>
#include <activediff/featurize/error.h>
#include <activediff/featurize/structure.h>
#include <activediff/model/linear_sde.h>
#include <activediff/model/van_loan_kernel.h>
#include <activediff/version.h>

#include <cmath>
#include <cstdio>
#include <exception>

namespace {
bool near(const char* what, double value, double expected, double tolerance) {
  const bool ok = std::abs(value - expected) <= tolerance;
  std::printf("%s = %.9f (expected %.9f +- %g) %s\n", what, value, expected, tolerance,
              ok ? "ok" : "MISMATCH");
  return ok;
}
}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s ala2.pdb\n", argv[0]);
    return 2;
  }
  try {
    std::printf("activediff %s\n", activediff::kVersion);
    const activediff::Structure structure = activediff::readStructure(argv[1]);
    const auto atoms = activediff::findBackboneDihedrals(structure.topology, argv[1]);
    const auto phiPsi = activediff::phiPsiRad(atoms, structure.positionsNm);
    const double degrees = 180.0 / M_PI;
    bool ok = true;
    // The shipped examples/ala2/ala2.pdb, by the IUPAC formula from its
    // coordinates in double precision (the file is read in float: 1e-5 deg).
    ok &= near("phi_deg", phiPsi[0] * degrees, -77.905939722, 1e-4);
    ok &= near("psi_deg", phiPsi[1] * degrees, -12.579763909, 1e-4);
    // Passive OU dx = -k x dt + sqrt(2T) dW: S(t) = T/k (1 - exp(-2 k t)).
    const activediff::model::VanLoanKernel kernel(activediff::model::LinearSde::passive(1.0, 1.0));
    ok &= near("van_loan_S(1)", kernel.moments(1.0).covariance(0, 0), 1.0 - std::exp(-2.0), 1e-12);
    return ok ? 0 : 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "downstream: %s\n", e.what());
    return 1;
  }
}
