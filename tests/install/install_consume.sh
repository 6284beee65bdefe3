#!/usr/bin/env bash
# Install and consume (issue 13 Build 4), run by CTest as `install_consume`:
#  1. cmake --install the build tree into a scratch prefix (never elsewhere);
#  2. the prefix holds shared libraries, headers, programs, examples, the
#     package config and activediff.pc, and nothing outside it was written;
#  3. the installed programs run from the prefix alone (RUNPATH, no build tree):
#     --version, featurize on the installed examples, a hand-off to the torch tier;
#  4. a downstream CMake project (downstream/) finds it with find_package,
#     builds with Ninja and prints phi/psi and a Van Loan kernel value that it
#     checks against known values; a second program links all four libraries;
#  5. a one-file program builds with `pkg-config --cflags --libs activediff`,
#     and every installed header compiles with the installed headers alone.
# Usage: install_consume.sh BUILD_DIR DOWNSTREAM_DIR CMAKE GENERATOR MAKE_PROGRAM CXX PKG_CONFIG VERSION
set -euo pipefail
build=$1 downstream=$2 cmake=$3 generator=$4 make_program=$5 cxx=$6 pkg_config=$7 version=$8

scratch=$(mktemp -d "${TMPDIR:-/tmp}/activediff-install-test.XXXXXX")
prefix="$scratch/prefix"
keep_on_failure() {
  local rc=$?
  if [[ $rc -eq 0 ]]; then rm -rf "$scratch"; else echo "FAILED (rc $rc); scratch kept: $scratch" >&2; fi
}
trap keep_on_failure EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
step() { echo "== $* ($SECONDS s)"; }
# Nothing from the caller's environment may help the prefix find its libraries.
unset LD_LIBRARY_PATH CMAKE_PREFIX_PATH PKG_CONFIG_PATH activediff_DIR

step "cmake --install $build --prefix $prefix"
manifest="$scratch/install.log"
"$cmake" --install "$build" --prefix "$prefix" > "$manifest"
# Every file installed lies under the scratch prefix.
if grep -E '^-- (Installing|Up-to-date): ' "$manifest" | sed -E 's/^-- [A-Za-z-]+: //' | grep -v "^$prefix/"; then
  fail "files installed outside $prefix"
fi

step "installed layout"
libdir=""
for d in lib lib64 lib/x86_64-linux-gnu; do
  [[ -e "$prefix/$d/libactivediff_featurize.so" ]] && libdir="$prefix/$d" && break
done
[[ -n "$libdir" ]] || fail "no libactivediff_featurize.so under $prefix/lib*"
for lib in featurize model model_torch plugin; do
  so="$libdir/libactivediff_$lib.so"
  [[ -L "$so" && -e "$so" ]] || fail "$so missing (or not a namelink)"
  readelf -h "$so" | grep 'Type: *DYN' >/dev/null || fail "$so is not a shared library"
  [[ ! -e "$libdir/libactivediff_$lib.a" ]] || fail "static $lib installed"
  readelf -d "$so" | grep -E "R(UN)?PATH.*\\\$ORIGIN" >/dev/null || fail "$so has no \$ORIGIN RUNPATH"
done
for f in include/activediff/version.h \
         include/activediff/featurize/backbone.h include/activediff/model/van_loan_kernel.h \
         include/activediff/model/generator.h include/activediff/plugin/potential_energy.h \
         share/activediff/examples/ala2/ala2.pdb share/activediff/examples/ala2/md/run1.xtc \
         share/activediff/examples/configs/2d-active.toml \
         bin/activediff bin/activediff-torch; do
  [[ -e "$prefix/$f" ]] || fail "$prefix/$f missing"
done
cmakedir="$libdir/cmake/activediff"
for f in activediffConfig.cmake activediffConfigVersion.cmake activediffTargets.cmake FindOpenMM.cmake; do
  [[ -e "$cmakedir/$f" ]] || fail "$cmakedir/$f missing"
done
[[ -e "$libdir/pkgconfig/activediff.pc" ]] || fail "activediff.pc missing"
# Programs: every executable the build has in workflows/ is installed beside the others.
for exe in "$build"/workflows/activediff*; do
  [[ -f "$exe" && -x "$exe" ]] || continue
  [[ -x "$prefix/bin/$(basename "$exe")" ]] || fail "program $(basename "$exe") not installed"
