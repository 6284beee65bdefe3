#include "plots.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <limits>

#include "activediff/featurize/atomic_output.h"
#include "activediff/featurize/error.h"
#include "activediff/featurize/states.h"
#include "activediff/plugin/openmm_setup.h"

namespace activediff::cli {

namespace fs = std::filesystem;

namespace {

// A scratch directory for gnuplot's data and script, removed afterwards.
class GnuplotJob {
 public:
  explicit GnuplotJob(const std::string& pngPath) : png_(pngPath), out_(pngPath) {
    std::string pattern = (fs::temp_directory_path() / "activediff-plot-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) throw Error(pngPath, "cannot create a scratch directory");
    dir_ = pattern;
  }
  ~GnuplotJob() {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  fs::path file(const std::string& name) const { return dir_ / name; }
  std::string output() const { return out_.temporary().string(); }

  void run(const std::string& script) {
    const fs::path scriptFile = file("plot.gp");
    std::ofstream(scriptFile) << script;
    const std::string command = "gnuplot " + scriptFile.string() + " > " + file("gnuplot.log").string() + " 2>&1";
    if (std::system(command.c_str()) != 0 || !isPng(output())) {
      std::ifstream log(file("gnuplot.log"));
      std::string text((std::istreambuf_iterator<char>(log)), std::istreambuf_iterator<char>());
      throw Error(png_, "gnuplot failed: " + text.substr(0, 500));
    }
    out_.commit();
  }

 private:
  std::string png_;
  AtomicOutput out_;
  fs::path dir_;
};

std::string quoted(const std::string& text) {
  std::string escaped;
  for (char c : text) {
    if (c == '"' || c == '\\') escaped += '\\';
    escaped += c;
  }
  return "\"" + escaped + "\"";
}

// Free energy in kJ/mol relative to the most populated bin; empty bins NaN.
void writeFreeEnergy(const fs::path& file, const RamachandranHistogram& histogram, double kTKjPerMol) {
  const auto p = histogram.probabilities();
  const double pMax = p.maxCoeff();
  std::ofstream out(file);
  for (int i = 0; i < kRamachandranBins; ++i) {
    for (int j = 0; j < kRamachandranBins; ++j) {
      const double phi = kRamachandranMinDeg + (i + 0.5) * kRamachandranBinDeg;
      const double psi = kRamachandranMinDeg + (j + 0.5) * kRamachandranBinDeg;
      const double f = p(i, j) > 0 && pMax > 0 ? -kTKjPerMol * std::log(p(i, j) / pMax) : NAN;
      // Empty bins stay in the grid as NaN, which gnuplot draws transparent.
      out << phi << " " << psi << " ";
      if (std::isfinite(f)) out << f; else out << "NaN";
      out << "\n";
    }
    out << "\n";
  }
}

std::string stateBoxObjects() {
  std::string objects;
  int id = 1;
  for (const StateBox& box : kStateBoxes) {
    const auto rect = [&](double psiLow, double psiHigh) {
      objects += "set object " + std::to_string(id++) + " rect from " + std::to_string(box.phiMinDeg) + "," +
                 std::to_string(psiLow) + " to " + std::to_string(box.phiMaxDeg) + "," +
                 std::to_string(psiHigh) + " fs empty border lc rgb 'black' lw 1.5 front\n";
    };
    if (box.psiAny) {
      rect(-180, 180);
    } else if (box.psiInside) {
      rect(kStatePsiLowDeg, kStatePsiHighDeg);
    } else {
      rect(kStatePsiHighDeg, 180);
      rect(-180, kStatePsiLowDeg);
    }
    const double labelPsi = box.psiInside && !box.psiAny ? -35 : (box.psiAny ? 150 : 150);
    objects += "set label " + std::to_string(id) + " " + quoted(box.name) + " at " +
               std::to_string(0.5 * (box.phiMinDeg + box.phiMaxDeg)) + "," + std::to_string(labelPsi) +
               " center front font ',9'\n";
  }
  return objects;
}

}  // namespace

bool isPng(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  char header[8] = {};
  in.read(header, 8);
  static const char signature[8] = {'\x89', 'P', 'N', 'G', '\r', '\n', '\x1a', '\n'};
  return in.gcount() == 8 && std::equal(header, header + 8, signature);
}

void plotRamachandranComparison(const std::string& pngPath, const RamachandranHistogram& reference,
                                const RamachandranHistogram& generated, const std::string& referenceLabel,
                                const std::string& generatedLabel, double temperatureK) {
  GnuplotJob job(pngPath);
  const double kT = plugin::kMolarGasConstantKjPerMolK * temperatureK;
  writeFreeEnergy(job.file("reference.dat"), reference, kT);
  writeFreeEnergy(job.file("generated.dat"), generated, kT);
  {
    const auto p = reference.probabilities();
    const auto q = generated.probabilities();
    std::ofstream out(job.file("difference.dat"));
    for (int i = 0; i < kRamachandranBins; ++i) {
      for (int j = 0; j < kRamachandranBins; ++j) {
        out << kRamachandranMinDeg + (i + 0.5) * kRamachandranBinDeg << " "
            << kRamachandranMinDeg + (j + 0.5) * kRamachandranBinDeg << " " << 100.0 * (q(i, j) - p(i, j)) << "\n";
      }
      out << "\n";
    }
  }
  const double diffMax = std::max(
      1e-3, 100.0 * (generated.probabilities() - reference.probabilities()).cwiseAbs().maxCoeff());
  std::string script =
      "set terminal pngcairo size 1500,480 font ',10'\nset output " + quoted(job.output()) +
      "\nset multiplot layout 1,3\nset xrange [-180:180]\nset yrange [-180:180]\nset size ratio 1\n"
      "set xtics 90\nset ytics 90\nset xlabel 'phi (deg)'\nset ylabel 'psi (deg)'\nset view map\n"
      "set palette defined (0 '#1a237e', 2 '#1e88e5', 5 '#43a047', 10 '#fdd835', "
      "15 '#ef6c00', 20 '#b71c1c')\nset cbrange [0:20]\nset cblabel 'free energy (kJ/mol)'\n" +
      stateBoxObjects() + "set title " + quoted(referenceLabel) +
      "\nplot " + quoted(job.file("reference.dat").string()) + " using 1:2:3 with image notitle\n" +
      "set title " + quoted(generatedLabel) + "\nplot " + quoted(job.file("generated.dat").string()) +
      " using 1:2:3 with image notitle\n" + "set palette defined (-1 '#2166ac', 0 'white', 1 '#b2182b')\n" +
      "set cbrange [" + std::to_string(-diffMax) + ":" + std::to_string(diffMax) + "]\n" +
      "set cblabel 'probability difference (%)'\nset title " + quoted(generatedLabel + " minus " + referenceLabel) +
      "\nplot " + quoted(job.file("difference.dat").string()) +
      " using 1:2:3 with image notitle\nunset multiplot\n";
  job.run(script);
}

std::vector<double> ramachandranMarginal(const RamachandranHistogram& histogram, int axis) {
  std::vector<double> counts(kRamachandranBins, 0.0);
  for (int i = 0; i < kRamachandranBins; ++i)
    for (int j = 0; j < kRamachandranBins; ++j) counts[axis == 0 ? i : j] += histogram.counts()(i, j);
  return counts;
}

std::vector<double> freeEnergyProfileKjPerMol(const std::vector<double>& counts, double temperatureK) {
  const double kT = plugin::kMolarGasConstantKjPerMolK * temperatureK;
  const double maxCount = counts.empty() ? 0.0 : *std::max_element(counts.begin(), counts.end());
  std::vector<double> profile(counts.size(), NAN);
  for (std::size_t b = 0; b < counts.size(); ++b)
    if (counts[b] > 0 && maxCount > 0) profile[b] = -kT * std::log(counts[b] / maxCount);
  return profile;
}

void plotFreeEnergyProfiles(const std::string& pngPath, const RamachandranHistogram& reference,
                            const RamachandranHistogram& generated, const std::string& referenceLabel,
                            const std::string& generatedLabel, double temperatureK) {
  GnuplotJob job(pngPath);
  std::string script = "set terminal pngcairo size 1100,450 font ',10'\nset output " + quoted(job.output()) +
                       "\nset multiplot layout 1,2 title " +
                       quoted("free energy -kT ln p, minimum 0, at " + std::to_string(static_cast<int>(std::lround(temperatureK))) +
                              " K (10-degree bins; gaps: no samples)") +
                       "\nset xrange [-180:180]\nset xtics 60\nset grid\nset key top center\n"
                       "set ylabel 'F (kJ/mol)'\nset yrange [0:*]\n";
  const char* names[2] = {"phi", "psi"};
  for (int axis = 0; axis < 2; ++axis) {
    const auto write = [&](const RamachandranHistogram& histogram, const std::string& name) {
      const std::vector<double> f = freeEnergyProfileKjPerMol(ramachandranMarginal(histogram, axis), temperatureK);
      const fs::path data = job.file(name + std::to_string(axis) + ".dat");
      std::ofstream out(data);
      for (int b = 0; b < kRamachandranBins; ++b) {
        out << kRamachandranMinDeg + (b + 0.5) * kRamachandranBinDeg << " ";
        if (std::isfinite(f[b])) out << f[b] << "\n"; else out << "NaN\n";
      }
      return data;
    };
    const fs::path ref = write(reference, "reference");
    const fs::path gen = write(generated, "generated");
    script += std::string("set title 'F(") + names[axis] + ")'\nset xlabel '" + names[axis] + " (deg)'\nplot " +
              quoted(ref.string()) + " using 1:2 with linespoints lw 2 pt 7 ps 0.5 lc rgb '#1e88e5' title " +
              quoted(referenceLabel) + ", " + quoted(gen.string()) +
              " using 1:2 with linespoints lw 2 pt 7 ps 0.5 lc rgb '#d81b60' title " + quoted(generatedLabel) + "\n";
  }
  job.run(script + "unset multiplot\n");
}

void plotHistograms(const std::string& pngPath, const std::vector<Series>& samples, const std::string& xLabel,
                    const std::string& title, int bins) {
  GnuplotJob job(pngPath);
  std::vector<double> all;
  for (const Series& s : samples)
    for (double v : s.x)
      if (std::isfinite(v)) all.push_back(v);
  if (all.empty()) throw Error(pngPath, "no finite values to plot");
  std::sort(all.begin(), all.end());
  // Robust range: 0.5 % to 99.5 % quantiles, so a few clashes do not hide the bulk.
  double lo = all[static_cast<std::size_t>(0.005 * (all.size() - 1))];
  double hi = all[static_cast<std::size_t>(0.995 * (all.size() - 1))];
  if (!(hi > lo)) hi = lo + 1.0;
  const double width = (hi - lo) / bins;
  std::string plot = "plot ";
  for (std::size_t k = 0; k < samples.size(); ++k) {
    std::vector<double> density(bins, 0.0);
    double n = 0;
    for (double v : samples[k].x) {
      if (!std::isfinite(v)) continue;
      n += 1;
      const int b = static_cast<int>(std::floor((v - lo) / width));
      if (b >= 0 && b < bins) density[b] += 1;
    }
    const fs::path data = job.file("h" + std::to_string(k) + ".dat");
    std::ofstream out(data);
    for (int b = 0; b < bins; ++b) out << lo + (b + 0.5) * width << " " << (n > 0 ? density[b] / (n * width) : 0) << "\n";
    plot += (k ? ", " : "") + quoted(data.string()) + " using 1:2 with steps lw 2 title " + quoted(samples[k].name);
  }
  job.run("set terminal pngcairo size 800,500 font ',10'\nset output " + quoted(job.output()) + "\nset title " +
          quoted(title) + "\nset xlabel " + quoted(xLabel) + "\nset ylabel 'density'\nset key top right\n" +
          "set grid\n" + plot + "\n");
}

void plotCurves(const std::string& pngPath, const std::vector<Series>& curves, const std::string& xLabel,
                const std::string& yLabel, const std::string& title, bool logY) {
  plotCurves(pngPath, curves, xLabel, yLabel, title, CurveAxes{false, logY});
}

void plotCurves(const std::string& pngPath, const std::vector<Series>& curves, const std::string& xLabel,
                const std::string& yLabel, const std::string& title, CurveAxes axes) {
  GnuplotJob job(pngPath);
  std::string plot = "plot ";
  bool any = false;
  for (std::size_t k = 0; k < curves.size(); ++k) {
    if (curves[k].x.empty()) continue;
    const fs::path data = job.file("c" + std::to_string(k) + ".dat");
    std::ofstream out(data);
    out.precision(17);
    for (std::size_t i = 0; i < curves[k].x.size() && i < curves[k].y.size(); ++i)
      out << curves[k].x[i] << " " << curves[k].y[i] << "\n";
    plot += std::string(any ? ", " : "") + quoted(data.string()) + " using 1:2 with linespoints pt 7 ps 0.4 lw 2 title " +
            quoted(curves[k].name);
    any = true;
  }
  if (!any) throw Error(pngPath, "no data to plot");
  std::string scales;
  if (axes.logX) scales += "set logscale x\nset autoscale xfix\n";
  if (axes.logY) scales += "set logscale y\nset format y '%.0e'\n";
  job.run("set terminal pngcairo size 800,500 font ',10'\nset output " + quoted(job.output()) +
          "\nset title " + quoted(title) + "\nset xlabel " + quoted(xLabel) + "\nset ylabel " + quoted(yLabel) +
          "\n" + scales + "set grid\nset key top right\n" + plot + "\n");
}

}  // namespace activediff::cli

namespace activediff::cli {

void plotHistogramGrid(const std::string& pngPath, const std::vector<PanelData>& panels,
                       const std::string& referenceLabel, const std::string& generatedLabel, int bins) {
  if (panels.empty()) throw Error(pngPath, "no panels to plot");
  GnuplotJob job(pngPath);
  const int columns = static_cast<int>(std::ceil(std::sqrt(static_cast<double>(panels.size()))));
  const int rows = static_cast<int>((panels.size() + columns - 1) / columns);
  std::string script = "set terminal pngcairo size " + std::to_string(300 * columns) + "," +
                       std::to_string(230 * rows + 40) + " font ',8'\nset output " + quoted(job.output()) +
                       "\nset multiplot layout " + std::to_string(rows) + "," + std::to_string(columns) +
                       " title " + quoted("blue: " + referenceLabel + "   red: " + generatedLabel) +
                       "\nunset key\nunset ytics\nset xtics font ',7'\n";
  for (std::size_t k = 0; k < panels.size(); ++k) {
    const PanelHistogram histogram = histogramOfPanel(panels[k], bins);
    if (histogram.edges.empty()) continue;
    const double lo = histogram.edges.front(), hi = histogram.edges.back();
    const double width = (hi - lo) / bins;
    const auto writeDensity = [&](const std::vector<std::int64_t>& counts, const fs::path& file) {
      double n = 0;
      for (std::int64_t c : counts) n += static_cast<double>(c);
      std::ofstream out(file);
      for (int b = 0; b < bins; ++b)
        out << lo + (b + 0.5) * width << " " << (n > 0 ? static_cast<double>(counts[b]) / (n * width) : 0) << "\n";
    };
    const fs::path ref = job.file("r" + std::to_string(k) + ".dat");
    const fs::path gen = job.file("g" + std::to_string(k) + ".dat");
    writeDensity(histogram.reference, ref);
    writeDensity(histogram.generated, gen);
    script += "set title " + quoted(panels[k].title) + "\nset xrange [" + std::to_string(lo) + ":" +
              std::to_string(hi) + "]\nplot " + quoted(ref.string()) + " using 1:2 with steps lw 2 lc rgb '#1e88e5', " +
              quoted(gen.string()) + " using 1:2 with steps lw 2 lc rgb '#d81b60'\n";
  }
  job.run(script + "unset multiplot\n");
}

PanelHistogram histogramOfPanel(const PanelData& panel, int bins) {
  PanelHistogram histogram;
  std::vector<double> all;
  for (double v : panel.reference)
    if (std::isfinite(v)) all.push_back(v);
  if (all.empty()) return histogram;
  std::sort(all.begin(), all.end());
  double lo = all[static_cast<std::size_t>(0.001 * (all.size() - 1))];
  double hi = all[static_cast<std::size_t>(0.999 * (all.size() - 1))];
  const double pad = 0.15 * std::max(hi - lo, 1e-6);
  lo -= pad;
  hi += pad;
  const double width = (hi - lo) / bins;
  for (int b = 0; b <= bins; ++b) histogram.edges.push_back(lo + b * width);
  const auto count = [&](const std::vector<double>& values) {
    std::vector<std::int64_t> counts(bins, 0);
    for (double v : values) {
      if (!std::isfinite(v)) continue;
      const int b = static_cast<int>(std::floor((v - lo) / width));
      if (b >= 0 && b < bins) ++counts[b];
    }
    return counts;
  };
  histogram.reference = count(panel.reference);
  histogram.generated = count(panel.generated);
  return histogram;
}

}  // namespace activediff::cli
