#pragma once
// Pictures for reports, drawn by gnuplot (pngcairo). Each function writes a
// PNG atomically and throws activediff::Error when gnuplot fails, so a report
// never links a missing or broken picture.
#include <Eigen/Core>
#include <cstdint>
#include <string>
#include <vector>

#include "activediff/featurize/ramachandran.h"

namespace activediff::cli {

struct Series {
  std::string name;
  std::vector<double> x;
  std::vector<double> y;  // empty for histogram samples (x holds the values)
};

// Free-energy surfaces -kT ln p (kJ/mol, minimum at 0) of reference and
// generated Ramachandran histograms, and their probability difference, side
// by side, with the metastable-state boxes drawn.
void plotRamachandranComparison(const std::string& pngPath, const RamachandranHistogram& reference,
                                const RamachandranHistogram& generated, const std::string& referenceLabel,
                                const std::string& generatedLabel, double temperatureK);

// A 1D free-energy profile F = -kT ln(p / p_max) in kJ/mol (minimum 0) from
// histogram counts; NaN for empty bins. The one definition, used for the
// plots and for report.json.
std::vector<double> freeEnergyProfileKjPerMol(const std::vector<double>& counts, double temperatureK);

// 1D free-energy profiles F(phi) and F(psi) (kJ/mol at temperatureK), the
// reference beside the generated samples, from the Ramachandran histograms'
// marginals (10-degree bins): two panels.
void plotFreeEnergyProfiles(const std::string& pngPath, const RamachandranHistogram& reference,
                            const RamachandranHistogram& generated, const std::string& referenceLabel,
                            const std::string& generatedLabel, double temperatureK);

// Marginal counts of a Ramachandran histogram: axis 0 phi (row sums), 1 psi.
std::vector<double> ramachandranMarginal(const RamachandranHistogram& histogram, int axis);

// Normalized histograms of several samples on shared bins.
void plotHistograms(const std::string& pngPath, const std::vector<Series>& samples, const std::string& xLabel,
                    const std::string& title, int bins = 60);

// Line plots (e.g. training and validation loss against step).
void plotCurves(const std::string& pngPath, const std::vector<Series>& curves, const std::string& xLabel,
                const std::string& yLabel, const std::string& title, bool logY);

// The same with a choice of logarithmic axes (a log y axis labelled 1e-06,
// ...); the analyses' curves (fisher-memory, speciation, state-memory).
struct CurveAxes {
  bool logX = false;
  bool logY = false;
};
void plotCurves(const std::string& pngPath, const std::vector<Series>& curves, const std::string& xLabel,
                const std::string& yLabel, const std::string& title, CurveAxes axes);

// True when the file starts with the PNG signature.
bool isPng(const std::string& path);

}  // namespace activediff::cli

namespace activediff::cli {

// A grid of small histograms, one panel per feature: reference against
// generated (e.g. the 25 internal coordinates).
struct PanelData {
  std::string title;
  std::vector<double> reference;
  std::vector<double> generated;
};
void plotHistogramGrid(const std::string& pngPath, const std::vector<PanelData>& panels,
                       const std::string& referenceLabel, const std::string& generatedLabel, int bins = 40);

// The binning of one panel, as plotHistogramGrid draws it: `bins` equal bins
// over the reference's 0.1-99.9 % range widened by 15 % each side; counts of
// the finite values in [edges[b], edges[b + 1]) (values outside are not
// counted). Empty edges when the reference has no finite value.
struct PanelHistogram {
  std::vector<double> edges;
  std::vector<std::int64_t> reference, generated;
};
PanelHistogram histogramOfPanel(const PanelData& panel, int bins = 40);

}  // namespace activediff::cli