done
# No RUNPATH of an installed file points into the build tree.
for f in "$prefix"/bin/* "$libdir"/libactivediff_*.so; do
  if readelf -d "$f" | grep -E 'R(UN)?PATH' | grep -F "$build" >/dev/null; then fail "$f: RUNPATH into the build tree"; fi
done

step "installed programs"
# The dynamic loader resolves activediff's own libraries into the prefix.
real_libdir=$(readlink -f "$libdir")
for program in "$prefix"/bin/*; do
  while read -r resolved; do
    [[ "$(readlink -f "$resolved")" == "$real_libdir/"* ]] \
      || fail "$program loads $resolved, not from $libdir"
  done < <(ldd "$program" | awk '/libactivediff_/ { print $3 }')
done
ldd "$prefix/bin/activediff" | grep libactivediff_featurize >/dev/null || fail "bin/activediff does not load libactivediff_featurize"
out=$("$prefix/bin/activediff" --version)
echo "$out"
[[ "$out" == "activediff $version"* ]] || fail "--version printed '$out'"
examples="$prefix/share/activediff/examples/ala2"
"$prefix/bin/activediff" featurize -q -s "$examples/ala2.pdb" -o "$scratch/dataset" \
  "$examples/md/run1.xtc" > "$scratch/featurize.json"
grep -q '"frames": 5000' "$scratch/featurize.json" || fail "featurize: not 5000 frames: $(cat "$scratch/featurize.json")"
grep -q '"dimension": 2' "$scratch/featurize.json" || fail "featurize: not 2 features"
# features.npy: header + 5000 x 2 float64
npy_bytes=$(stat -c %s "$scratch/dataset/features.npy")
(( npy_bytes > 80000 && npy_bytes <= 80000 + 4096 )) || fail "features.npy has $npy_bytes bytes"
# A command line the torch tier runs: execs it from the prefix's bin/.
"$prefix/bin/activediff" train --help > "$scratch/train-help.txt" || fail "activediff train --help failed"
grep -qi "config" "$scratch/train-help.txt" || fail "train --help: $(head -3 "$scratch/train-help.txt")"

# The Monte Carlo move's OpenMM plugin: in a directory of its own beside the
# libraries, which the installed program names and which OpenMM loads cleanly.
plugin_dir="$libdir/activediff-openmm-plugins"
[[ -f "$plugin_dir/libactivediff_mcmove_reference.so" ]] || fail "$plugin_dir/libactivediff_mcmove_reference.so missing"
[[ "$(ls "$plugin_dir")" == "libactivediff_mcmove_reference.so" ]] || fail "$plugin_dir holds more than the plugin: $(ls "$plugin_dir")"
if readelf -d "$plugin_dir/libactivediff_mcmove_reference.so" | grep -E 'R(UN)?PATH' | grep -F "$build" >/dev/null; then
  fail "the plugin's RUNPATH points into the build tree"
fi
printed=$("$prefix/bin/activediff" --plugin-dir) || fail "activediff --plugin-dir failed"
[[ "$(readlink -f "$printed")" == "$(readlink -f "$plugin_dir")" ]] || fail "--plugin-dir printed $printed, not $plugin_dir"
/usr/bin/python3 -c "
import sys, openmm as mm
mm.Platform.loadPluginsFromDirectory(mm.Platform.getDefaultPluginsDirectory())
mm.Platform.loadPluginsFromDirectory(sys.argv[1])
f = mm.Platform.getPluginLoadFailures()
sys.exit('plugin load failures: %s' % '; '.join(f) if f else 0)" "$printed" || fail "OpenMM could not load the installed plugin"

step "downstream: find_package(activediff)"
gen_args=(-G "$generator")
[[ -n "$make_program" ]] && gen_args+=(-DCMAKE_MAKE_PROGRAM="$make_program")
"$cmake" -S "$downstream" -B "$scratch/downstream-build" "${gen_args[@]}" \
  -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_COMPILER="$cxx" \
  -DCMAKE_PREFIX_PATH="$prefix" -DEXPECTED_ACTIVEDIFF_VERSION="$version" > "$scratch/downstream-configure.log" \
  || { cat "$scratch/downstream-configure.log"; fail "downstream configure"; }
grep "activediff $version from $cmakedir" "$scratch/downstream-configure.log" \
  || fail "downstream found activediff elsewhere: $(grep 'activediff' "$scratch/downstream-configure.log")"
"$cmake" --build "$scratch/downstream-build" -j2 > "$scratch/downstream-build.log" \
  || { cat "$scratch/downstream-build.log"; fail "downstream build"; }
"$scratch/downstream-build/downstream" "$examples/ala2.pdb"
"$scratch/downstream-build/downstream_all"

step "pkg-config --cflags --libs activediff"
export PKG_CONFIG_PATH="$libdir/pkgconfig"
pc_version=$("$pkg_config" --modversion activediff)
[[ "$pc_version" == "$version" ]] || fail "pkg-config --modversion: $pc_version"
pc_flags=$("$pkg_config" --cflags --libs activediff)
echo "$pc_flags"
# shellcheck disable=SC2086  # the flags are words
"$cxx" -std=c++17 -O1 "$downstream/pkgconfig_main.cpp" $pc_flags -Wl,-rpath,"$libdir" \
  -o "$scratch/pkgconfig_main"
"$scratch/pkgconfig_main"
# Every installed header compiles with the installed ones alone (none reaches
# into a module's src/).
{ (cd "$prefix/include" && find activediff -name '*.h' | sort | sed 's/.*/#include <&>/')
  echo 'int main() { return 0; }'; } > "$scratch/all_headers.cpp"
# shellcheck disable=SC2046
"$cxx" -std=c++17 -fsyntax-only $("$pkg_config" --cflags activediff) "$scratch/all_headers.cpp" \
  || fail "the installed headers do not compile on their own"
echo "$(grep -c '#include' "$scratch/all_headers.cpp") installed headers compile on their own"

step "install_consume passed"
