#include "activediff/featurize/structure.h"

#include <fcntl.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
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
#include "gromacs_log.h"
#include "dcd.h"
#include "pdb_writer.h"

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

// The child's result, in a temporary file: natoms, then per atom name,
// residue name, residue number, residue index, element, atomic number and
// x y z, then the box. Native byte order: parent and child are one program.
class ResultFile {
 public:
  explicit ResultFile(std::FILE* file) : file_(file) {}
  template <class T>
  void put(const T& value) { ok_ = ok_ && std::fwrite(&value, sizeof value, 1, file_) == 1; }
  void putString(const std::string& text) {
    put(static_cast<std::int32_t>(text.size()));
    ok_ = ok_ && std::fwrite(text.data(), 1, text.size(), file_) == text.size();
  }
  template <class T>
  T get() {
    T value{};
    ok_ = ok_ && std::fread(&value, sizeof value, 1, file_) == 1;
    return value;
  }
  std::string getString() {
    const auto size = get<std::int32_t>();
    if (!ok_ || size < 0 || size > 4096) {
      ok_ = false;
      return "";
    }
    std::string text(static_cast<std::size_t>(size), '\0');
    ok_ = ok_ && std::fread(text.data(), 1, text.size(), file_) == text.size();
    return text;
  }
  bool ok() const { return ok_; }

 private:
  std::FILE* file_;
  bool ok_ = true;
};

// Runs in the forked child: libgromacs reads, the result goes to `out`.
[[noreturn]] void readStructureInChild(const fs::path& file, std::FILE* out) {
  t_topology top;
  init_top(&top);
  PbcType pbcType = PbcType::Unset;
  rvec* x = nullptr;
  matrix box;
  for (auto& row : box) row[0] = row[1] = row[2] = 0;
  try {
    read_tps_conf(file.c_str(), &top, &pbcType, &x, nullptr, box, FALSE);
  } catch (const std::exception& e) {  // never unwind into the parent's code
    std::fprintf(stderr, "\n%s\n", e.what());
    std::fflush(stderr);
    ::_exit(3);
  } catch (...) {
    ::_exit(3);
  }
  const t_atoms& atoms = top.atoms;
  ResultFile result(out);
  result.put(static_cast<std::int32_t>(atoms.nr));
  for (int i = 0; i < atoms.nr; ++i) {
    const int resind = atoms.atom[i].resind;
    result.putString(*atoms.atomname[i]);
    result.putString(*atoms.resinfo[resind].name);
    result.put(static_cast<std::int32_t>(atoms.resinfo[resind].nr));
    result.put(static_cast<std::int32_t>(resind));
    result.putString(atoms.atom[i].elem);
    result.put(static_cast<std::int32_t>(atoms.atom[i].atomnumber));
    for (int d = 0; d < 3; ++d) result.put(static_cast<double>(x[i][d]));
  }
  for (int r = 0; r < 3; ++r)
    for (int c = 0; c < 3; ++c) result.put(static_cast<double>(box[r][c]));
  const bool ok = result.ok() && std::fflush(out) == 0;
  ::_exit(ok ? 0 : 4);
}

}  // namespace

