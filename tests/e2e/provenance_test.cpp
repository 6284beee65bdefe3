// Provenance in every JSON output: the sha256 of every input (against
// Python's hashlib) and the versions of the libraries activediff was built
// against (against OpenMM's Python layer and `gmx --version`).
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "activediff/featurize/sha256.h"
#include "support/test_support.h"

namespace activediff {
namespace {

namespace fs = std::filesystem;
using testing::runActivediff;
using testing::runCommand;

std::string trimmed(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

std::string hashlibSha256(const fs::path& file) {
  return trimmed(runCommand("/usr/bin/python3 -c \"import hashlib,sys; "
                            "print(hashlib.sha256(open(sys.argv[1],'rb').read()).hexdigest())\" " +
                            file.string())
                     .output);
}

TEST(Sha256, MatchesTheFipsExamples) {
  EXPECT_EQ(sha256OfBytes(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(sha256OfBytes("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(sha256OfBytes("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

TEST(Provenance, InputsCarryTheirSha256AndTheBuildRecordsLibraryVersions) {
  testing::ScratchDirectory scratch;
  const fs::path ex = testing::examplesDir() / "ala2";
  const fs::path xtc = ex / "md" / "run1.xtc";
  const fs::path pdb = ex / "ala2.pdb";
  ASSERT_EQ(runActivediff("featurize -f " + xtc.string() + " -s " + pdb.string() + " --last-frame 49 -q -o " +
                          (scratch / "ds").string() + " --summary " + (scratch / "ds.json").string())
                .exitCode,
            0);
  ASSERT_EQ(runActivediff("energy --system " + (ex / "system.xml").string() + " -f " + xtc.string() +
                          " --last-frame 4 -o " + (scratch / "e.csv").string())
                .exitCode,
            0);
  const auto read = [](const fs::path& file) { return nlohmann::json::parse(std::ifstream(file)); };
  const nlohmann::json featurize = read(scratch / "ds.json");
  const nlohmann::json energy = read(scratch / "e.json");
  std::map<std::string, std::string> seen;
  for (const nlohmann::json* doc : {&featurize, &energy})
    for (const auto& input : (*doc)["inputs"]) seen[input["path"]] = input["sha256"];
  ASSERT_TRUE(seen.count(xtc.string()) && seen.count(pdb.string()) && seen.count((ex / "system.xml").string()));
  for (const auto& [path, sha] : seen) EXPECT_EQ(sha, hashlibSha256(path)) << path;

  // The dataset directory as an input: each of its files.
  ASSERT_EQ(runActivediff("rebuild --features " + (scratch / "ds").string() + " --topology " + pdb.string() +
                          " --limit 2 -o " + (scratch / "rb.pdb").string())
                .exitCode,
            0);
  const nlohmann::json rebuild = read(scratch / "rb.pdb.json");
  bool sawDataset = false;
  for (const auto& input : rebuild["inputs"]) {
    if (input["path"] != (scratch / "ds").string()) continue;
    sawDataset = true;
    EXPECT_EQ(input["files"]["features.npy"], hashlibSha256(scratch / "ds" / "features.npy"));
    EXPECT_EQ(input["files"]["meta.json"], hashlibSha256(scratch / "ds" / "meta.json"));
  }
  EXPECT_TRUE(sawDataset) << rebuild["inputs"].dump();

  const nlohmann::json built = featurize["built_against"];
  const std::string openmm =
      trimmed(runCommand("/usr/bin/python3 -c \"import openmm; print(openmm.__version__)\"").output);
  EXPECT_EQ(openmm.rfind(built["openmm"].get<std::string>(), 0), 0u) << openmm << " vs " << built.dump();
  const std::string gmx = runCommand("gmx --version -quiet 2>&1 | grep 'GROMACS version'").output;
  EXPECT_NE(gmx.find(built["gromacs"].get<std::string>()), std::string::npos) << gmx << " vs " << built.dump();
  EXPECT_FALSE(built["libtorch"].get<std::string>().empty());
}

}  // namespace
}  // namespace activediff
