#include "torch_support.h"

#include <dlfcn.h>

#include <sstream>
#include <torch/cuda.h>
#include <torch/serialize/archive.h>

#include "activediff/featurize/error.h"

namespace activediff::model::detail {

void configureThreads(int threads) {
  at::set_num_threads(threads);
  static bool interopSet = false;
  if (!interopSet) {
    interopSet = true;
    try {
      at::set_num_interop_threads(1);
    } catch (const std::exception&) {
      // Already started by an earlier torch call in this process: harmless.
    }
  }
  // OpenBLAS keeps its own pool (libopenblas pthread variant); pin it too.
  using SetThreads = void (*)(int);
  if (auto f = reinterpret_cast<SetThreads>(dlsym(RTLD_DEFAULT, "openblas_set_num_threads")))
    f(threads);
}

torch::Device selectDevice(const std::string& name) {
  if (name == "cpu") return torch::Device(torch::kCPU);
  if (name == "cuda" || name.rfind("cuda:", 0) == 0) {
    if (!torch::cuda::is_available())
      throw Error("device \"" + name +
                  "\" requested, but CUDA is not available: this activediff is built against a "
                  "CPU-only LibTorch or no GPU is visible (torch::cuda::is_available() is "
                  "false); use --device cpu, or build against a CUDA LibTorch (README)");
    torch::Device d(name);
    if (d.has_index() && d.index() >= static_cast<int>(torch::cuda::device_count()))
      throw Error("device \"" + name + "\": only " + std::to_string(torch::cuda::device_count()) +
                  " CUDA device(s) visible");
    return d;
  }
  throw Error("device \"" + name + "\" is not one of cpu, cuda, cuda:N");
}

torch::Tensor toTensor(const Eigen::ArrayXXd& a, const torch::Device& device) {
  Eigen::Array<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> rowMajor = a.cast<float>();
  torch::Tensor t = torch::from_blob(rowMajor.data(), {a.rows(), a.cols()}, torch::kFloat32);
  return device.is_cpu() ? t.clone() : t.to(device);
}

torch::Tensor toTensor(const Eigen::ArrayXd& v, const torch::Device& device) {
  Eigen::ArrayXf f = v.cast<float>();
  torch::Tensor t = torch::from_blob(f.data(), {v.size()}, torch::kFloat32);
  return device.is_cpu() ? t.clone() : t.to(device);
}

void toEigen(const torch::Tensor& t, Eigen::ArrayXXd& out) {
  const torch::Tensor c = t.detach().to(torch::kCPU, torch::kFloat32).contiguous();
  out = Eigen::Map<const Eigen::Array<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>>(
            c.data_ptr<float>(), c.size(0), c.size(1))
            .cast<double>();
}

std::string saveTensors(ScoreNetworkImpl& net, const std::vector<torch::Tensor>* ema,
                        torch::optim::Adam* optimizer) {
  torch::serialize::OutputArchive root, model, average, optim;
  const auto params = net.parameters();
  for (std::size_t i = 0; i < params.size(); ++i) {
    model.write("p" + std::to_string(i), params[i].detach());
    if (ema) average.write("p" + std::to_string(i), (*ema)[i].detach());
  }
  root.write("model", model);
  if (ema) root.write("ema", average);
  if (optimizer) {
    optimizer->save(optim);
    root.write("optimizer", optim);
  }
  std::ostringstream out;
  root.save_to(out);
  return out.str();
}

void loadTensors(const std::string& archive, const std::string& file, ScoreNetworkImpl& net,
                 std::vector<torch::Tensor>* ema, torch::optim::Adam* optimizer,
                 bool useEmaAsModel, const torch::Device& device) {
  try {
    torch::serialize::InputArchive root, model, average, optim;
    std::istringstream in(archive);
    root.load_from(in, device);
    root.read("model", model);
    const bool needEma = ema || useEmaAsModel;
    if (needEma) root.read("ema", average);
    auto params = net.parameters();
    torch::NoGradGuard noGrad;
    for (std::size_t i = 0; i < params.size(); ++i) {
      const std::string key = "p" + std::to_string(i);
      torch::Tensor w, e;
      model.read(key, w);
      if (needEma) average.read(key, e);
      if (!w.defined() || w.sizes() != params[i].sizes() || (needEma && e.sizes() != w.sizes()))
        throw Error(file, "checkpoint tensor " + key + " has the wrong shape for its network");
      params[i].copy_(useEmaAsModel ? e : w);
      if (ema) (*ema)[i].copy_(e);
    }
    if (optimizer) {
      root.read("optimizer", optim);
      optimizer->load(optim);
    }
  } catch (const Error&) {
    throw;
  } catch (const std::exception& e) {
    std::string what = e.what();
    if (auto nl = what.find('\n'); nl != std::string::npos) what.resize(nl);
    throw Error(file, "cannot read the checkpoint's tensors: " + what);
  }
}

}  // namespace activediff::model::detail
