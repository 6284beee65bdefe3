// XmlSerializer proxy of GenerativeMonteCarloMove: a "version" property (this
// proxy writes 2 and refuses newer ones; version 1, 2D only, held the five
// atoms under TorsionAtoms, version 2 any number under FeatureAtoms), the checkpoint bytes embedded as
// base64 so a serialized System is self-contained. Registered when the
// library loads (openmm-torch does the same), so OpenMM's Python
// XmlSerializer.deserialize returns the Force once the plugin directory is loaded.
#include <openmm/OpenMMException.h>
#include <openmm/serialization/SerializationNode.h>
#include <openmm/serialization/SerializationProxy.h>

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "activediff/plugin/generative_monte_carlo_move.h"

namespace activediff::plugin {
namespace {

constexpr int kProxyVersion = 2;
const char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

std::string toBase64(const std::string& bytes) {
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  for (std::size_t i = 0; i < bytes.size(); i += 3) {
    std::uint32_t v = std::uint8_t(bytes[i]) << 16;
    if (i + 1 < bytes.size()) v |= std::uint8_t(bytes[i + 1]) << 8;
    if (i + 2 < bytes.size()) v |= std::uint8_t(bytes[i + 2]);
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += i + 1 < bytes.size() ? kAlphabet[(v >> 6) & 63] : '=';
    out += i + 2 < bytes.size() ? kAlphabet[v & 63] : '=';
  }
  return out;
}

std::string fromBase64(const std::string& text) {
  std::array<int, 256> value;
  value.fill(-1);
  for (int i = 0; i < 64; ++i) value[std::uint8_t(kAlphabet[i])] = i;
  if (text.size() % 4 != 0)
    throw OpenMM::OpenMMException("GenerativeMonteCarloMove XML: the checkpoint is not base64 (length " +
                                  std::to_string(text.size()) + " is not a multiple of 4)");
  std::string out;
  out.reserve(text.size() / 4 * 3);
  for (std::size_t i = 0; i < text.size(); i += 4) {
    std::uint32_t v = 0;
    int padding = 0;
    for (int k = 0; k < 4; ++k) {
      const char c = text[i + k];
      if (c == '=' && i + 4 == text.size() && k >= 2) {
        ++padding;
        v <<= 6;
        continue;
      }
      const int d = value[std::uint8_t(c)];
      if (d < 0 || padding > 0)
        throw OpenMM::OpenMMException("GenerativeMonteCarloMove XML: the checkpoint is not base64 (bad character at " +
                                      std::to_string(i + k) + ")");
      v = (v << 6) | std::uint32_t(d);
    }
    out += char((v >> 16) & 255);
    if (padding < 2) out += char((v >> 8) & 255);
    if (padding < 1) out += char(v & 255);
  }
  return out;
}

class GenerativeMonteCarloMoveProxy : public OpenMM::SerializationProxy {
 public:
  GenerativeMonteCarloMoveProxy() : SerializationProxy("ActivediffGenerativeMonteCarloMove") {}

  void serialize(const void* object, OpenMM::SerializationNode& node) const override {
    const auto& move = *static_cast<const GenerativeMonteCarloMove*>(object);
    node.setIntProperty("version", kProxyVersion);
    node.setIntProperty("forceGroup", move.getForceGroup());
    node.setIntProperty("interval", move.getInterval());
    node.setDoubleProperty("temperature", move.getDefaultTemperature());
    node.setLongProperty("seed", move.getRandomNumberSeed());
    node.setIntProperty("densitySteps", move.getDensitySteps());
    OpenMM::SerializationNode& atoms = node.createChildNode("FeatureAtoms");
    for (int a : move.getFeatureAtoms()) atoms.createChildNode("Atom").setIntProperty("index", a);
    node.setStringProperty("checkpoint", toBase64(move.getCheckpoint()));
  }

  void* deserialize(const OpenMM::SerializationNode& node) const override {
    const int version = node.getIntProperty("version");
    if (version < 1 || version > kProxyVersion)
      throw OpenMM::OpenMMException("GenerativeMonteCarloMove XML: version " + std::to_string(version) +
                                    " is not one this plugin reads (it reads 1 to " + std::to_string(kProxyVersion) +
                                    "; a newer activediff wrote it?)");
    const char* atomsNode = version == 1 ? "TorsionAtoms" : "FeatureAtoms";
    const auto& children = node.getChildNode(atomsNode).getChildren();
    if (version == 1 && children.size() != 5)
      throw OpenMM::OpenMMException("GenerativeMonteCarloMove XML: TorsionAtoms has " +
                                    std::to_string(children.size()) + " atoms, not 5");
    if (children.empty()) throw OpenMM::OpenMMException("GenerativeMonteCarloMove XML: FeatureAtoms is empty");
    std::vector<int> atoms;
    for (const auto& child : children) atoms.push_back(child.getIntProperty("index"));
    const long long seed = node.getLongProperty("seed");
    if (seed < 0 || seed > 0xffffffffLL)
      throw OpenMM::OpenMMException("GenerativeMonteCarloMove XML: seed " + std::to_string(seed) + " out of range");
    auto* move = new GenerativeMonteCarloMove(fromBase64(node.getStringProperty("checkpoint")), atoms,
                                              node.getIntProperty("interval"),
                                              node.getDoubleProperty("temperature"), std::uint32_t(seed));
    try {
      move->setForceGroup(node.getIntProperty("forceGroup", 0));
      move->setDensitySteps(node.getIntProperty("densitySteps"));
    } catch (...) {
      delete move;
      throw;
    }
    return move;
  }
};

}  // namespace

extern "C" __attribute__((constructor)) void registerActivediffSerializationProxies() {
  OpenMM::SerializationProxy::registerProxy(typeid(GenerativeMonteCarloMove), new GenerativeMonteCarloMoveProxy());
}

}  // namespace activediff::plugin
