#include "checkpoint_metadata.h"

#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>

#include "activediff/featurize/error.h"
#include "activediff/version.h"

namespace activediff::model::detail {
using nlohmann::json;

namespace {
json finiteOrNull(const std::vector<double>& v) {
  json a = json::array();
  for (double x : v) a.push_back(std::isfinite(x) ? json(x) : json(nullptr));
  return a;
}
std::vector<double> fromNullable(const json& a) {
  std::vector<double> v;
  for (const json& x : a)
    v.push_back(x.is_null() ? std::numeric_limits<double>::quiet_NaN() : x.get<double>());
  return v;
}
json historyJson(const TrainingHistory& h) {
  return {{"step", h.steps},
          {"loss", finiteOrNull(h.loss)},
          {"it_per_s", finiteOrNull(h.itPerSecond)},
          {"validation", {{"step", h.validationSteps},
                          {"loss", finiteOrNull(h.validationLoss)},
                          {"loss_ema", finiteOrNull(h.validationLossEma)}}}};
}
}  // namespace

json featureSpecJson(const FeatureSpec& f) {
  std::vector<double> mean(f.mean.data(), f.mean.data() + f.mean.size());
  std::vector<double> stddev(f.stddev.data(), f.stddev.data() + f.stddev.size());
  return {{"feature_set", f.featureSet},
          {"names", f.names},
          {"units", f.units},
          {"kinds", f.kinds},
          {"periodic", f.periodic},
          {"branch_cuts_rad", finiteOrNull(f.branchCutsRad)},
          {"mean", mean},
          {"stddev", stddev}};
}

std::string metadataToJson(const CheckpointMetadata& m) {
  const NetworkShape& n = m.network;
  json j = {
      {"format", "activediff-checkpoint"},
      {"activediff_version", m.activediffVersion},
      {"config_toml", toToml(m.config)},
      {"config", json::parse(toJsonText(m.config))},
      {"process", LinearSde::fromParameters(m.config.process.sde).describe()},
      {"features", featureSpecJson(m.features)},
      {"network",
       {{"dims", n.dims},
        {"channels", n.channels},
        {"output_x", n.outputs.x},
        {"output_aux", n.outputs.aux},
        {"end_time", n.endTime}}},
      {"step", m.step},
      {"rng_state", m.rngState},
      {"history", historyJson(m.history)},
      {"data", {{"source", m.dataSource}, {"checksum", m.dataChecksum}, {"train_rows", m.trainRows},
                {"validation_rows", m.validationRows}}},
      {"provenance", json::parse(m.provenanceJson)}};
  return j.dump();
}

CheckpointMetadata metadataFromJson(const std::string& text, const std::string& file) {
  CheckpointMetadata m;
  try {
    const json j = json::parse(text);
    if (j.at("format").get<std::string>() != "activediff-checkpoint")
      throw Error(file, "not an activediff checkpoint");
    m.activediffVersion = j.at("activediff_version").get<std::string>();
    const std::string storedToml = j.at("config_toml").get<std::string>();
    m.config = parseConfig(storedToml, file + " (stored config)");
    // Checkpoints written before network preconditioning existed
    // hold a plain network: their config has neither key, and the defaults
    // would describe a network they do not hold.
    if (storedToml.find("preconditioning") == std::string::npos) m.config.network.preconditioning = "none";
    if (storedToml.find("time_conditioning") == std::string::npos) m.config.network.timeConditioning = "input";
    const json& f = j.at("features");
    m.features.featureSet = f.at("feature_set").get<std::string>();
    m.features.names = f.at("names").get<std::vector<std::string>>();
    m.features.units = f.at("units").get<std::vector<std::string>>();
    m.features.kinds = f.at("kinds").get<std::vector<int>>();
    m.features.periodic = f.at("periodic").get<std::vector<bool>>();
    m.features.branchCutsRad = fromNullable(f.at("branch_cuts_rad"));
    const auto mean = f.at("mean").get<std::vector<double>>();
    const auto stddev = f.at("stddev").get<std::vector<double>>();
    m.features.mean = Eigen::Map<const Eigen::ArrayXd>(mean.data(), Eigen::Index(mean.size()));
    m.features.stddev =
        Eigen::Map<const Eigen::ArrayXd>(stddev.data(), Eigen::Index(stddev.size()));
    m.features.validate();
    if (m.features.mean.size() != m.features.dims())
      throw Error(file, "checkpoint has no standardization for its features");
    const json& n = j.at("network");
    m.network.config = m.config.network;
    m.network.dims = n.at("dims").get<int>();
    m.network.channels = n.at("channels").get<int>();
    m.network.outputs.x = n.at("output_x").get<bool>();
    m.network.outputs.aux = n.at("output_aux").get<bool>();
    m.network.endTime = n.at("end_time").get<double>();
    m.network.tEps = m.config.process.tEps;
    if (m.network.dims != m.features.dims())
      throw Error(file, "network dimension disagrees with the feature list");
    m.step = j.at("step").get<std::int64_t>();
    m.rngState = j.at("rng_state").get<std::string>();
    const json& h = j.at("history");
    m.history.steps = h.at("step").get<std::vector<std::int64_t>>();
    m.history.loss = fromNullable(h.at("loss"));
    m.history.itPerSecond = fromNullable(h.at("it_per_s"));
    m.history.validationSteps = h.at("validation").at("step").get<std::vector<std::int64_t>>();
    m.history.validationLoss = fromNullable(h.at("validation").at("loss"));
    m.history.validationLossEma = fromNullable(h.at("validation").at("loss_ema"));
    m.dataSource = j.at("data").at("source").get<std::string>();
    m.dataChecksum = j.at("data").value("checksum", std::string());
    m.trainRows = j.at("data").at("train_rows").get<std::int64_t>();
    m.validationRows = j.at("data").at("validation_rows").get<std::int64_t>();
    m.provenanceJson = j.at("provenance").dump();
  } catch (const json::exception& e) {
    throw Error(file, std::string("checkpoint metadata is malformed: ") + e.what());
  }
  return m;
}

std::string historyToJson(const CheckpointMetadata& m) {
  json j = {{"format", "activediff-training-log"},
            {"activediff_version", m.activediffVersion},
            {"process", LinearSde::fromParameters(m.config.process.sde).describe()},
            {"config", json::parse(toJsonText(m.config))},
            {"data", {{"source", m.dataSource}, {"checksum", m.dataChecksum}, {"train_rows", m.trainRows},
                      {"validation_rows", m.validationRows}}},
            {"steps_done", m.step},
            {"history", historyJson(m.history)},
            {"provenance", json::parse(m.provenanceJson)}};
  return j.dump(2) + "\n";
}

}  // namespace activediff::model::detail
