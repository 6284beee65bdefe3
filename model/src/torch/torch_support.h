#pragma once
// LibTorch plumbing shared by the trainer and the generator (private):
// threads, devices, Eigen <-> tensor copies, and the tensor archive of a
// checkpoint (weights, EMA weights, optimizer state).
#include <ATen/ATen.h>
#include <torch/optim/adam.h>

#include <Eigen/Core>
#include <string>
#include <vector>

#include "score_network.h"

namespace activediff::model::detail {

// torch intra-op threads and OpenBLAS threads; inter-op threads 1.
void configureThreads(int threads);
// "cpu", "cuda", "cuda:N"; a CUDA request without CUDA is a clear Error.
torch::Device selectDevice(const std::string& name);

// B x C float64 (column-major Eigen) <-> [B, C] float32 tensor (row-major).
torch::Tensor toTensor(const Eigen::ArrayXXd& a, const torch::Device& device);
torch::Tensor toTensor(const Eigen::ArrayXd& v, const torch::Device& device);
void toEigen(const torch::Tensor& t, Eigen::ArrayXXd& out);

// Checkpoint tensors: archive "model" (p0..pN in named_parameters order),
// "ema" (same), "optimizer" (Adam state). ema/optimizer may be null.
std::string saveTensors(ScoreNetworkImpl& net, const std::vector<torch::Tensor>* ema,
                        torch::optim::Adam* optimizer);
// Loads into an already built network (shapes checked, Error naming `file`).
// loadEma: read the EMA weights into `ema`; with useEmaAsModel the network
// itself gets the EMA weights.
void loadTensors(const std::string& archive, const std::string& file, ScoreNetworkImpl& net,
                 std::vector<torch::Tensor>* ema, torch::optim::Adam* optimizer,
                 bool useEmaAsModel, const torch::Device& device);

}  // namespace activediff::model::detail