Structure readStructure(const fs::path& file) {
  const std::string ext = lowerExtension(file);
  if (ext != ".pdb" && ext != ".gro" && ext != ".tpr") {
    throw Error(file.string(), "unsupported structure format '" + ext + "' (use .pdb, .gro or .tpr)");
  }
  requireReadable(file);
  // libgromacs prints "Reading file ..." for a .tpr and calls exit() or
  // crashes on a damaged file: it runs in a child with its output in a log.
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> result(std::tmpfile(), &std::fclose);
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> log(std::tmpfile(), &std::fclose);
  if (!result || !log) throw Error(file.string(), "cannot create temporary files to read it");
  std::fflush(nullptr);  // nothing buffered here may be written twice
  const pid_t child = ::fork();
  if (child < 0) throw Error(file.string(), "cannot start the reader process");
  if (child == 0) {
    ::dup2(::fileno(log.get()), STDERR_FILENO);
    ::dup2(::fileno(log.get()), STDOUT_FILENO);
    readStructureInChild(file, result.get());
  }
  int status = 0;
  while (::waitpid(child, &status, 0) < 0 && errno == EINTR) {
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    std::string how = WIFSIGNALED(status) ? "libgromacs crashed (signal " + std::to_string(WTERMSIG(status)) + ")"
                                          : "libgromacs aborted (exit code " + std::to_string(WEXITSTATUS(status)) + ")";
    const std::string message = detail::gromacsMessage(log.get());
    throw Error(file.string(), "corrupt or unreadable structure: " + how +
                                   (message.empty() ? "" : "; libgromacs said: " + message));
  }
  std::rewind(result.get());
  ResultFile in(result.get());
  const auto natoms = in.get<std::int32_t>();
  if (!in.ok()) throw Error(file.string(), "the reader process returned nothing (internal error)");
  if (natoms <= 0) throw Error(file.string(), "contains no atoms");
  Structure structure;
  structure.topology.atoms.resize(natoms);
  structure.positionsNm.resize(natoms, 3);
  for (int i = 0; i < natoms && in.ok(); ++i) {
    Atom& atom = structure.topology.atoms[i];
    atom.name = in.getString();
    atom.residueName = in.getString();
    atom.residueNumber = in.get<std::int32_t>();
    atom.residueIndex = in.get<std::int32_t>();
    atom.element = in.getString();
    const int atomicNumber = in.get<std::int32_t>();
    // Only a .tpr's atomic numbers come from the force field; for text
    // formats libgromacs guesses them from the names, which proves nothing.
    atom.atomicNumber = ext == ".tpr" ? std::max(0, atomicNumber) : 0;
    for (int d = 0; d < 3; ++d) structure.positionsNm(i, d) = in.get<double>();
  }
  for (int r = 0; r < 3; ++r)
    for (int c = 0; c < 3; ++c) structure.boxNm(r, c) = in.get<double>();
  if (!in.ok()) throw Error(file.string(), "the reader process returned a short result (internal error)");
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
  // .pdb is written by activediff (pdb_writer.h): libgromacs writes no
  // elements and no CONECT, and numbers models by step.
  std::unique_ptr<detail::PdbWriter> pdb;
  std::unique_ptr<detail::DcdWriter> dcd;  // .dcd: written by activediff (dcd.h)
};

TrajectoryWriter::TrajectoryWriter(const fs::path& file, Topology topology, Mode mode)
    : impl_(std::make_unique<Impl>()) {
  impl_->file = file;
  impl_->topology = std::move(topology);
  const std::string ext = lowerExtension(file);
  if (ext != ".xtc" && ext != ".trr" && ext != ".gro" && ext != ".pdb" && ext != ".dcd") {
    throw Error(file.string(), "unsupported trajectory format '" + ext + "' (use .xtc, .trr, .dcd, .gro or .pdb)");
  }
  if (mode == Mode::Append && !fs::exists(file)) {
    throw Error(file.string(), "cannot append: file does not exist");
  }
  open_symtab(&impl_->symtab);
  init_t_atoms(&impl_->atoms, 0, FALSE);
  if (ext == ".pdb") {
    impl_->pdb = std::make_unique<detail::PdbWriter>(file, impl_->topology, mode == Mode::Append);
    return;
  }
  if (ext == ".dcd") {
    impl_->dcd = std::make_unique<detail::DcdWriter>(file, static_cast<int>(impl_->topology.size()),
                                                     mode == Mode::Append);
    return;
  }
  impl_->needsAtoms = ext == ".gro";
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
  try {
    close();
  } catch (const Error&) {
    // a failed PDB close; callers that care call close() themselves
  }
  done_atom(&impl_->atoms);
  done_symtab(&impl_->symtab);
}

void TrajectoryWriter::write(const Frame& frame) {
  if (impl_->dcd != nullptr) return impl_->dcd->write(frame);
  if (impl_->status == nullptr && impl_->pdb == nullptr) throw Error(impl_->file.string(), "write after close");
  const int n = static_cast<int>(frame.positionsNm.rows());
  if (static_cast<std::size_t>(n) != impl_->topology.size()) {
    throw Error(impl_->file.string(), "frame has " + std::to_string(n) + " atoms, topology has " +
                                          std::to_string(impl_->topology.size()));
  }
  if (impl_->pdb != nullptr) return impl_->pdb->write(frame);
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
  if (impl_ && impl_->dcd != nullptr) impl_->dcd->close();
  if (impl_ && impl_->pdb != nullptr) impl_->pdb->close();
  if (impl_ && impl_->status != nullptr) {
    close_trx(impl_->status);
    impl_->status = nullptr;
  }
}

}  // namespace activediff
