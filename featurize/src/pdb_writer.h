#pragma once
// Multi-model PDB written by activediff itself (libgromacs writes neither the
// element column nor CONECT records): per model TITLE (time, as gmx reads it
// back), CRYST1, MODEL n (1..N, continuing when appending), ATOM records with
// elements in columns 77-78, TER, ENDMDL; on close the molecule's bonds as
// CONECT records, then END. Internal to featurize: TrajectoryWriter dispatches
// .pdb here.
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <utility>
#include <vector>

#include "activediff/featurize/structure.h"

namespace activediff::detail {

class PdbWriter {
 public:
  // append: continue an existing file -- its CONECT/END tail is cut off and
  // rewritten on close, its CONECT bonds kept, its MODEL numbers continued.
  PdbWriter(const std::filesystem::path& file, const Topology& topology, bool append);
  ~PdbWriter();
  PdbWriter(const PdbWriter&) = delete;
  PdbWriter& operator=(const PdbWriter&) = delete;
  void write(const Frame& frame);
  void close();

  // The element symbol written in columns 77-78 ("C", "CL"): elementOf()
  // (molecule_graph.h), upper case.
  static std::string elementColumn(const Atom& atom);

 private:
  void fail(const std::string& what);
  std::filesystem::path file_;
  const Topology& topology_;
  std::FILE* out_ = nullptr;
  std::int64_t models_ = 0;
  bool haveBonds_ = false;
  std::vector<std::pair<int, int>> bonds_;  // 0-based, each once
};

}  // namespace activediff::detail
