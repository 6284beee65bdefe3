// Datasets on disk: round trip, numpy compatibility, validation, splits.
#include <gtest/gtest.h>

#include <fstream>

#include "activediff/featurize/dataset.h"
#include "activediff/featurize/error.h"
#include "activediff/featurize/geometry.h"
#include "test_support.h"

namespace activediff {
namespace {

DatasetInfo twoFeatures() {
  DatasetInfo info;
  info.featureSet = "test";
  info.features = {{"phi", "rad", true, FeatureKind::TorsionRad}, {"bond", "nm", false, FeatureKind::BondNm}};
  info.sources = {{"a.xtc", 100}};
  info.topologyFile = "top.pdb";
  return info;
}

fs::path writeSmall(const fs::path& dir, int frames = 100) {
  const fs::path out = dir / "data";
  DatasetWriter writer(out, twoFeatures());
  for (int i = 0; i < frames; ++i) {
    // phi avoids [100, 110) degrees: the cut must land there.
    const double phiDeg = -180.0 + std::fmod(i * 7.3, 280.0);
    const double f[2] = {wrapToPiRad(phiDeg * kRadPerDeg), 0.1 + 1e-4 * i};
    writer.append(f, 2.0 * i, 0, 3 * i);
  }
  writer.commit();
  return out;
}

TEST(Dataset, RoundTripKeepsEverything) {
  test::ScratchDir dir;
  const fs::path out = writeSmall(dir.path());
  const Dataset d = readDataset(out);
  ASSERT_EQ(d.frames(), 100);
  ASSERT_EQ(d.dimension(), 2);
  EXPECT_EQ(d.info.features[0].name, "phi");
  EXPECT_TRUE(d.info.features[0].periodic);
  EXPECT_FALSE(d.info.features[1].periodic);
  EXPECT_TRUE(std::isnan(d.info.branchCutsRad[1]));
  EXPECT_NEAR(d.info.branchCutsRad[0] * kDegPerRad, 105.0, 1e-9);
  EXPECT_DOUBLE_EQ(d.features(7, 1), 0.1 + 7e-4);
  EXPECT_DOUBLE_EQ(d.timePs[9], 18.0);
  EXPECT_EQ(d.sourceFrame[9], 27);
  EXPECT_EQ(d.featureIndex("bond"), 1);
  // Nothing but the dataset directory is left behind.
  int entries = 0;
  for (const auto& e : fs::directory_iterator(dir.path())) entries += e.path() != out;
  EXPECT_EQ(entries, 0);
}

TEST(Dataset, NumpyOpensItDirectly) {
  test::ScratchDir dir;
  const fs::path out = writeSmall(dir.path());
  const std::string script =
      "import numpy as np, json, sys; d = sys.argv[1]; f = np.load(d + '/features.npy'); "
      "t = np.load(d + '/time_ps.npy'); s = np.load(d + '/source_frame.npy'); "
      "m = json.load(open(d + '/meta.json')); "
      "assert f.shape == (100, 2) and f.dtype == np.float64, f.shape; "
      "assert t.shape == (100,) and s.dtype == np.int64; "
      "assert abs(f[7, 1] - 0.1007) < 1e-15 and t[9] == 18.0 and s[9] == 27; "
      "assert [x['name'] for x in m['features']] == ['phi', 'bond']; "
      "print('numpy ok')";
  const auto result = test::runCommand(std::string(ACTIVEDIFF_PYTHON) + " -c \"" + script + "\" " + test::quote(out));
  EXPECT_EQ(result.exitCode, 0) << result.output;
  EXPECT_NE(result.output.find("numpy ok"), std::string::npos) << result.output;
}

TEST(Dataset, ValidationCatchesNanAndMismatches) {
  test::ScratchDir dir;
  const fs::path out = writeSmall(dir.path());
  {
    // A NaN in frame 5, feature "bond" (little-endian float64 at row 5, column 1).
    std::fstream f(out / "features.npy", std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(128 + 8 * (5 * 2 + 1));
    const double nan = std::nan("");
    f.write(reinterpret_cast<const char*>(&nan), 8);
  }
  try {
    readDataset(out);
    FAIL() << "NaN accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("frame 5, feature bond is not finite"), std::string::npos) << e.what();
  }
}

TEST(Dataset, DimensionMismatchIsAnError) {
  test::ScratchDir dir;
  const fs::path out = writeSmall(dir.path());
  // meta.json claims a third feature that features.npy does not have.
  std::string meta = test::readText(out / "meta.json");
  const std::string from = "\"dimension\": 2";
  meta.replace(meta.find(from), from.size(), "\"dimension\": 3");
  const std::string feature = "\"features\": [";
  meta.insert(meta.find(feature) + feature.size(),
              "{\"name\": \"extra\", \"unit\": \"nm\", \"kind\": \"bond\", \"periodic\": false, "
              "\"branch_cut_rad\": null},");
  std::ofstream(out / "meta.json") << meta;
  try {
    readDataset(out);
    FAIL() << "mismatch accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("features.npy: has 2 features per frame, meta.json lists 3"),
              std::string::npos)
        << e.what();
  }
  fs::resize_file(out / "features.npy", fs::file_size(out / "features.npy") - 8);
  EXPECT_THROW(readDataset(out), Error);
  EXPECT_THROW(readDataset(dir / "nothing"), Error);
}

TEST(Dataset, FailedWriteLeavesNothing) {
  test::ScratchDir dir;
  {
    DatasetWriter writer(dir / "data", twoFeatures());
    const double f[2] = {0.0, 0.1};
    writer.append(f, 0.0, 0, 0);
    // destroyed without commit(), as when an exception unwinds
  }
  EXPECT_TRUE(fs::is_empty(dir.path()));
}

TEST(Dataset, SplitByContiguousTimeBlocks) {
  const DatasetSplit split = splitByTimeBlocks(1000, 0.2, 10);
  ASSERT_EQ(split.validation.size(), 200u);
  ASSERT_EQ(split.train.size(), 800u);
  // Two whole blocks of 100 frames, not neighbours of each other.
  EXPECT_EQ(split.validation.front() % 100, 0);
  int starts = 0;
  for (std::size_t k = 0; k < split.validation.size(); ++k) {
    if (k == 0 || split.validation[k] != split.validation[k - 1] + 1) ++starts;
  }
  EXPECT_EQ(starts, 2);
  const DatasetSplit none = splitByTimeBlocks(10, 0.0, 5);
  EXPECT_TRUE(none.validation.empty());
  EXPECT_THROW(splitByTimeBlocks(10, 1.0, 5), Error);
}

}  // namespace
}  // namespace activediff
