// Config parsing: defaults, overrides, round trip, and clear errors for
// unknown keys and impossible values.
#include <cmath>

#include <gtest/gtest.h>

#include "activediff/featurize/error.h"
#include "activediff/model/config.h"
#include "activediff/model/samplers.h"
#include "model/shipped_sampling.h"

namespace activediff::model {
namespace {

std::string errorOf(const std::string& toml, const std::vector<std::string>& overrides = {}) {
  try {
    parseConfig(toml, "test.toml", overrides);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(ModelConfig, DefaultsAndProcessKindDefaults) {
  const ModelConfig c = parseConfig("[process]\nkind = \"active\"\n", "test.toml");
  EXPECT_EQ(c.process.sde.kind, ProcessKind::Active);
  EXPECT_DOUBLE_EQ(c.process.sde.tau, 0.5);
  EXPECT_EQ(c.network.width, 128);
  EXPECT_EQ(c.network.depth, 4);
  EXPECT_EQ(c.runtime.threads, 1);
  EXPECT_GT(effectiveEndTime(c), 5.0);
}

TEST(ModelConfig, OverridesApplyInOrderAndRoundTrip) {
  const ModelConfig c = parseConfig("[training]\nsteps = 10\n", "test.toml",
                                    {"training.steps=42", "process.kind=cld",
                                     "sampler.kind=\"sscs\"", "network.all_channels=true"});
  EXPECT_EQ(c.training.steps, 42);
  EXPECT_EQ(c.process.sde.kind, ProcessKind::Cld);
  EXPECT_EQ(c.sampler.kind, "sscs");
  EXPECT_TRUE(c.network.allChannels);
  const ModelConfig again = parseConfig(toToml(c), "roundtrip");
  EXPECT_EQ(toToml(again), toToml(c));
  EXPECT_NE(toJsonText(c).find("\"steps\""), std::string::npos);
}

TEST(ModelConfig, UnknownKeysAndSectionsAreErrors) {
  const std::string key = errorOf("[training]\nstep = 10\n");
  EXPECT_NE(key.find("test.toml"), std::string::npos) << key;
  EXPECT_NE(key.find("unknown config key training.step"), std::string::npos) << key;
  EXPECT_NE(errorOf("[trainer]\nsteps = 10\n").find("unknown config section [trainer]"),
            std::string::npos);
  EXPECT_NE(errorOf("", {"network.widht=3"}).find("network.widht"), std::string::npos);
  EXPECT_EQ(errorOf("", {"training.steps=5000"}), "");
  EXPECT_NE(errorOf("", {"nodot=1"}).find("section.key=value"), std::string::npos);
}

TEST(ModelConfig, WrongTypesAndImpossibleValuesAreErrors) {
  EXPECT_NE(errorOf("[training]\nsteps = \"many\"\n").find("training.steps must be an integer"),
            std::string::npos);
  const std::string tau = errorOf("[process]\nkind = \"active\"\ntau = 0.0\n");
  EXPECT_NE(tau.find("tau"), std::string::npos) << tau;
  EXPECT_NE(errorOf("[process]\nkind = \"active\"\ntau = -1.0\n").find("tau"),
            std::string::npos);
  const std::string end = errorOf("[process]\nkind = \"passive\"\nend_time = 2.0\n");
  EXPECT_NE(end.find("end_time"), std::string::npos) << end;
  EXPECT_NE(end.find("too short"), std::string::npos) << end;
  EXPECT_NE(errorOf("[process]\nkind = \"brownian\"\n").find("passive, active, cld"),
            std::string::npos);
  EXPECT_NE(errorOf("[training]\nema_decay = 1.5\n").find("training.ema_decay"),
            std::string::npos);
  EXPECT_NE(errorOf("[sampler]\nkind = \"ddim\"\n"), "");
  EXPECT_NE(errorOf("[runtime]\ndevice = \"tpu\"\n").find("runtime.device"),
            std::string::npos);
  EXPECT_NE(errorOf("[process\n").find("not valid TOML"), std::string::npos);
  // Tweedie needs the x score, which active with Tp = 0 learns only on request.
  EXPECT_NE(errorOf("[process]\nkind = \"active\"\n[sampler]\ntweedie = true\n")
                .find("all_channels"),
            std::string::npos);
  EXPECT_EQ(errorOf("[process]\nkind = \"active\"\n[network]\nall_channels = true\n"
                    "[sampler]\ntweedie = true\n"),
            "");
}

// The learning-rate schedule against its closed form: the linear warm-up,
// then the peak (constant) or half a cosine from the peak to 0 at the last
// step, whose midpoint is half the peak.
TEST(ModelConfig, LearningRateScheduleFollowsItsClosedForm) {
  TrainingConfig t;
  t.steps = 1100;
  t.warmupSteps = 100;
  t.learningRate = 2e-3;
  for (const char* schedule : {"constant", "cosine"}) {
    t.learningRateSchedule = schedule;
    EXPECT_DOUBLE_EQ(learningRateAt(t, 1), 2e-5) << schedule;
    EXPECT_DOUBLE_EQ(learningRateAt(t, 50), 1e-3) << schedule;
    EXPECT_DOUBLE_EQ(learningRateAt(t, 100), 2e-3) << schedule;
  }
  t.learningRateSchedule = "constant";
  EXPECT_DOUBLE_EQ(learningRateAt(t, 1100), 2e-3);
  t.learningRateSchedule = "cosine";
  EXPECT_NEAR(learningRateAt(t, 600), 1e-3, 1e-15);
  EXPECT_NEAR(learningRateAt(t, 350), 1e-3 * (1.0 + std::sqrt(0.5)), 1e-15);
  EXPECT_NEAR(learningRateAt(t, 1100), 0.0, 1e-15);
  for (std::int64_t s = 101; s <= 1100; ++s)
    EXPECT_LT(learningRateAt(t, s), learningRateAt(t, s - 1)) << s;
  // No warm-up: the peak at step 0, the cosine from there.
  t.warmupSteps = 0;
  EXPECT_NEAR(learningRateAt(t, 550), 1e-3, 1e-15);
  EXPECT_NE(errorOf("[training]\nlearning_rate_schedule = \"linear\"\n")
                .find("training.learning_rate_schedule"),
            std::string::npos);
}

// The torch-free sampler tests (tests/model/test_exponential_integrator.cpp,
// ShippedConfigSamplers) run these processes and samplers: the shipped files
// must say exactly that.
TEST(ModelConfig, ShippedConfigsHaveTheTestedProcessAndSampler) {
  for (const testing::ShippedSampling& s : testing::shippedSampling()) {
    const std::string file =
        std::string(ACTIVEDIFF_EXAMPLES_DIR) + "/configs/" + s.config + ".toml";
    const ModelConfig c = loadConfig(file);
    const LinearSdeParameters& p = c.process.sde;
    EXPECT_EQ(p.kind, s.process.kind) << file;
    EXPECT_DOUBLE_EQ(p.k, s.process.k) << file;
    EXPECT_DOUBLE_EQ(p.temperature, s.process.temperature) << file;
    EXPECT_DOUBLE_EQ(p.tau, s.process.tau) << file;
    EXPECT_DOUBLE_EQ(p.activeTemperature, s.process.activeTemperature) << file;
    EXPECT_DOUBLE_EQ(p.passiveTemperature, s.process.passiveTemperature) << file;
    EXPECT_DOUBLE_EQ(p.beta, s.process.beta) << file;
    EXPECT_DOUBLE_EQ(p.mass, s.process.mass) << file;
    EXPECT_DOUBLE_EQ(p.velocityFactor, s.process.velocityFactor) << file;
    EXPECT_DOUBLE_EQ(c.process.tEps, kDefaultTimeEpsilon) << file;
    EXPECT_EQ(effectiveEndTime(c), chooseEndTime(LinearSde::fromParameters(s.process))) << file;
    EXPECT_EQ(c.sampler.kind, samplerName(s.sampler)) << file;
    EXPECT_EQ(c.sampler.steps, s.steps) << file;
    EXPECT_EQ(c.sampler.grid, timeGridName(s.grid)) << file;
    EXPECT_EQ(c.sampler.order, s.order) << file;
    EXPECT_DOUBLE_EQ(c.sampler.stochasticity, s.stochasticity) << file;
    EXPECT_FALSE(c.sampler.tweedie) << file;
  }
  // No file: the same default sampler.
  const ModelConfig d = parseConfig("", "defaults");
  EXPECT_EQ(d.sampler.kind, "deis");
  EXPECT_EQ(d.sampler.steps, 20);
  EXPECT_EQ(d.sampler.grid, "dense-near-eps");
  EXPECT_EQ(d.sampler.order, 3);
  EXPECT_NE(errorOf("[sampler]\norder = 4\n"), "");
}

TEST(ModelConfig, ShippedExampleConfigsParse) {
  for (const char* name : {"2d-active", "2d-passive", "2d-cld", "25d-active", "25d-passive"}) {
    const std::string file =
        std::string(ACTIVEDIFF_EXAMPLES_DIR) + "/configs/" + name + ".toml";
    EXPECT_NO_THROW(loadConfig(file)) << file;
  }
}

}  // namespace
}  // namespace activediff::model
