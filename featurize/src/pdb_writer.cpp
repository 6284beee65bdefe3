#include "pdb_writer.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <fstream>
#include <set>
#include <string>

#include "activediff/featurize/error.h"
#include "activediff/featurize/molecule_graph.h"
#include "activediff/featurize/output_policy.h"

namespace activediff::detail {

namespace fs = std::filesystem;

namespace {

constexpr double kAngstromPerNm = 10.0;
constexpr int kMaxSerial = 99999;  // five columns

// Columns 13-16: a one-letter element's name of up to three characters starts
// in column 14 (" CA "), as the PDB format and gmx, MDTraj and OpenMM have it.
std::string atomNameField(const std::string& name, const std::string& element) {
  std::string field = (name.size() < 4 && element.size() == 1) ? " " + name : name;
  field.resize(4, ' ');
  return field.substr(0, 4);
}

// The cell parameters of a box (rows are box vectors) for CRYST1.
void cellParameters(const Eigen::Matrix3d& boxNm, double lengths[3], double angles[3]) {
  for (int d = 0; d < 3; ++d) lengths[d] = boxNm.row(d).norm() * kAngstromPerNm;
  const auto angle = [&](int a, int b) {
    const double na = boxNm.row(a).norm(), nb = boxNm.row(b).norm();
    if (na <= 0.0 || nb <= 0.0) return 90.0;
    return std::acos(std::clamp(boxNm.row(a).dot(boxNm.row(b)) / (na * nb), -1.0, 1.0)) * 180.0 / M_PI;
  };
  angles[0] = angle(1, 2);  // alpha: between b and c
  angles[1] = angle(0, 2);  // beta
  angles[2] = angle(0, 1);  // gamma
}

}  // namespace

std::string PdbWriter::elementColumn(const Atom& atom) {
  std::string element = elementOf(atom);
  for (char& c : element) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return element.substr(0, 2);
}

PdbWriter::PdbWriter(const fs::path& file, const Topology& topology, bool append) : file_(file), topology_(topology) {
  if (append) {
    // Keep everything up to the end of the last model; cut the CONECT/END
    // tail (rewritten on close), keeping its bonds.
    std::ifstream in(file, std::ios::binary);
    if (!in) throw Error(displayPath(file).string(), "cannot open to append");
    std::uintmax_t offset = 0, keep = 0;
    bool inTail = false;
    std::set<std::pair<int, int>> bonds;
    for (std::string line; std::getline(in, line);) {
      const std::uintmax_t next = offset + line.size() + 1;
      if (!line.empty() && line.back() == '\r') line.pop_back();
      const bool tail = line.rfind("CONECT", 0) == 0 || line == "END" || line.rfind("END ", 0) == 0;
      if (line.rfind("MODEL", 0) == 0) ++models_;
      if (tail) {
        if (!inTail) keep = offset;
        inTail = true;
        for (std::size_t column = 11; line.rfind("CONECT", 0) == 0 && column + 5 <= line.size(); column += 5) {
          const std::string from = line.substr(6, 5), to = line.substr(column, 5);
          try {
            const int i = std::stoi(from) - 1, j = std::stoi(to) - 1;
            if (i != j && i >= 0 && j >= 0) bonds.insert({std::min(i, j), std::max(i, j)});
          } catch (const std::exception&) {
            // blank columns: fewer than four partners on this line
          }
        }
      } else if (!line.empty()) {
        inTail = false;
      }
      offset = next;
    }
    in.close();
    if (inTail) fs::resize_file(file, keep);
    if (!bonds.empty()) {
      bonds_.assign(bonds.begin(), bonds.end());
      haveBonds_ = true;
    }
  }
  out_ = std::fopen(file.c_str(), append ? "a" : "w");
  if (out_ == nullptr) throwWriteError(displayPath(file), "cannot open for writing");
}

PdbWriter::~PdbWriter() {
  try {
    close();
  } catch (const Error&) {
    // close() is called explicitly where errors matter
  }
}

void PdbWriter::fail(const std::string& what) {
  const int saved = errno;
  if (out_ != nullptr) std::fclose(out_);
  out_ = nullptr;
  errno = saved;
  throwWriteError(displayPath(file_), what);
}

void PdbWriter::write(const Frame& frame) {
  if (out_ == nullptr) throw Error(displayPath(file_).string(), "write after close");
  const int n = static_cast<int>(topology_.size());
  if (!haveBonds_) {
    // The molecule's bonds, found once from the first model's coordinates
    // by the same rules featurize uses (MoleculeGraph).
    const MoleculeGraph graph(topology_, frame.positionsNm);
    bonds_ = graph.bonds();
    haveBonds_ = true;
  }
  ++models_;
  double lengths[3], angles[3];
  cellParameters(frame.boxNm, lengths, angles);
  bool ok = std::fprintf(out_, "TITLE     frame t= %.3f\nREMARK    THIS IS A SIMULATION BOX\n", frame.timePs) > 0;
  ok = ok && std::fprintf(out_, "CRYST1%9.3f%9.3f%9.3f%7.2f%7.2f%7.2f P 1           1\n", lengths[0], lengths[1],
                          lengths[2], angles[0], angles[1], angles[2]) > 0;
  // Past 9999 the number grows into column 15, as MDTraj writes it.
  ok = ok && std::fprintf(out_, "MODEL     %4lld\n", static_cast<long long>(models_)) > 0;
  for (int i = 0; i < n && ok; ++i) {
    const Atom& atom = topology_.atoms[i];
    const std::string element = elementColumn(atom);
    std::string residue = atom.residueName.substr(0, 4);
    residue.resize(4, ' ');
    ok = std::fprintf(out_, "ATOM  %5d %4s %4s%c%4d    %8.3f%8.3f%8.3f%6.2f%6.2f          %2s\n",
                      (i + 1) % (kMaxSerial + 1), atomNameField(atom.name, element).c_str(), residue.c_str(), 'A',
                      atom.residueNumber % 10000, frame.positionsNm(i, 0) * kAngstromPerNm,
                      frame.positionsNm(i, 1) * kAngstromPerNm, frame.positionsNm(i, 2) * kAngstromPerNm, 1.0, 0.0,
                      element.c_str()) > 0;
  }
  ok = ok && std::fputs("TER\nENDMDL\n", out_) >= 0;
  if (!ok) fail("writing PDB model " + std::to_string(models_) + " failed");
}

void PdbWriter::close() {
  if (out_ == nullptr) return;
  bool ok = true;
  // CONECT: each bond from both atoms, at most four partners per record.
  // Serial numbers have five columns: larger systems get no CONECT records.
  if (haveBonds_ && topology_.size() <= static_cast<std::size_t>(kMaxSerial)) {
    std::vector<std::vector<int>> partners(topology_.size());
    for (const auto& [i, j] : bonds_) {
      if (i >= static_cast<int>(partners.size()) || j >= static_cast<int>(partners.size())) continue;
      partners[i].push_back(j);
      partners[j].push_back(i);
    }
    for (std::size_t i = 0; i < partners.size() && ok; ++i) {
      std::sort(partners[i].begin(), partners[i].end());
      for (std::size_t k = 0; k < partners[i].size() && ok; k += 4) {
        ok = std::fprintf(out_, "CONECT%5d", static_cast<int>(i) + 1) > 0;
        for (std::size_t m = k; m < std::min(k + 4, partners[i].size()) && ok; ++m)
          ok = std::fprintf(out_, "%5d", partners[i][m] + 1) > 0;
        ok = ok && std::fputc('\n', out_) != EOF;
      }
    }
  }
  if (models_ > 0) ok = ok && std::fputs("END\n", out_) >= 0;
  if (!ok || std::fflush(out_) != 0) fail("writing PDB failed");
  std::FILE* out = out_;
  out_ = nullptr;
  if (std::fclose(out) != 0) throwWriteError(displayPath(file_), "closing PDB failed");
}

}  // namespace activediff::detail
