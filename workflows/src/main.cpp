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
#include "gmx_arguments.h"
#include "provenance.h"

namespace activediff::cli {
std::vector<RegisteredCommand>& commandRegistry() {
  static std::vector<RegisteredCommand> registry;
  return registry;
}
}  // namespace activediff::cli

namespace {

char** originalArgv = nullptr;

// The executable after this one in the chain (commands.h), or "" for the last.
#ifdef ACTIVEDIFF_NEXT_BINARY_NAME
constexpr const char* kNextBinary = ACTIVEDIFF_NEXT_BINARY_NAME;
#else
constexpr const char* kNextBinary = "";
#endif

bool isRegistered(const std::string& name) {
  for (const auto& command : activediff::cli::commandRegistry())
    if (command.name == name) return true;
  return false;
}

// Whether this executable runs the command line itself: it names one of its
// own subcommands, or no subcommand at all (--help, --version, a mistake: the
// catalog lists every command, so help and errors need no fuller binary).
// Hidden test options go to the fullest executable, which holds every command.
bool runsHere(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--list-output-commands") return *kNextBinary == '\0';
    if (arg.empty() || arg[0] == '-') continue;
    if (isRegistered(arg)) return true;
    for (const auto& entry : activediff::cli::commandCatalog())
      if (arg == entry.name) return false;
    return true;  // not a command: CLI11 reports it here
  }
  return true;
}

[[noreturn]] void handOn() {
  std::error_code ec;
  const std::filesystem::path self = std::filesystem::read_symlink("/proc/self/exe", ec);
  const std::filesystem::path next = self.parent_path() / kNextBinary;
  ::execv(next.c_str(), originalArgv);
  std::cerr << "activediff: error: " << next.string() << ": cannot run this part of activediff ("
            << std::strerror(errno) << "); it must be installed beside " << self.string() << "\n";
  std::exit(127);
}

}  // namespace

namespace activediff::cli {
bool hasCapability(Capability capability) {
#if defined(ACTIVEDIFF_HAS_TORCH)
  (void)capability;
  return true;
#elif defined(ACTIVEDIFF_HAS_OPENMM)
  return capability == Capability::OpenMM;
#else
  (void)capability;
  return false;
#endif
}

void requireCapability(Capability capability) {
  if (hasCapability(capability)) return;
  if (*kNextBinary == '\0' || originalArgv == nullptr)
    throw std::logic_error("activediff: no executable after this one provides the capability");
  handOn();
}
}  // namespace activediff::cli

namespace {
// Adds a registered command with the options main() gives every command.
void addCommand(CLI::App& app, const activediff::cli::RegisteredCommand& command, nlohmann::json& outputCommands) {
  using activediff::cli::Verbosity;
  using activediff::cli::verbosity;
  command.add(app);
  CLI::App* sub = app.get_subcommand(command.name);
  // One verbosity for every command: progress displays obey it.
  sub->add_flag_callback("-q,--quiet", [] { verbosity() = Verbosity::Quiet; },
                         "no progress lines on stderr (warnings about the inputs and errors still print)");
  sub->add_flag_callback("-v,--verbose", [] { verbosity() = Verbosity::Verbose; },
                         "also print the resolved configuration and the inputs with their checksums on stderr");
  if (!command.writesOutputs) return;
  // One output policy for every command that writes: the registry adds it.
  sub->add_flag("--overwrite", activediff::outputSession().overwrite,
                "replace an existing activediff output of this command's kind (default: an existing output "
                "is backed up to #name.N#; foreign directories, inputs and system paths are refused)");
  const std::string name = command.name;
  sub->preparse_callback([name](std::size_t) { activediff::outputSession().kind = name; });
  outputCommands.push_back(name);
}
}  // namespace

int main(int argc, char** argv) {
  activediff::cli::rewriteGromacsStyleArguments(argc, argv);  // -dt -> --dt (gmx_arguments.h)
  originalArgv = argv;
  if (*kNextBinary != '\0' && !runsHere(argc, argv)) handOn();
  activediff::cli::setCommandLine(argc, argv);
  CLI::App app{
      "activediff: learn a molecule's conformational landscape from MD with active-noise "
      "diffusion, generate conformations, rebuild and validate them."};
  app.set_version_flag("--version", std::string("activediff ") + activediff::kVersion + " (" +
                                        activediff::kGitDescribe + ")");
  app.require_subcommand(1);
  // --help lists every command in the catalog's order, whichever executable
  // holds it; a command line naming one held elsewhere never gets here
  // (runsHere hands it on), so its entry needs no options.
  using activediff::cli::commandCatalog;
  auto& registry = activediff::cli::commandRegistry();
  const auto orderOf = [](const std::string& name, int fallback) {
    for (const auto& entry : commandCatalog())
      if (name == entry.name) return entry.order;
    return fallback;
  };
  std::sort(registry.begin(), registry.end(),
            [&](const auto& a, const auto& b) { return orderOf(a.name, a.order) < orderOf(b.name, b.order); });
  nlohmann::json outputCommands = nlohmann::json::array();
  auto command = registry.begin();
  for (const auto& entry : commandCatalog()) {
    for (; command != registry.end() && orderOf(command->name, command->order) <= entry.order; ++command)
      addCommand(app, *command, outputCommands);
    if (!isRegistered(entry.name)) app.add_subcommand(entry.name, entry.summary)->allow_extras();
  }
  for (; command != registry.end(); ++command) addCommand(app, *command, outputCommands);
  // The move's OpenMM plugin directory, for Platform::loadPluginsFromDirectory
  // (relative to this program: the build tree's, then the installed one).
  app.add_flag_callback(
      "--plugin-dir",
      []() {
        std::error_code ec;
        const std::filesystem::path self = std::filesystem::read_symlink("/proc/self/exe", ec);
        std::string candidates = ACTIVEDIFF_PLUGIN_DIRS;
        for (std::size_t start = 0; start <= candidates.size();) {
          const std::size_t end = std::min(candidates.find(':', start), candidates.size());
          const std::filesystem::path dir = self.parent_path() / candidates.substr(start, end - start);
          if (std::filesystem::is_directory(dir, ec)) {
            std::cout << std::filesystem::canonical(dir, ec).string() << "\n";
            throw CLI::Success();
          }
          start = end + 1;
        }
        throw activediff::Error("--plugin-dir: the OpenMM plugin directory is missing beside " + self.string() +
                                " (looked for " + candidates + " relative to it)");
      },
      "print the directory of activediff's OpenMM plugin (for Platform.loadPluginsFromDirectory) and exit");
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
