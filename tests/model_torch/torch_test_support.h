#pragma once
// Helpers of the model_torch tests: mixture data on disk, a tiny training
// config, a background child process.
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <Eigen/Core>
#include <filesystem>
#include <string>
#include <vector>

#include "activediff/featurize/npy.h"
#include "activediff/model/gaussian_mixture.h"

namespace activediff::testing {

inline void writeNpy(const std::filesystem::path& file, const Eigen::ArrayXXd& a) {
  NpyWriter writer(file, NpyType::Float64, a.cols());
  Eigen::Array<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> rows = a;
  for (Eigen::Index i = 0; i < rows.rows(); ++i) writer.appendRow(rows.row(i).data());
  writer.finish();
}

// n points of the seed paper's 9-peak diamond, as an N x 2 .npy.
inline void writeDiamond(const std::filesystem::path& file, int n, std::uint64_t seed) {
  model::Rng rng(seed);
  writeNpy(file, model::GaussianMixture::diamond().sample(n, rng));
}

// A small, fast training config (passive unless overridden).
inline std::string tinyTrainingArgs() {
  return "--set network.width=32 --set network.depth=2 --set training.batch_size=64 "
         "--set training.warmup_steps=20 --set training.log_every=25 "
         "--set training.validation_every=100 --set training.validation_samples=256";
}

// fork/exec of a shell command line, for tests that kill a running child.
class BackgroundProcess {
 public:
  explicit BackgroundProcess(const std::string& commandLine) {
    const char* argv[] = {"/bin/sh", "-c", commandLine.c_str(), nullptr};
    std::string exec = "exec " + commandLine;
    argv[2] = exec.c_str();
    if (posix_spawn(&pid_, "/bin/sh", nullptr, nullptr, const_cast<char* const*>(argv),
                    environ) != 0)
      pid_ = -1;
  }
  ~BackgroundProcess() {
    if (pid_ > 0 && !waited_) {
      ::kill(pid_, SIGKILL);
      wait();
    }
  }
  bool started() const { return pid_ > 0; }
  bool running() {
    if (waited_) return false;
    int status;
    const pid_t r = ::waitpid(pid_, &status, WNOHANG);
    if (r == pid_) {
      waited_ = true;
      status_ = status;
    }
    return !waited_;
  }
  void killHard() { ::kill(pid_, SIGKILL); }
  int wait() {
    if (!waited_) {
      ::waitpid(pid_, &status_, 0);
      waited_ = true;
    }
    return status_;
  }

 private:
  pid_t pid_ = -1;
  bool waited_ = false;
  int status_ = 0;
};

}  // namespace activediff::testing
