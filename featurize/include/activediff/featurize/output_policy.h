#pragma once
// The one output policy of activediff: what happens when an output path is
// new, exists, or must not be touched. Every subcommand claims each of its
// outputs through OutputClaim (or claimDirectoryInPlace); nothing else of
// the program may create, replace or remove a user-visible path.
//
//   new path                     -> created
//   existing path (default)      -> backed up to #name.N# (GROMACS' scheme),
//                                   never deleted: any single file; a
//                                   directory only when it is an activediff
//                                   output (its own meta.json/summary says so)
//   --overwrite                  -> replaces an activediff output of the same
//                                   kind, nothing else
//   refused, nothing touched     -> /, HOME, the current directory, a mount
//                                   point, an input or a directory holding
//                                   one, a non-empty foreign directory, a
//                                   file where a directory is wanted or the
//                                   reverse
//   resume                       -> writes into its own output by design
//
// decideOutput() is a pure function of what it is shown (OutputObservation),
// so the refusals of system paths are unit-tested with fakes.
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

namespace activediff {

enum class OutputShape { File, Directory };

// What the file system says about the target path.
struct PathState {
  bool exists = false;
  bool isDirectory = false;
  bool isEmptyDirectory = false;
  // The activediff output kind recorded in the path's own marker (a
  // directory's meta.json / report.json / train_summary.json, a file's
  // sidecar JSON listing it); empty when it is not an activediff output.
  std::string activediffKind;
};

struct OutputObservation {
  std::filesystem::path target;  // absolute and normalized (see absoluteNormal)
  PathState state;
  std::filesystem::path home;              // empty when HOME is unset
  std::filesystem::path currentDirectory;  // absolute and normalized
  std::vector<std::filesystem::path> mountPoints;
  std::vector<std::filesystem::path> inputs;  // absolute and normalized
  // Whether a path exists (for choosing a free backup name).
  std::function<bool(const std::filesystem::path&)> exists;
};

struct OutputRequest {
  std::string kind;  // the writer's kind: the subcommand name ("featurize", "energy", ...)
  OutputShape shape = OutputShape::File;
  bool overwrite = false;
  bool resume = false;  // a resume writes into its own output: exempt from backup/refusal of existing
};

enum class OutputAction { Create, BackUp, Replace, Resume };

struct OutputDecision {
  OutputAction action = OutputAction::Create;
  std::filesystem::path backup;  // for BackUp: where the existing path is moved
};

// Throws activediff::Error("<target>: <why>") when the output is refused.
OutputDecision decideOutput(const OutputRequest& request, const OutputObservation& observed);

// "#name.N#" beside path, as GROMACS names its backups.
std::filesystem::path backupPath(const std::filesystem::path& path, int n);
constexpr int kMaxBackups = 99;

// Absolute, lexically normal, with symbolic links of the existing part of
// the path resolved, so that two spellings of one path compare equal.
std::filesystem::path absoluteNormal(const std::filesystem::path& path);

// The activediff kind of an existing path ("" when foreign).
std::string recognizeActivediffOutput(const std::filesystem::path& path);

// Gathers an OutputObservation from the real system (stat, mount table,
// HOME, the current directory).
OutputObservation observeOutput(const std::filesystem::path& target,
                                const std::vector<std::filesystem::path>& inputs);

// The running subcommand's output settings, set once by the CLI: the kind it
// writes, --overwrite, its inputs, and every output it claimed (their names go
// into its JSON summary, which is how a later run recognises them).
struct OutputSession {
  std::string kind;
  bool overwrite = false;
  bool resume = false;
  std::vector<std::filesystem::path> inputs;
  std::vector<std::filesystem::path> claimed;  // absolute targets, in claim order
};
OutputSession& outputSession();
// Adds inputs of the running command (files or directories; empty strings ignored).
void declareInputs(const std::vector<std::string>& inputs);

// One output path claimed under the policy. The constructor decides (and
// throws on a refusal, before any work is done) and reserves a temporary of
// the tool's own beside the target (same extension, so libgromacs picks the
// format). commit() decides again on what is there now, backs up or
// replaces as decided, and renames the temporary into place with a rename
// that never replaces anything but a replaced activediff output. Without
// commit() the temporary is removed.
class OutputClaim {
 public:
  OutputClaim(std::filesystem::path target, OutputShape shape);
  OutputClaim(std::filesystem::path target, OutputShape shape, const OutputRequest& request);
  ~OutputClaim();
  OutputClaim(const OutputClaim&) = delete;
  OutputClaim& operator=(const OutputClaim&) = delete;

  const std::filesystem::path& target() const { return target_; }
  const std::filesystem::path& temporary() const { return temporary_; }
  void commit();
  // Commits another file of the tool's own instead of the reserved
  // temporary (a run that grew its output under a working name, such as
  // simulate's .part files).
  void commitFrom(const std::filesystem::path& ownFile);
  bool committed() const { return committed_; }

 private:
  std::filesystem::path target_;
  std::filesystem::path temporary_;
  OutputRequest request_;
  bool committed_ = false;
  bool removeTemporaryOnFailure_ = true;  // false once commitFrom() adopted a working file
};

// Moves an existing file out of the way now, as the policy backs up any file
// (#name.N#, one line printed), e.g. a killed run's working files when a new
// run starts in their place. Nothing happens when the path does not exist.
void backUpExisting(const std::filesystem::path& path);

// Applies the policy now without touching anything (a refusal throws), for
// commands whose claim is made only after long work.
void checkOutputAllowed(const std::filesystem::path& target, OutputShape shape);

// For outputs written in place over a long run (a training directory): the
// policy is applied now, an existing activediff output is backed up (or
// replaced with --overwrite) at once, and the directory is created. A resume
// keeps the directory as it is. Returns the decision taken.
OutputDecision claimDirectoryInPlace(const std::filesystem::path& directory);

// Reserves a temporary of the tool's own beside target, created exclusively
// (O_EXCL / mkdir) so that it can never be someone else's file; a file keeps
// the target's extension.
std::filesystem::path reserveTemporary(const std::filesystem::path& target, OutputShape shape);

// Whether the file system holding path has no free block left (a write
// there may have been cut short by libraries that do not report it).
bool deviceIsFull(const std::filesystem::path& path);

// Writes contents to file (created or truncated), checking the open, the
// write and the close; an error names shownAs, the name the user knows.
void writeTextFile(const std::filesystem::path& file, const std::filesystem::path& shownAs,
                   const std::string& contents);

// Writes text to a claimed path's temporary (write, flush, check); commit
// separately, so that a multi-file output commits only once every file is
// complete.
void writeTemporary(const OutputClaim& claim, const std::string& contents);
// writeTemporary, then commit.
void writeClaimed(OutputClaim& claim, const std::string& contents);

// The path a user knows: a component that is one of the tool's temporaries
// (".name.adtmp-PID-N.ext") is shown as the final name.
std::filesystem::path displayPath(const std::filesystem::path& path);

// Throws Error(path, "<what>: <strerror>") for a failed stream; says "no space
// left on device" when the device is full.
[[noreturn]] void throwWriteError(const std::filesystem::path& path, const std::string& what);

}  // namespace activediff
