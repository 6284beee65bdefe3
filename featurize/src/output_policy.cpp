#include "activediff/featurize/output_policy.h"

#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <system_error>

#include "activediff/featurize/error.h"

namespace activediff {

namespace fs = std::filesystem;

namespace {

bool isWithin(const fs::path& inner, const fs::path& outer) {  // inner == outer or below it
  auto o = outer.begin();
  auto i = inner.begin();
  for (; o != outer.end(); ++o, ++i) {
    if (o->empty()) continue;  // trailing separator
    if (i == inner.end() || *i != *o) return false;
  }
  return true;
}

std::string shapeName(OutputShape shape) { return shape == OutputShape::Directory ? "directory" : "file"; }

}  // namespace

fs::path backupPath(const fs::path& path, int n) {
  return path.parent_path() / ("#" + path.filename().string() + "." + std::to_string(n) + "#");
}

OutputDecision decideOutput(const OutputRequest& request, const OutputObservation& seen) {
  const fs::path& target = seen.target;
  const auto refuse = [&](const std::string& why) -> OutputDecision {
    throw Error(target.string(), "refusing to write this output: " + why + "; nothing was changed");
  };
  if (target.empty() || target == target.root_path()) return refuse("it is the root directory");
  if (!seen.home.empty() && target == seen.home) return refuse("it is the home directory");
  if (!seen.currentDirectory.empty() && isWithin(seen.currentDirectory, target)) {
    return refuse(target == seen.currentDirectory ? "it is the current directory"
                                                  : "it contains the current directory");
  }
  for (const fs::path& mount : seen.mountPoints) {
    if (target == mount) return refuse("it is a mount point");
  }
  for (const fs::path& input : seen.inputs) {
    if (input == target) return refuse("it is one of the inputs");
    if (isWithin(input, target)) return refuse("it contains the input " + input.string());
  }
  if (request.resume) return {OutputAction::Resume, {}};
  const PathState& state = seen.state;
  if (!state.exists) return {OutputAction::Create, {}};
  if (request.shape == OutputShape::Directory && !state.isDirectory) {
    return refuse("a directory is wanted here but it is an existing file");
  }
  if (request.shape == OutputShape::File && state.isDirectory) {
    return refuse("a file is wanted here but it is an existing directory");
  }
  if (state.isDirectory && state.isEmptyDirectory) return {OutputAction::Create, {}};
  if (state.isDirectory && state.activediffKind.empty()) {
    return refuse("it is a non-empty directory that is not an activediff output (no activediff meta.json, "
                  "report.json or train_summary.json in it); choose a new or empty directory");
  }
  if (request.overwrite) {
    if (state.activediffKind == request.kind) return {OutputAction::Replace, {}};
    return refuse(state.activediffKind.empty()
                      ? "--overwrite replaces only an activediff " + request.kind +
                            " output, and this " + shapeName(request.shape) +
                            " is not one (without --overwrite it is backed up)"
                      : "--overwrite replaces only an activediff " + request.kind + " output, and this is a " +
                            state.activediffKind + " output");
  }
  for (int n = 1; n <= kMaxBackups; ++n) {
    const fs::path backup = backupPath(target, n);
    if (!seen.exists || !seen.exists(backup)) return {OutputAction::BackUp, backup};
  }
  return refuse("it exists and all " + std::to_string(kMaxBackups) + " backup names #" +
                target.filename().string() + ".N# are taken; remove some backups");
}

fs::path absoluteNormal(const fs::path& path) {
  std::error_code ec;
  fs::path absolute = fs::absolute(path, ec);
  if (ec) absolute = path;
  // weakly_canonical resolves symlinks of the existing prefix and normalizes
  // the rest, so "out/../out/x" and "./out/x" name the same path.
  fs::path canonical = fs::weakly_canonical(absolute, ec);
  if (ec) canonical = absolute.lexically_normal();
  // A trailing separator ("out/") leaves an empty filename; drop it.
  if (canonical.has_relative_path() && canonical.filename().empty()) canonical = canonical.parent_path();
  return canonical;
}

namespace {

// The "activediff_output" kind stored in a JSON file ("" when absent/unreadable).
std::string kindInJson(const fs::path& file, const std::string& listedName = "") {
  std::ifstream in(file);
  if (!in) return "";
  try {
    const nlohmann::json j = nlohmann::json::parse(in);
    if (!j.is_object()) return "";
    std::string kind = j.value("activediff_output", std::string());
    // Datasets from before the policy carry only their format tag.
    if (kind.empty() && j.value("format", std::string()) == "activediff-dataset")
      kind = j.contains("generated") ? "sample" : "featurize";
    if (kind.empty() || listedName.empty()) return kind;
    if (j.contains("outputs") && j["outputs"].is_array()) {
      for (const auto& name : j["outputs"])
        if (name.is_string() && name.get<std::string>() == listedName) return kind;
    }
    return "";
  } catch (const std::exception&) {
    return "";
  }
}

}  // namespace

std::string recognizeActivediffOutput(const fs::path& path) {
  std::error_code ec;
  if (fs::is_directory(path, ec)) {
    for (const char* marker : {"meta.json", "report.json", "train_summary.json"}) {
      const std::string kind = kindInJson(path / marker);
      if (!kind.empty()) return kind;
    }
    return "";
  }
  if (!fs::exists(path, ec)) return "";
  const std::string name = path.filename().string();
  if (path.extension() == ".json") {
    const std::string own = kindInJson(path);
    if (!own.empty()) return own;
  }
  // A file is recognised by a sidecar JSON that lists it: name.json, or the
  // name with one or more extensions replaced by .json (run.log.csv ->
  // run.log.json, run.json).
  std::vector<fs::path> sidecars = {path.parent_path() / (name + ".json")};
  for (fs::path stem = path.filename(); stem.has_extension();) {
    stem = stem.stem();
    sidecars.push_back(path.parent_path() / (stem.string() + ".json"));
  }
  for (const fs::path& sidecar : sidecars) {
    if (sidecar == path) continue;
    const std::string kind = kindInJson(sidecar, name);
    if (!kind.empty()) return kind;
  }
  return "";
}

namespace {

std::vector<fs::path> readMountPoints() {
  std::vector<fs::path> mounts;
  std::ifstream in("/proc/self/mountinfo");
  std::string line;
  while (std::getline(in, line)) {
    // Fields: id parent major:minor root mount-point ...; octal escapes for spaces.
    std::istringstream fields(line);
    std::string id, parent, device, root, mount;
    if (!(fields >> id >> parent >> device >> root >> mount)) continue;
    std::string decoded;
    for (std::size_t i = 0; i < mount.size(); ++i) {
      if (mount[i] == '\\' && i + 3 < mount.size()) {
        decoded += static_cast<char>(std::stoi(mount.substr(i + 1, 3), nullptr, 8));
        i += 3;
      } else {
        decoded += mount[i];
      }
    }
    mounts.emplace_back(decoded);
  }
  return mounts;
}

}  // namespace

OutputObservation observeOutput(const fs::path& target, const std::vector<fs::path>& inputs) {
  OutputObservation seen;
  seen.target = absoluteNormal(target);
  std::error_code ec;
  const fs::file_status status = fs::symlink_status(seen.target, ec);
  seen.state.exists = fs::exists(status);
  if (seen.state.exists) {
    seen.state.isDirectory = fs::is_directory(fs::status(seen.target, ec));
    if (seen.state.isDirectory) seen.state.isEmptyDirectory = fs::is_empty(seen.target, ec) && !ec;
    seen.state.activediffKind = recognizeActivediffOutput(seen.target);
  }
  if (const char* home = std::getenv("HOME"); home != nullptr && *home) seen.home = absoluteNormal(home);
  seen.currentDirectory = absoluteNormal(fs::current_path(ec));
  seen.mountPoints = readMountPoints();
  for (const fs::path& input : inputs)
    if (!input.empty()) seen.inputs.push_back(absoluteNormal(input));
  seen.exists = [](const fs::path& p) {
    std::error_code e;
    return fs::exists(fs::symlink_status(p, e));
  };
  return seen;
}

OutputSession& outputSession() {
  static OutputSession session;
  return session;
}

void declareInputs(const std::vector<std::string>& inputs) {
  for (const std::string& input : inputs)
    if (!input.empty()) outputSession().inputs.emplace_back(input);
}

namespace {

OutputRequest sessionRequest(OutputShape shape) {
  const OutputSession& session = outputSession();
  OutputRequest request;
  request.kind = session.kind;
  request.shape = shape;
  request.overwrite = session.overwrite;
  request.resume = false;
  return request;
}

void say(const std::string& line) { std::cerr << "activediff: " << line << "\n"; }

// rename() that fails with EEXIST instead of replacing an existing path.
bool renameNoReplace(const fs::path& from, const fs::path& to, std::error_code& ec) {
  if (::renameat2(AT_FDCWD, from.c_str(), AT_FDCWD, to.c_str(), RENAME_NOREPLACE) == 0) return true;
  if (errno == EINVAL || errno == ENOSYS) {
    // The file system cannot refuse atomically: check, then rename.
    std::error_code e;
    if (fs::exists(fs::symlink_status(to, e))) {
      ec = std::make_error_code(std::errc::file_exists);
      return false;
    }
    fs::rename(from, to, ec);
    return !ec;
  }
  ec = std::error_code(errno, std::generic_category());
  return false;
}

void backUp(const fs::path& target, const fs::path& backup) {
  std::error_code ec;
  if (!renameNoReplace(target, backup, ec)) {
    throw Error(target.string(), "cannot back up the existing output to " + backup.string() + ": " + ec.message());
  }
  say("backed up " + target.string() + " to " + backup.string());
}

// Renames an activediff output that --overwrite replaces to a temporary name
// of the tool's own beside it; the caller removes it once that is safe.
fs::path moveAside(const fs::path& target) {
  const fs::path aside = reserveTemporary(target, OutputShape::Directory);
  std::error_code ec;
  fs::remove(aside, ec);  // the reserved, empty directory: the name is what is wanted
  fs::rename(target, aside, ec);
  if (ec) throw Error(target.string(), "cannot replace the existing output: " + ec.message());
  return aside;
}

}  // namespace

fs::path reserveTemporary(const fs::path& target, OutputShape shape) {
  const fs::path dir = target.parent_path();
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) {
    throw Error(target.string(), "output directory " + dir.string() + " does not exist");
  }
  const std::string stem = shape == OutputShape::File ? target.stem().string() : target.filename().string();
  const std::string extension = shape == OutputShape::File ? target.extension().string() : "";
  for (int n = 0; n < 1000; ++n) {
    const fs::path candidate =
        dir / ("." + stem + ".adtmp-" + std::to_string(::getpid()) + "-" + std::to_string(n) + extension);
    if (shape == OutputShape::Directory) {
      if (::mkdir(candidate.c_str(), 0777) == 0) return candidate;
    } else {
      const int fd = ::open(candidate.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
      if (fd >= 0) {
        ::close(fd);
        return candidate;
      }
    }
    if (errno != EEXIST) {
      throw Error(target.string(), std::string("cannot create a temporary output beside it: ") + std::strerror(errno));
    }
  }
  throw Error(target.string(), "cannot find a free temporary name beside it");
}

OutputClaim::OutputClaim(fs::path target, OutputShape shape) : OutputClaim(std::move(target), shape, sessionRequest(shape)) {}

OutputClaim::OutputClaim(fs::path target, OutputShape shape, const OutputRequest& request)
    : target_(absoluteNormal(target)), request_(request) {
  request_.shape = shape;
  // Decided now so that a refusal comes before any work; commit() decides again.
  decideOutput(request_, observeOutput(target_, outputSession().inputs));
  temporary_ = reserveTemporary(target_, shape);
  outputSession().claimed.push_back(target_);
}

OutputClaim::~OutputClaim() {
  if (!committed_ && removeTemporaryOnFailure_ && !temporary_.empty()) {
    std::error_code ec;
    fs::remove_all(temporary_, ec);  // the tool's own temporary only
  }
}

void OutputClaim::commit() {
  if (committed_) return;
  // Decide again on what is there now: something may have appeared.
  const OutputDecision now = decideOutput(request_, observeOutput(target_, outputSession().inputs));
  std::error_code ec;
  switch (now.action) {
    case OutputAction::Resume:
    case OutputAction::Create:
      if (fs::is_directory(target_, ec) && fs::is_empty(target_, ec)) fs::remove(target_, ec);  // empty: rmdir only
      break;
    case OutputAction::BackUp:
      backUp(target_, now.backup);
      break;
    case OutputAction::Replace:
      if (request_.shape == OutputShape::Directory) {
        // Move the old activediff output aside, put the new one in place,
        // then remove the old one: the target is never missing its data.
        const fs::path aside = moveAside(target_);
        fs::rename(temporary_, target_, ec);
        if (ec) {
          std::error_code back;
          fs::rename(aside, target_, back);
          throw Error(target_.string(), "cannot move the finished output into place: " + ec.message());
        }
        fs::remove_all(aside, ec);
        committed_ = true;
        say("replaced " + target_.string() + " (--overwrite)");
        return;
      }
      fs::rename(temporary_, target_, ec);  // a file: rename replaces it atomically
      if (ec) throw Error(target_.string(), "cannot move the finished output into place: " + ec.message());
      committed_ = true;
      say("replaced " + target_.string() + " (--overwrite)");
      return;
  }
  if (!renameNoReplace(temporary_, target_, ec)) {
    throw Error(target_.string(), "cannot move the finished output into place: " + ec.message());
  }
  committed_ = true;
}

void checkOutputAllowed(const fs::path& target, OutputShape shape) {
  decideOutput(sessionRequest(shape), observeOutput(target, outputSession().inputs));
}

void OutputClaim::commitFrom(const fs::path& ownFile) {
  std::error_code ec;
  fs::remove(temporary_, ec);  // the reserved (empty) temporary is not needed
  temporary_ = ownFile;
  removeTemporaryOnFailure_ = false;  // a failed commit keeps the run's data
  commit();
}

void backUpExisting(const fs::path& path) {
  OutputRequest request = sessionRequest(OutputShape::File);
  request.overwrite = false;
  const OutputObservation seen = observeOutput(path, outputSession().inputs);
  if (!seen.state.exists) return;
  const OutputDecision decision = decideOutput(request, seen);
  if (decision.action == OutputAction::BackUp) backUp(seen.target, decision.backup);
}

OutputDecision claimDirectoryInPlace(const fs::path& directory) {
  OutputRequest request = sessionRequest(OutputShape::Directory);
  request.resume = outputSession().resume;
  const fs::path target = absoluteNormal(directory);
  const OutputDecision decision = decideOutput(request, observeOutput(target, outputSession().inputs));
  outputSession().claimed.push_back(target);
  std::error_code ec;
  switch (decision.action) {
    case OutputAction::Resume:
      if (!fs::is_directory(target, ec)) throw Error(target.string(), "nothing to resume: the directory does not exist");
      return decision;
    case OutputAction::BackUp:
      backUp(target, decision.backup);
      break;
    case OutputAction::Replace: {
      fs::remove_all(moveAside(target), ec);
      say("replaced " + target.string() + " (--overwrite)");
      break;
    }
    case OutputAction::Create:
      break;
  }
  fs::create_directory(target, ec);
  if (ec) throw Error(target.string(), "cannot create the output directory: " + ec.message());
  return decision;
}

bool deviceIsFull(const fs::path& path) {
  struct statvfs fsStats {};
  const fs::path probe = path.has_parent_path() ? path.parent_path() : fs::path(".");
  return ::statvfs(probe.c_str(), &fsStats) == 0 && fsStats.f_bavail == 0;
}

void throwWriteError(const fs::path& path, const std::string& what) {
  const int saved = errno;
  std::string reason = saved != 0 ? std::strerror(saved) : "I/O error";
  if (saved == ENOSPC || deviceIsFull(path)) {
    reason = "no space left on device";
  }
  throw Error(displayPath(path).string(), what + ": " + reason);
}

fs::path displayPath(const fs::path& path) {
  fs::path shown;
  for (const fs::path& part : path) {
    const std::string name = part.string();
    const std::size_t marker = name.find(".adtmp-");
    if (name.size() > 1 && name[0] == '.' && marker != std::string::npos) {
      // ".stem.adtmp-PID-N.ext" -> "stem.ext"
      std::string rest = name.substr(marker + 7);
      const std::size_t dot = rest.find('.');
      shown /= name.substr(1, marker - 1) + (dot == std::string::npos ? "" : rest.substr(dot));
    } else {
      shown /= part;
    }
  }
  return shown;
}

void writeTextFile(const fs::path& file, const fs::path& shownAs, const std::string& contents) {
  errno = 0;
  std::ofstream stream(file, std::ios::binary | std::ios::trunc);
  if (!stream) throwWriteError(shownAs, "cannot open for writing");
  stream << contents;
  stream.flush();
  if (!stream) throwWriteError(shownAs, "write failed");
  stream.close();
  if (!stream) throwWriteError(shownAs, "write failed");
}

void writeTemporary(const OutputClaim& claim, const std::string& contents) {
  writeTextFile(claim.temporary(), claim.target(), contents);
}

void writeClaimed(OutputClaim& claim, const std::string& contents) {
  writeTemporary(claim, contents);
  claim.commit();
}

}  // namespace activediff
