// TOML configuration of a model (config.h): one table of known keys per
// section, so that parsing, unknown-key detection and writing back share the
// same list.
#include "activediff/model/config.h"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <functional>
#include <map>
#include <sstream>
#include <type_traits>
#include <toml++/toml.h>

#include "activediff/featurize/error.h"
#include "activediff/model/samplers.h"
#include "activediff/model/time_grid.h"
#include "activediff/model/van_loan_kernel.h"

namespace activediff::model {
namespace {

struct Context {
  std::string source;
  std::string key;  // "section.key"
  [[noreturn]] void fail(const std::string& problem) const {
    throw Error(source, "config key " + key + " " + problem);
  }
};

double asDouble(const toml::node& n, const Context& c) {
  if (auto v = n.value<double>(); v && (n.is_floating_point() || n.is_integer())) {
    if (!std::isfinite(*v)) c.fail("must be finite");
    return *v;
  }
  c.fail("must be a number");
}

std::int64_t asInteger(const toml::node& n, const Context& c) {
  if (n.is_integer()) return *n.value<std::int64_t>();
  c.fail("must be an integer");
}

bool asBool(const toml::node& n, const Context& c) {
  if (n.is_boolean()) return *n.value<bool>();
  c.fail("must be true or false");
}

std::string asString(const toml::node& n, const Context& c) {
  if (n.is_string()) return *n.value<std::string>();
  c.fail("must be a string");
}

// One key: how to read it into a config and how to write it out.
struct Key {
  std::function<void(ModelConfig&, const toml::node&, const Context&)> read;
  std::function<void(const ModelConfig&, toml::table&, const std::string&)> write;
};
using Section = std::map<std::string, Key>;

template <class Get>
Key doubleKey(Get get) {
  return {[get](ModelConfig& m, const toml::node& n, const Context& c) { get(m) = asDouble(n, c); },
          [get](const ModelConfig& m, toml::table& t, const std::string& k) {
            t.insert_or_assign(k, get(const_cast<ModelConfig&>(m)));
          }};
}
template <class Get>
Key intKey(Get get) {
  return {[get](ModelConfig& m, const toml::node& n, const Context& c) {
            const std::int64_t v = asInteger(n, c);
            using T = std::decay_t<decltype(get(m))>;
            if (v < 0 && std::is_unsigned_v<T>) c.fail("must be >= 0");
            if (std::is_same_v<T, int> && (v > 2147483647 || v < -2147483647))
              c.fail("is out of range");
            get(m) = static_cast<T>(v);
          },
          [get](const ModelConfig& m, toml::table& t, const std::string& k) {
            t.insert_or_assign(k, static_cast<std::int64_t>(get(const_cast<ModelConfig&>(m))));
          }};
}
template <class Get>
Key boolKey(Get get) {
  return {[get](ModelConfig& m, const toml::node& n, const Context& c) { get(m) = asBool(n, c); },
          [get](const ModelConfig& m, toml::table& t, const std::string& k) {
            t.insert_or_assign(k, get(const_cast<ModelConfig&>(m)));
          }};
}
template <class Get>
Key stringKey(Get get) {
  return {[get](ModelConfig& m, const toml::node& n, const Context& c) { get(m) = asString(n, c); },
          [get](const ModelConfig& m, toml::table& t, const std::string& k) {
            t.insert_or_assign(k, get(const_cast<ModelConfig&>(m)));
          }};
}

#define ADK_FIELD(expr) [](ModelConfig& m) -> auto& { return m.expr; }

ProcessKind parseProcessKind(const std::string& name, const Context& c) {
  if (name == "passive") return ProcessKind::Passive;
  if (name == "active") return ProcessKind::Active;
  if (name == "cld") return ProcessKind::Cld;
  c.fail("must be one of passive, active, cld (got \"" + name + "\")");
}

// The parameters that belong to each process kind (written back only for it).
bool belongsTo(const std::string& key, ProcessKind kind) {
  static const std::map<std::string, std::vector<ProcessKind>> owners = {
      {"k", {ProcessKind::Passive, ProcessKind::Active}},
      {"temperature", {ProcessKind::Passive}},
      {"tau", {ProcessKind::Active}},
      {"active_temperature", {ProcessKind::Active}},
      {"passive_temperature", {ProcessKind::Active}},
      {"beta", {ProcessKind::Cld}},
      {"mass", {ProcessKind::Cld}},
      {"velocity_factor", {ProcessKind::Cld}}};
  const auto it = owners.find(key);
  if (it == owners.end()) return true;
  for (ProcessKind k : it->second)
    if (k == kind) return true;
  return false;
}

const std::map<std::string, Section>& schema() {
  static const std::map<std::string, Section> s = [] {
    std::map<std::string, Section> s;
    Section& p = s["process"];
    p["kind"] = {[](ModelConfig& m, const toml::node& n, const Context& c) {
                   // The kind resets the parameters to that kind's defaults;
                   // parseConfig reads it before the other process keys.
                   m.process.sde = defaultProcessParameters(parseProcessKind(asString(n, c), c));
                 },
                 [](const ModelConfig& m, toml::table& t, const std::string& k) {
                   t.insert_or_assign(k, processKindName(m.process.sde.kind));
                 }};
    p["k"] = doubleKey(ADK_FIELD(process.sde.k));
    p["temperature"] = doubleKey(ADK_FIELD(process.sde.temperature));
    p["tau"] = doubleKey(ADK_FIELD(process.sde.tau));
    p["active_temperature"] = doubleKey(ADK_FIELD(process.sde.activeTemperature));
    p["passive_temperature"] = doubleKey(ADK_FIELD(process.sde.passiveTemperature));
    p["beta"] = doubleKey(ADK_FIELD(process.sde.beta));
    p["mass"] = doubleKey(ADK_FIELD(process.sde.mass));
    p["velocity_factor"] = doubleKey(ADK_FIELD(process.sde.velocityFactor));
    p["end_time"] = doubleKey(ADK_FIELD(process.endTime));
    p["t_eps"] = doubleKey(ADK_FIELD(process.tEps));

    Section& n = s["network"];
    n["kind"] = stringKey(ADK_FIELD(network.kind));
    n["width"] = intKey(ADK_FIELD(network.width));
    n["depth"] = intKey(ADK_FIELD(network.depth));
    n["time_frequencies"] = intKey(ADK_FIELD(network.timeFrequencies));
    n["all_channels"] = boolKey(ADK_FIELD(network.allChannels));
    n["preconditioning"] = stringKey(ADK_FIELD(network.preconditioning));
    n["time_conditioning"] = stringKey(ADK_FIELD(network.timeConditioning));

    Section& t = s["training"];
    t["steps"] = intKey(ADK_FIELD(training.steps));
    t["batch_size"] = intKey(ADK_FIELD(training.batchSize));
    t["learning_rate"] = doubleKey(ADK_FIELD(training.learningRate));
    t["warmup_steps"] = intKey(ADK_FIELD(training.warmupSteps));
    t["learning_rate_schedule"] = stringKey(ADK_FIELD(training.learningRateSchedule));
    t["time_sampling"] = stringKey(ADK_FIELD(training.timeSampling));
    t["ema_decay"] = doubleKey(ADK_FIELD(training.emaDecay));
    t["gradient_clip"] = doubleKey(ADK_FIELD(training.gradientClip));
    t["seed"] = intKey(ADK_FIELD(training.seed));
    t["validation_fraction"] = doubleKey(ADK_FIELD(training.validationFraction));
    t["validation_every"] = intKey(ADK_FIELD(training.validationEvery));
    t["validation_samples"] = intKey(ADK_FIELD(training.validationSamples));
    t["checkpoint_every"] = intKey(ADK_FIELD(training.checkpointEvery));
    t["log_every"] = intKey(ADK_FIELD(training.logEvery));

    Section& a = s["sampler"];
    a["kind"] = stringKey(ADK_FIELD(sampler.kind));
    a["steps"] = intKey(ADK_FIELD(sampler.steps));
    a["grid"] = stringKey(ADK_FIELD(sampler.grid));
    a["order"] = intKey(ADK_FIELD(sampler.order));
    a["relative_tolerance"] = doubleKey(ADK_FIELD(sampler.relativeTolerance));
    a["absolute_tolerance"] = doubleKey(ADK_FIELD(sampler.absoluteTolerance));
    a["tweedie"] = boolKey(ADK_FIELD(sampler.tweedie));
    a["stochasticity"] = doubleKey(ADK_FIELD(sampler.stochasticity));
    a["count"] = intKey(ADK_FIELD(sampler.count));
    a["batch_size"] = intKey(ADK_FIELD(sampler.batchSize));
    a["seed"] = intKey(ADK_FIELD(sampler.seed));
    a["use_ema"] = boolKey(ADK_FIELD(sampler.useEma));

    Section& r = s["runtime"];
    r["device"] = stringKey(ADK_FIELD(runtime.device));
    r["threads"] = intKey(ADK_FIELD(runtime.threads));
    return s;
  }();
  return s;
}
#undef ADK_FIELD

std::string knownKeys(const Section& section) {
  std::string out;
  for (const auto& [name, key] : section) out += (out.empty() ? "" : ", ") + name;
  return out;
}

std::string knownSections() {
  std::string out;
  for (const auto& [name, section] : schema()) out += (out.empty() ? "" : ", ") + name;
  return out;
}

// "section.key=value": value is read as a TOML value, or as a bare string.
void applyOverride(toml::table& root, const std::string& text) {
  const auto eq = text.find('=');
  const auto dot = text.find('.');
  if (eq == std::string::npos || dot == std::string::npos || dot > eq)
    throw Error("--set " + text + ": expected section.key=value (e.g. training.steps=5000)");
  const std::string section = text.substr(0, dot);
  const std::string key = text.substr(dot + 1, eq - dot - 1);
  const std::string value = text.substr(eq + 1);
  toml::table parsed;
  try {
    parsed = toml::parse("v = " + value);
  } catch (const toml::parse_error&) {
    parsed = toml::table{{"v", value}};
  }
  if (!root.contains(section)) root.insert(section, toml::table{});
  toml::table* t = root[section].as_table();
  if (!t) throw Error("--set " + text + ": " + section + " is not a section");
  parsed["v"].node()->visit([&](auto&& node) { t->insert_or_assign(key, node); });
}

ModelConfig fromTable(const toml::table& root, const std::string& source) {
  ModelConfig config;
  for (const auto& [name, node] : root) {
    const std::string sectionName(name.str());
    const auto section = schema().find(sectionName);
    if (section == schema().end())
      throw Error(source, "unknown config section [" + sectionName + "] (known: " +
                              knownSections() + ")");
    const toml::table* table = node.as_table();
    if (!table) throw Error(source, "config entry " + sectionName + " must be a [section]");
    // process.kind first: it selects the defaults the other keys modify.
    if (sectionName == "process")
      if (const toml::node* kind = table->get("kind"))
        section->second.at("kind").read(config, *kind, {source, "process.kind"});
    for (const auto& [keyName, value] : *table) {
      const std::string k(keyName.str());
      const auto key = section->second.find(k);
      if (key == section->second.end())
        throw Error(source, "unknown config key " + sectionName + "." + k + " (known in [" +
                                sectionName + "]: " + knownKeys(section->second) + ")");
      if (sectionName == "process" && k == "kind") continue;
      key->second.read(config, value, {source, sectionName + "." + k});
    }
  }
  try {
    validateConfig(config);
  } catch (const Error& e) {
    throw Error(source, e.what());
  }
  return config;
}

void requireThat(bool ok, const std::string& key, const std::string& expected, double value) {
  if (ok) return;
  std::ostringstream m;
  m << "config key " << key << " = " << value << " must be " << expected;
  throw Error(m.str());
}

}  // namespace

std::string processKindName(ProcessKind kind) {
  switch (kind) {
    case ProcessKind::Passive: return "passive";
    case ProcessKind::Active: return "active";
    case ProcessKind::Cld: return "cld";
  }
  return "?";
}

LinearSdeParameters defaultProcessParameters(ProcessKind kind) {
  LinearSdeParameters p;
  p.kind = kind;
  switch (kind) {
    case ProcessKind::Passive:
      p.k = 1.0;
      p.temperature = 1.0;
      break;
    case ProcessKind::Active:
      p.k = 1.0;
      p.tau = 0.5;
      p.activeTemperature = 1.0;
      p.passiveTemperature = 0.0;
      break;
    case ProcessKind::Cld:
      p.beta = 4.0;
      p.mass = 0.25;
      p.velocityFactor = 0.04;
      break;
  }
  return p;
}

void validateConfig(const ModelConfig& c) {
  const LinearSde sde = LinearSde::fromParameters(c.process.sde);  // tau <= 0 etc.
  const VanLoanKernel kernel(sde);
  requireThat(c.process.tEps > 0.0 && c.process.tEps < 0.5, "process.t_eps", "in (0, 0.5)",
              c.process.tEps);
  requireThat(c.process.endTime >= 0.0, "process.end_time", ">= 0 (0: automatic)",
              c.process.endTime);
  if (c.process.endTime > 0.0) {
    try {
      checkEndTime(sde, c.process.endTime);
    } catch (const Error& e) {
      throw Error(std::string("config key process.") + e.what());
    }
  }
  const double endTime = effectiveEndTime(c);
  requireThat(endTime > c.process.tEps, "process.end_time", "> process.t_eps", endTime);

  if (c.network.kind != "mlp" && c.network.kind != "resmlp")
    throw Error("config key network.kind = \"" + c.network.kind + "\" must be mlp or resmlp");
  if (c.network.preconditioning != "marginal" && c.network.preconditioning != "none")
    throw Error("config key network.preconditioning = \"" + c.network.preconditioning +
                "\" must be marginal or none");
  if (c.network.timeConditioning != "every-layer" && c.network.timeConditioning != "input")
    throw Error("config key network.time_conditioning = \"" + c.network.timeConditioning +
                "\" must be every-layer or input");
  requireThat(c.network.width >= 1 && c.network.width <= 65536, "network.width", "in [1, 65536]",
              c.network.width);
  requireThat(c.network.depth >= 1 && c.network.depth <= 256, "network.depth", "in [1, 256]",
              c.network.depth);
  requireThat(c.network.timeFrequencies >= 1 && c.network.timeFrequencies <= 1024,
              "network.time_frequencies", "in [1, 1024]", c.network.timeFrequencies);

  const TrainingConfig& t = c.training;
  requireThat(t.steps >= 1, "training.steps", ">= 1", double(t.steps));
  requireThat(t.batchSize >= 1, "training.batch_size", ">= 1", t.batchSize);
  requireThat(t.learningRate > 0.0 && t.learningRate < 10.0, "training.learning_rate",
              "in (0, 10)", t.learningRate);
  if (t.timeSampling != "uniform" && t.timeSampling != "log-uniform" && t.timeSampling != "mixed")
    throw Error("config key training.time_sampling = \"" + t.timeSampling +
                "\" must be uniform, log-uniform or mixed");
  requireThat(t.warmupSteps >= 0, "training.warmup_steps", ">= 0", double(t.warmupSteps));
  if (t.learningRateSchedule != "constant" && t.learningRateSchedule != "cosine")
    throw Error("config key training.learning_rate_schedule = \"" + t.learningRateSchedule +
                "\" must be constant or cosine");
  requireThat(t.emaDecay >= 0.0 && t.emaDecay < 1.0, "training.ema_decay", "in [0, 1)",
              t.emaDecay);
  requireThat(t.gradientClip >= 0.0, "training.gradient_clip", ">= 0 (0: off)", t.gradientClip);
  requireThat(t.validationFraction >= 0.0 && t.validationFraction < 1.0,
              "training.validation_fraction", "in [0, 1)", t.validationFraction);
  requireThat(t.validationEvery >= 1, "training.validation_every", ">= 1",
              double(t.validationEvery));
  requireThat(t.validationSamples >= 1, "training.validation_samples", ">= 1",
              t.validationSamples);
  requireThat(t.checkpointEvery >= 1, "training.checkpoint_every", ">= 1",
              double(t.checkpointEvery));
  requireThat(t.logEvery >= 1, "training.log_every", ">= 1", double(t.logEvery));

  const SamplerConfig& s = c.sampler;
  parseSamplerKind(s.kind);
  parseTimeGrid(s.grid);
  requireThat(s.steps >= 1, "sampler.steps", ">= 1", s.steps);
  requireThat(s.order >= 1 && s.order <= 3, "sampler.order", "1, 2 or 3", s.order);
  requireThat(s.relativeTolerance > 0.0, "sampler.relative_tolerance", "> 0",
              s.relativeTolerance);
  requireThat(s.absoluteTolerance > 0.0, "sampler.absolute_tolerance", "> 0",
              s.absoluteTolerance);
  requireThat(s.count >= 1, "sampler.count", ">= 1", double(s.count));
  requireThat(s.stochasticity >= 0.0 && s.stochasticity <= 1.0, "sampler.stochasticity", "in [0, 1]",
              s.stochasticity);
  requireThat(s.batchSize >= 1, "sampler.batch_size", ">= 1", s.batchSize);
  if (s.tweedie && !c.network.allChannels && !sde.hasNoise(0))
    throw Error("config: sampler.tweedie = true needs the x score, which " + sde.describe() +
                " does not train unless network.all_channels = true");

  const std::string& d = c.runtime.device;
  if (!(d == "cpu" || d == "cuda" || d.rfind("cuda:", 0) == 0))
    throw Error("config key runtime.device = \"" + d + "\" must be cpu, cuda or cuda:N");
  requireThat(c.runtime.threads >= 1 && c.runtime.threads <= 256, "runtime.threads",
              "in [1, 256]", c.runtime.threads);
}

double effectiveEndTime(const ModelConfig& config) {
  if (config.process.endTime > 0.0) return config.process.endTime;
  return chooseEndTime(LinearSde::fromParameters(config.process.sde));
}

ModelConfig parseConfig(const std::string& tomlText, const std::string& source,
                        const std::vector<std::string>& overrides) {
  toml::table root;
  try {
    root = toml::parse(tomlText, source);
  } catch (const toml::parse_error& e) {
    std::ostringstream m;
    m << "not valid TOML at line " << e.source().begin.line << ": " << e.description();
    throw Error(source, m.str());
  }
  for (const std::string& o : overrides) applyOverride(root, o);
  return fromTable(root, overrides.empty() ? source : source + " with --set overrides");
}

ModelConfig loadConfig(const std::filesystem::path& file,
                       const std::vector<std::string>& overrides) {
  if (file.empty()) return parseConfig("", "default config", overrides);
  std::ifstream in(file);
  if (!in) throw Error(file.string(), "cannot open the config file");
  std::stringstream text;
  text << in.rdbuf();
  return parseConfig(text.str(), file.string(), overrides);
}

namespace {
toml::table toTable(const ModelConfig& config) {
  toml::table root;
  for (const auto& [sectionName, section] : schema()) {
    toml::table t;
    for (const auto& [keyName, key] : section) {
      if (sectionName == "process" && !belongsTo(keyName, config.process.sde.kind)) continue;
      key.write(config, t, keyName);
    }
    root.insert(sectionName, std::move(t));
  }
  return root;
}
}  // namespace

std::string toToml(const ModelConfig& config) {
  std::ostringstream out;
  out << toml::toml_formatter(toTable(config)) << "\n";
  return out.str();
}

std::string toJsonText(const ModelConfig& config) {
  std::ostringstream out;
  out << toml::json_formatter(toTable(config));
  return out.str();
}

std::vector<std::string> configDifferences(const ModelConfig& a, const ModelConfig& b) {
  const toml::table ta = toTable(a);
  const toml::table tb = toTable(b);
  const auto text = [](const toml::node* n) -> std::string {
    if (n == nullptr) return "(unset)";
    if (n->is_string()) return "\"" + *n->value<std::string>() + "\"";
    std::ostringstream out;
    n->visit([&out](const auto& v) { out << v; });
    return out.str();
  };
  // Section and key order of a, then what only b has.
  std::vector<std::string> differences;
  const auto compare = [&](const std::string& section, const toml::table* sa, const toml::table* sb) {
    std::vector<std::string> keys;
    for (const toml::table* t : {sa, sb}) {
      if (t == nullptr) continue;
      for (const auto& [key, value] : *t) {
        const std::string k(key.str());
        if (std::find(keys.begin(), keys.end(), k) == keys.end()) keys.push_back(k);
      }
    }
    for (const std::string& k : keys) {
      const toml::node* va = sa ? sa->get(k) : nullptr;
      const toml::node* vb = sb ? sb->get(k) : nullptr;
      const std::string x = text(va), y = text(vb);
      if (x != y) differences.push_back(section + "." + k + ": " + x + " vs " + y);
    }
  };
  std::vector<std::string> sections;
  for (const toml::table* t : {&ta, &tb})
    for (const auto& [key, value] : *t)
      if (std::find(sections.begin(), sections.end(), std::string(key.str())) == sections.end())
        sections.emplace_back(key.str());
  for (const std::string& section : sections) compare(section, ta.get_as<toml::table>(section), tb.get_as<toml::table>(section));
  return differences;
}

double learningRateAt(const TrainingConfig& training, std::int64_t step) {
  if (training.warmupSteps > 0 && step < training.warmupSteps)
    return training.learningRate * double(step) / double(training.warmupSteps);
  if (training.learningRateSchedule == "constant" || training.steps <= training.warmupSteps)
    return training.learningRate;
  const double progress = std::clamp(double(step - training.warmupSteps) /
                                         double(training.steps - training.warmupSteps),
                                     0.0, 1.0);
  return training.learningRate * 0.5 * (1.0 + std::cos(M_PI * progress));
}

}  // namespace activediff::model
