#pragma once
// A trained score network for use outside activediff (torch-free API; the
// LibTorch side is model/src/torch/torchscript_export.cpp).
//
// The export is a TorchScript module (torch.jit.load in Python, or
// torch::jit::load in C++) whose forward is generated from the network the
// checkpoint holds -- its kind, layers, widths, activation and time
// embedding -- as TorchScript source of aten operations, with the weights as
// parameters:
//   forward(z: Tensor [B, c*D] float32, t: Tensor [B] float32) -> Tensor [B, outputs*D]
// z in the layout of layout.h (standardized features x, then the auxiliary
// channel), the output the whitened score channels of training_targets.h.
// Everything else a user needs -- the SDE, the whitening, the feature spec
// and standardization, the column meanings -- is in describeJson(), which
// the CLI writes beside the module and which is embedded in it as the extra
// file "activediff.json".
//
// A network kind the exporter does not know is an activediff::Error, never
// a module that computes something else: before returning the module bytes,
// the exporter runs the compiled module and the C++ network on the same
// inputs and refuses when they differ.
#include <Eigen/Core>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>

namespace activediff::model {

class NetworkExport {
 public:
  // checkpoint: a checkpoint file or a training output directory
  // (resolveCheckpoint). useEma: the EMA weights (default) or the raw ones.
  // Throws activediff::Error naming the file for a missing or corrupt one.
  explicit NetworkExport(const std::filesystem::path& checkpoint, bool useEma = true);
  ~NetworkExport();
  NetworkExport(NetworkExport&&) noexcept;
  NetworkExport& operator=(NetworkExport&&) noexcept;

  int inputWidth() const;   // c * D: the columns of z
  int outputWidth() const;  // outputs * D
  const std::filesystem::path& checkpoint() const;

  // The TorchScript source of the module's forward (as compiled).
  const std::string& forwardSource() const;
  // The forward's signature in one line, for messages and the JSON.
  std::string forwardSignature() const;

  // The serialized TorchScript module (the bytes of a .pt file), with
  // embeddedJson stored in it as the extra file "activediff.json".
  std::string torchScriptModule(const std::string& embeddedJson) const;

  // The JSON object (text) describing the export: module inputs and output,
  // network structure, process (SDE) and whitening, feature spec and
  // standardization, the checkpoint's step, data and provenance.
  // moduleFile: the module's file name, recorded in it.
  std::string describeJson(const std::string& moduleFile) const;

  // The network's outputs computed by activediff's own C++ network (the path
  // the samplers use, not the export): z is B x inputWidth(), t has B entries.
  Eigen::ArrayXXd referenceOutputs(const Eigen::ArrayXXd& z, const Eigen::ArrayXd& t) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace activediff::model
