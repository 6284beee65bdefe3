#include "activediff/featurize/structure.h"

#include <algorithm>
#include <cstring>
#include <fstream>

#include "activediff/featurize/error.h"
#include "gromacs/fileio/confio.h"
#include "gromacs/fileio/trxio.h"
#include "gromacs/pbcutil/pbc.h"
#include "gromacs/topology/atoms.h"
#include "gromacs/topology/symtab.h"
#include "gromacs/topology/topology.h"
#include "gromacs/trajectory/trajectoryframe.h"
#include "gromacs/utility/smalloc.h"

namespace activediff {

namespace fs = std::filesystem;

std::optional<int> Topology::find(int residueIndex, const std::string& atomName) const {
  for (std::size_t i = 0; i < atoms.size(); ++i) {
    if (atoms[i].residueIndex == residueIndex && atoms[i].name == atomName) return static_cast<int>(i);
  }
  return std::nullopt;
}

int Topology::residueCount() const {
  int count = 0;
  for (const Atom& atom : atoms) count = std::max(count, atom.residueIndex + 1);
  return count;
}

namespace {

void requireReadable(const fs::path& file) {
  std::ifstream probe(file, std::ios::binary);
  if (!probe) throw Error(file.string(), "cannot open (missing or unreadable)");
  if (fs::file_size(file) == 0) throw Error(file.string(), "file is empty");
}

std::string lowerExtension(const fs::path& file) {
  std::string ext = file.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
  return ext;
}

}  // namespace

Structure readStructure(const fs::path& file) {
  const std::string ext = lowerExtension(file);
  if (ext != ".pdb" && ext != ".gro" && ext != ".tpr") {
    throw Error(file.string(), "unsupported structure format '" + ext + "' (use .pdb, .gro or .tpr)");
  }
  requireReadable(file);
  t_topology top;
  init_top(&top);
  PbcType pbcType = PbcType::Unset;
  rvec* x = nullptr;
  matrix box;
  for (auto& row : box) row[0] = row[1] = row[2] = 0;
  read_tps_conf(file.c_str(), &top, &pbcType, &x, nullptr, box, FALSE);

  Structure structure;
  const t_atoms& atoms = top.atoms;
  if (atoms.nr <= 0) {
    sfree(x);
    done_top(&top);
    throw Error(file.string(), "contains no atoms");
  }
  structure.topology.atoms.resize(atoms.nr);
  structure.positionsNm.resize(atoms.nr, 3);
  for (int i = 0; i < atoms.nr; ++i) {
    Atom& atom = structure.topology.atoms[i];
    atom.name = *atoms.atomname[i];
    const int resind = atoms.atom[i].resind;
    atom.residueIndex = resind;
    atom.residueName = *atoms.resinfo[resind].name;
    atom.residueNumber = atoms.resinfo[resind].nr;
    atom.element = atoms.atom[i].elem;
    for (int d = 0; d < 3; ++d) structure.positionsNm(i, d) = x[i][d];
  }
  for (int r = 0; r < 3; ++r)
    for (int c = 0; c < 3; ++c) structure.boxNm(r, c) = box[r][c];
  sfree(x);
  done_top(&top);
  if (!structure.positionsNm.allFinite()) throw Error(file.string(), "coordinates are not finite");
  return structure;
}

Eigen::Matrix3d enclosingBoxNm(const PositionsNm& positionsNm, double marginNm) {
  const Eigen::RowVector3d extent = positionsNm.colwise().maxCoeff() - positionsNm.colwise().minCoeff();
  Eigen::Matrix3d box = Eigen::Matrix3d::Zero();
  for (int d = 0; d < 3; ++d) box(d, d) = extent(d) + 2.0 * marginNm;
  return box;
}

struct TrajectoryWriter::Impl {
  fs::path file;
  Topology topology;
  t_trxstatus* status = nullptr;
  t_symtab symtab;
  t_atoms atoms;
  bool needsAtoms = false;
};

TrajectoryWriter::TrajectoryWriter(const fs::path& file, Topology topology, Mode mode)
    : impl_(std::make_unique<Impl>()) {
  impl_->file = file;
  impl_->topology = std::move(topology);
  const std::string ext = lowerExtension(file);
  if (ext != ".xtc" && ext != ".trr" && ext != ".gro" && ext != ".pdb") {
    throw Error(file.string(), "unsupported trajectory format '" + ext + "' (use .xtc, .trr, .gro or .pdb)");
  }
  if (mode == Mode::Append && !fs::exists(file)) {
    throw Error(file.string(), "cannot append: file does not exist");
  }
  impl_->needsAtoms = (ext == ".gro" || ext == ".pdb");
  open_symtab(&impl_->symtab);
  init_t_atoms(&impl_->atoms, 0, FALSE);
  if (impl_->needsAtoms) {
    // Text formats need names: build a t_atoms from our topology.
    const Topology& top = impl_->topology;
    const int n = static_cast<int>(top.size());
    const int nres = top.residueCount();
    init_t_atoms(&impl_->atoms, n, FALSE);
    add_t_atoms(&impl_->atoms, 0, nres);
    impl_->atoms.nres = nres;
    for (int i = 0; i < n; ++i) {
      const Atom& a = top.atoms[i];
      impl_->atoms.atomname[i] = put_symtab(&impl_->symtab, a.name.c_str());
      impl_->atoms.atom[i].resind = a.residueIndex;
      std::strncpy(impl_->atoms.atom[i].elem, a.element.c_str(), 3);
      impl_->atoms.atom[i].elem[3] = '\0';
      t_resinfo& res = impl_->atoms.resinfo[a.residueIndex];
      res.name = put_symtab(&impl_->symtab, a.residueName.c_str());
      res.nr = a.residueNumber;
      res.ic = ' ';
      res.chainnum = 0;
      res.chainid = 'A';
      res.rtp = nullptr;
    }
  }
  impl_->status = open_trx(file.c_str(), mode == Mode::Append ? "a" : "w");
  if (impl_->status == nullptr) throw Error(file.string(), "cannot open for writing");
}

TrajectoryWriter::~TrajectoryWriter() {
  close();
  done_atom(&impl_->atoms);
  done_symtab(&impl_->symtab);
}

void TrajectoryWriter::write(const Frame& frame) {
  if (impl_->status == nullptr) throw Error(impl_->file.string(), "write after close");
  const int n = static_cast<int>(frame.positionsNm.rows());
  if (static_cast<std::size_t>(n) != impl_->topology.size()) {
    throw Error(impl_->file.string(), "frame has " + std::to_string(n) + " atoms, topology has " +
                                          std::to_string(impl_->topology.size()));
  }
  std::vector<rvec> x(n);
  for (int i = 0; i < n; ++i)
    for (int d = 0; d < 3; ++d) x[i][d] = static_cast<real>(frame.positionsNm(i, d));
  t_trxframe fr;
  clear_trxframe(&fr, TRUE);
  fr.natoms = n;
  fr.bStep = TRUE;
  fr.step = frame.step;
  fr.bTime = TRUE;
  fr.time = static_cast<real>(frame.timePs);
  fr.bX = TRUE;
  fr.x = x.data();
  fr.bBox = TRUE;
  for (int r = 0; r < 3; ++r)
    for (int c = 0; c < 3; ++c) fr.box[r][c] = static_cast<real>(frame.boxNm(r, c));
  fr.bPrec = TRUE;
  fr.prec = 1000;  // XTC precision: 1e-3 nm
  if (impl_->needsAtoms) {
    fr.bAtoms = TRUE;
    fr.atoms = &impl_->atoms;
  }
  write_trxframe(impl_->status, &fr, nullptr);
}

void TrajectoryWriter::close() {
  if (impl_ && impl_->status != nullptr) {
    close_trx(impl_->status);
    impl_->status = nullptr;
  }
}

}  // namespace activediff
