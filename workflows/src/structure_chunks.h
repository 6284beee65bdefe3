#pragma once
// StructurePath::run over a long feature matrix in chunks of rows, with a
// progress display (ETA on stderr) between them, for `rebuild` and
// `evaluate`. The result equals one run over all rows: every row is rebuilt,
// relaxed and scored on its own.
#include <algorithm>
#include <cstdint>

#include "progress.h"
#include "structure_pipeline.h"

namespace activediff::cli {

// Rows per chunk: about a hundred chunks, so that a log gets a line at every
// 10 %, and never more than 512 rows between two progress updates.
inline std::int64_t structureChunkRows(std::int64_t rows) { return std::clamp<std::int64_t>(rows / 100, 16, 512); }

// Runs the rows of `features` through `path`; progress.update(done + rows so
// far) after each chunk, `done` being what the display counted before.
inline StructurePath::Result runInChunks(const StructurePath& path, const FeatureMatrix& features,
                                         ProgressDisplay& progress, std::int64_t done = 0) {
  const std::int64_t rows = features.rows();
  const std::int64_t chunk = structureChunkRows(rows);
  progress.update(done);  // the rate, hence the ETA, is measured from here
  if (rows <= chunk) {
    StructurePath::Result result = path.run(features);
    progress.update(done + rows);
    return result;
  }
  StructurePath::Result all;
  std::int64_t filled = 0;
  for (std::int64_t start = 0; start < rows; start += chunk) {
    const std::int64_t n = std::min(chunk, rows - start);
    const FeatureMatrix part = features.middleRows(start, n);
    StructurePath::Result result = path.run(part);
    if (start == 0) {
      all.rebuilt.structures.resize(rows, result.rebuilt.structures.cols());
      all.structures.resize(rows, result.structures.cols());
      all.rebuilt.invalid.reserve(rows);
    }
    all.rebuilt.structures.middleRows(filled, n) = result.rebuilt.structures;
    all.structures.middleRows(filled, n) = result.structures;
    all.rebuilt.invalid.insert(all.rebuilt.invalid.end(), result.rebuilt.invalid.begin(), result.rebuilt.invalid.end());
    all.energiesKjPerMol.insert(all.energiesKjPerMol.end(), result.energiesKjPerMol.begin(),
                                result.energiesKjPerMol.end());
    all.structuresWithClashes += result.structuresWithClashes;
    filled += n;
    progress.update(done + filled);
  }
  return all;
}

}  // namespace activediff::cli
