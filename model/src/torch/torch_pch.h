#pragma once
// Precompiled header of the LibTorch sources of model/ (target_precompile_headers):
// the narrow torch headers they use, never <torch/torch.h>.
#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <torch/autograd.h>
#include <torch/cuda.h>
#include <torch/nn/module.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/pimpl.h>
#include <torch/nn/utils/clip_grad.h>
#include <torch/optim/adam.h>
#include <torch/serialize/archive.h>
#include <torch/utils.h>

#include <Eigen/Core>
#include <nlohmann/json.hpp>
