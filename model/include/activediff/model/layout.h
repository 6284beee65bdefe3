#pragma once
// The one array layout of model/ for states, scores, noises and targets.
//
// A batch of B states of a D-dimensional feature vector under a process with
// c = LinearSde::channels() channels is an Eigen::ArrayXXd (column-major) of
// B rows and c * D columns, channel-major:
//
//   columns [0, D)      x_1 .. x_D        (channel 0, the data coordinates)
//   columns [D, 2D)     aux_1 .. aux_D    (channel 1: eta or v; only when c == 2)
//
// so entry (b, c * D + d) is channel c of dimension d of sample b, and a
// channel's block z.middleCols(c * D, D) is contiguous in memory. A LibTorch
// tensor of shape [B, c * D] (row-major) holds the same numbers in the same
// (row, column) places; converting is a transpose-copy, no reordering.
#include <Eigen/Core>
#include <cstdint>
#include <random>

namespace activediff::model {

// The generator used everywhere a seed is given (reproducible on one
// standard library; std::normal_distribution is implementation-defined).
using Rng = std::mt19937_64;

// Independent seeds for the streams of one run (batches, noise, shuffles)
// from one user seed: splitmix64 of seed + golden-ratio multiple of stream.
inline std::uint64_t streamSeed(std::uint64_t seed, std::uint64_t stream) {
  std::uint64_t x = seed + 0x9e3779b97f4a7c15ull * (stream + 1);
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

// Fills a with independent N(0, 1) numbers (ziggurat method on a SplitMix64
// stream seeded by one draw of rng: rng advances by exactly one number per
// call; deterministic for a given rng state). Every Gaussian noise of model/ -- prior
// draws, sampler noise, training noise -- comes from here.
void fillStandardNormal(Eigen::ArrayXXd& a, Rng& rng);

inline Eigen::Index columnOf(int channel, int dim, int dims) {
  return static_cast<Eigen::Index>(channel) * dims + dim;
}

// Which channel blocks a score provider fills (and a network outputs).
struct ScoreChannels {
  bool x = false;
  bool aux = false;
  bool has(int channel) const { return channel == 0 ? x : aux; }
  int count() const { return int(x) + int(aux); }
};

}  // namespace activediff::model
