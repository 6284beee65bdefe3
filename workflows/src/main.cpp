// activediff: one program, git-style subcommands.
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>

#include "activediff/featurize/error.h"
#include "activediff/featurize/output_policy.h"
#include "activediff/version.h"
#include "commands.h"
#include "provenance.h"

namespace activediff::cli {
std::vector<RegisteredCommand>& commandRegistry() {
  static std::vector<RegisteredCommand> registry;
  return registry;
}
}  // namespace activediff::cli

#ifdef ACTIVEDIFF_TORCH_FREE_BINARY
namespace {

// The torch-free binary runs a command line itself only when it names one of
// its own subcommands (or asks for --version); anything else (train, sample,
// evaluate, --help, a mistake) goes to the full binary beside it, so help and
// errors list every command.
bool runsHere(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--version") return true;
    if (arg.empty() || arg[0] == '-') continue;
    for (const auto& command : activediff::cli::commandRegistry())
      if (command.name == arg) return true;
    return false;
  }
  return false;
}

[[noreturn]] void handOn(char** argv) {
  std::error_code ec;
  const std::filesystem::path self = std::filesystem::read_symlink("/proc/self/exe", ec);
  const std::filesystem::path full = self.parent_path() / ACTIVEDIFF_TORCH_BINARY_NAME;
  ::execv(full.c_str(), argv);
  std::cerr << "activediff: error: " << full.string() << ": cannot run the LibTorch part of activediff ("
            << std::strerror(errno) << "); it must be installed beside " << self.string() << "\n";
  std::exit(127);
}

}  // namespace
#endif

int main(int argc, char** argv) {
#ifdef ACTIVEDIFF_TORCH_FREE_BINARY
  if (!runsHere(argc, argv)) handOn(argv);
#endif
  activediff::cli::setCommandLine(argc, argv);
  CLI::App app{
      "activediff: learn a molecule's conformational landscape from MD with active-noise "
      "diffusion, generate conformations, rebuild and validate them."};
  app.set_version_flag("--version", std::string("activediff ") + activediff::kVersion + " (" +
                                        activediff::kGitDescribe + ")");
  app.require_subcommand(1);
  auto& registry = activediff::cli::commandRegistry();
  std::sort(registry.begin(), registry.end(),
            [](const auto& a, const auto& b) { return a.order < b.order; });
  nlohmann::json outputCommands = nlohmann::json::array();
  for (const auto& command : registry) {
    command.add(app);
    if (!command.writesOutputs) continue;
    // One output policy for every command that writes: the registry adds it.
    CLI::App* sub = app.get_subcommand(command.name);
    sub->add_flag("--overwrite", activediff::outputSession().overwrite,
                  "replace an existing activediff output of this command's kind (default: an existing output "
                  "is backed up to #name.N#; foreign directories, inputs and system paths are refused)");
    const std::string name = command.name;
    sub->preparse_callback([name](std::size_t) { activediff::outputSession().kind = name; });
    outputCommands.push_back(name);
  }
  // For the tests: which commands run under the output policy.
  app.add_flag_callback(
         "--list-output-commands",
         [&outputCommands]() {
           std::cout << outputCommands.dump() << "\n";
           throw CLI::Success();
         },
         "print the subcommands that write outputs (JSON) and exit")
      ->group("");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  } catch (const activediff::Error& e) {
    std::cerr << "activediff: error: " << e.what() << "\n";
    return 1;
  } catch (const std::exception& e) {
    std::cerr << "activediff: error: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
