#!/usr/bin/env bash
# Tests of the study workflow (issue 12): workflows/study/Snakefile through
# Snakemake 7.21 (/usr/bin/snakemake, Debian's), on a tiny grid.
#   study_test.sh local  SOURCE_DIR PROGRAM   tiny grid, -j 2; every cell's JSON and the
#                                             comparison table against tests/oracles/study_table.py
#   study_test.sh rerun  SOURCE_DIR PROGRAM   after one cell's setting changes, `snakemake -n`
#                                             plans only that cell's jobs (and the report); a
#                                             rebuilt program plans every job; a failed cell names itself
#   study_test.sh slurm  SOURCE_DIR PROGRAM   a one-node Slurm on localhost (local-slurm.sh), the
#                                             tiny grid through the Slurm profile, the same outputs
#                                             as a local run
# PROGRAM is the built activediff; it and the programs beside it are copied into
# the scratch directory first (a concurrent rebuild cannot change them mid-test).
# Everything the test writes lies in one mktemp -d directory, removed on success.
set -euo pipefail
MODE="$1"; SRC="$(cd "$2" && pwd)"; PROGRAM="$3"
SNAKEMAKE=/usr/bin/snakemake
PY=/usr/bin/python3
STUDY="$SRC/workflows/study"
TINY="$SRC/tests/workflow/tiny.yaml"
[ -x "$SNAKEMAKE" ] || { echo "study_test: $SNAKEMAKE missing (workflows/setup.sh installs snakemake)"; exit 1; }

SCRATCH="$(mktemp -d "${TMPDIR:-/tmp}/activediff-study-$MODE.XXXXXX")"
export TMPDIR="$SCRATCH/tmp"; mkdir -p "$TMPDIR"
export HOME="$SCRATCH/home"; mkdir -p "$HOME"   # snakemake's caches (~/.cache) stay in the scratch
export XDG_CACHE_HOME="$HOME/.cache"
CLUSTER=""
cleanup() {
  local rc=$?
  if [ -n "$CLUSTER" ]; then "$STUDY/scripts/local-slurm.sh" stop "$CLUSTER" || true; fi
  if [ "$rc" = 0 ]; then rm -rf "$SCRATCH"; else echo "study_test: FAILED; outputs kept in $SCRATCH"; fi
}
trap cleanup EXIT
echo "study_test $MODE: scratch $SCRATCH"

# The program, copied (retried: another engineer's rebuild may be relinking it).
mkdir -p "$SCRATCH/bin"
for attempt in 1 2 3 4 5; do
  cp "$PROGRAM" "$(dirname "$PROGRAM")"/activediff-* "$SCRATCH/bin/" 2>/dev/null || true
  "$SCRATCH/bin/activediff" --version >/dev/null 2>&1 && "$SCRATCH/bin/activediff-torch" --version >/dev/null 2>&1 && break
  [ "$attempt" = 5 ] && { echo "study_test: cannot run a copy of $PROGRAM"; exit 1; }
  sleep 5
done
AD="$SCRATCH/bin/activediff"

EXTRA_CONFIG=()  # more --config items (Snakemake keeps only the last --config option)
smk() {  # snakemake on the study with the program copy; the rest from the caller
  "$SNAKEMAKE" -s "$STUDY/Snakefile" --config activediff="$AD" "${EXTRA_CONFIG[@]+"${EXTRA_CONFIG[@]}"}" "$@"
}

# The jobs a dry run plans, one "RULE CELL" line each (from the rules' messages).
planned() {
  smk -n "$@" >"$SCRATCH/plan.log" 2>&1 || { cat "$SCRATCH/plan.log"; echo "study_test: the dry run failed"; exit 1; }
  sed -n 's/^Job [0-9]*: \(featurize\|train\|sample\|evaluate\) \(.*\)$/\1 \2/p' "$SCRATCH/plan.log" | sort
}

expect_plan() {  # expect_plan WHAT EXPECTED_FILE ARGS...: the planned cell jobs are exactly the expected ones
  local what="$1" expected="$2"; shift 2
  planned "$@" >"$SCRATCH/planned.txt"
  if ! diff -u "$expected" "$SCRATCH/planned.txt"; then
    echo "study_test: $what: the planned jobs differ from the expected (above)"; exit 1
  fi
  echo "study_test: $what: $(wc -l <"$expected") jobs planned, as expected"
}

case "$MODE" in
local)
  start=$SECONDS
  smk -d "$SCRATCH/run" --configfile "$TINY" -j 2 >"$SCRATCH/snakemake.log" 2>&1 ||
    { tail -40 "$SCRATCH/snakemake.log"; echo "study_test: the tiny grid failed"; exit 1; }
  echo "study_test: tiny grid ran in $((SECONDS - start)) s"
  "$PY" "$SRC/tests/oracles/study_table.py" --run "$SCRATCH/run" --config "$TINY"
  # Nothing left to do after a complete run.
  smk -d "$SCRATCH/run" --configfile "$TINY" -n >"$SCRATCH/dry.log" 2>&1
  grep -q "Nothing to be done" "$SCRATCH/dry.log" || { cat "$SCRATCH/dry.log"; echo "study_test: a rerun plans jobs"; exit 1; }
  grep -q "In words" "$SCRATCH/run/report/study.md"
  ;;

rerun)
  # A smaller grid: 2 processes x 2 samplers x 2 seeds, 100 steps, no energies.
  CONFIG="$SCRATCH/grid.yaml"
  "$PY" - "$TINY" "$CONFIG" <<'EOF'
import sys, yaml
c = yaml.safe_load(open(sys.argv[1]))
c["budgets"] = [100]
c["evaluate"].update(energy_samples=0, quality_seeds=2)
c["samplers"] = {"deis-10": {"sampler": "deis", "steps": 10}, "em-20": {"sampler": "em", "steps": 20}}
yaml.safe_dump(c, open(sys.argv[2], "w"))
EOF
  start=$SECONDS
  smk -d "$SCRATCH/run" --configfile "$CONFIG" -j 2 >"$SCRATCH/snakemake.log" 2>&1 ||
    { tail -40 "$SCRATCH/snakemake.log"; echo "study_test: the grid failed"; exit 1; }
  echo "study_test: grid ran in $((SECONDS - start)) s"
  C=2d/run1-run2
  : >"$SCRATCH/none.txt"
  expect_plan "no change" "$SCRATCH/none.txt" -d "$SCRATCH/run" --configfile "$CONFIG"

  # One cell's sampler setting: that cell's sample and evaluate jobs, each seed.
  cp "$CONFIG" "$SCRATCH/changed.yaml"
  printf 'cell_settings:\n  - {cells: {process: active-tau0.5, sampler: em-20}, sample: {steps: 21}}\n' >>"$SCRATCH/changed.yaml"
  printf '%s\n' "evaluate $C/active-tau0.5/b100/em-20/seed1" "evaluate $C/active-tau0.5/b100/em-20/seed2" \
    "sample $C/active-tau0.5/b100/em-20/seed1" "sample $C/active-tau0.5/b100/em-20/seed2" | sort >"$SCRATCH/expected.txt"
  expect_plan "one cell's sampler steps" "$SCRATCH/expected.txt" -d "$SCRATCH/run" --configfile "$SCRATCH/changed.yaml"
  smk -d "$SCRATCH/run" --configfile "$SCRATCH/changed.yaml" -n >"$SCRATCH/dry.log" 2>&1
  grep -q "comparison report" "$SCRATCH/dry.log" ||
    { echo "study_test: the report is not replanned after a cell changed"; exit 1; }

  # One process's training setting: its models and the cells on them.
  cp "$CONFIG" "$SCRATCH/changed.yaml"
  printf 'cell_settings:\n  - {cells: {process: passive}, train_set: [training.learning_rate=0.002]}\n' >>"$SCRATCH/changed.yaml"
  {
    for s in 1 2; do
      echo "train $C/passive/b100/seed$s"
      for sm in deis-10 em-20; do echo "sample $C/passive/b100/$sm/seed$s"; echo "evaluate $C/passive/b100/$sm/seed$s"; done
    done
  } | sort >"$SCRATCH/expected.txt"
  expect_plan "one process's learning rate" "$SCRATCH/expected.txt" -d "$SCRATCH/run" --configfile "$SCRATCH/changed.yaml"

  # A grid dimension through --config: a new seed plans only the new seed's jobs.
  {
    for p in passive active-tau0.5; do
      echo "train $C/$p/b100/seed3"
      for sm in deis-10 em-20; do echo "sample $C/$p/b100/$sm/seed3"; echo "evaluate $C/$p/b100/$sm/seed3"; done
    done
  } | sort >"$SCRATCH/expected.txt"
  EXTRA_CONFIG=("seeds=[1,2,3]")
  expect_plan "a third seed" "$SCRATCH/expected.txt" -d "$SCRATCH/run" --configfile "$CONFIG"
  EXTRA_CONFIG=()

  # A rebuilt program (newer than the version file): every job.
  touch "$SCRATCH/bin/activediff-torch"
  {
    echo "featurize run1 (2d)"; echo "featurize run2 (2d)"
    for p in passive active-tau0.5; do for s in 1 2; do
      echo "train $C/$p/b100/seed$s"
      for sm in deis-10 em-20; do echo "sample $C/$p/b100/$sm/seed$s"; echo "evaluate $C/$p/b100/$sm/seed$s"; done
    done; done
  } | sort >"$SCRATCH/expected.txt"
  expect_plan "a rebuilt program" "$SCRATCH/expected.txt" -d "$SCRATCH/run" --configfile "$CONFIG"

  # A failed cell names itself (a sampler activediff refuses), and the others go on (-k).
  EXTRA_CONFIG=('samplers={bad: {sampler: nosuch}}' 'seeds=[1]'
                'processes={passive: {config: "examples/configs/{features}-passive.toml"}}')
  if smk -d "$SCRATCH/fail" --configfile "$CONFIG" -j 2 -k >"$SCRATCH/fail.log" 2>&1; then
    echo "study_test: a sampler that does not exist did not fail"; exit 1
  fi
  grep -q "study: sample of 2d/run1-run2/passive/b100/bad/seed1 failed; log: logs/cells/2d/run1-run2/passive/b100/bad/seed1/sample.log" "$SCRATCH/fail.log" ||
    { tail -30 "$SCRATCH/fail.log"; echo "study_test: the failed cell is not named"; exit 1; }
  grep -qi "nosuch" "$SCRATCH/fail/logs/cells/2d/run1-run2/passive/b100/bad/seed1/sample.log" ||
    { echo "study_test: the cell's log does not say why"; exit 1; }
  echo "study_test: a failed cell names itself and its log"
  ;;

slurm)
  for program in slurmctld slurmd munged sbatch; do
    command -v "$program" >/dev/null || [ -x "/usr/sbin/$program" ] ||
      { echo "study_test: $program missing (the test set-up installs slurm-wlm and munge)"; exit 1; }
  done
  [ "$(id -u)" = 0 ] || { echo "study_test: the one-node Slurm runs as root (SlurmUser=root)"; exit 1; }
  # The Slurm grid: the tiny grid with one sampler.
  CONFIG="$SCRATCH/grid.yaml"
  "$PY" - "$TINY" "$CONFIG" <<'EOF'
import sys, yaml
c = yaml.safe_load(open(sys.argv[1]))
c["samplers"] = {"deis-10": c["samplers"]["deis-10"]}
yaml.safe_dump(c, open(sys.argv[2], "w"))
EOF
  CLUSTER="$SCRATCH/cluster"
  LOCAL_SLURM_WATCH_PID=$$ "$STUDY/scripts/local-slurm.sh" start "$CLUSTER"
  # shellcheck disable=SC1091
  source "$CLUSTER/env.sh"
  start=$SECONDS
  # From the scratch: sbatch's -D and the job logs (.snakemake/slurm_logs) follow the cwd.
  (cd "$SCRATCH" && smk -d "$SCRATCH/slurm" --configfile "$CONFIG" --profile "$STUDY/profiles/slurm" \
     >"$SCRATCH/slurm.log" 2>&1) ||
    { tail -60 "$SCRATCH/slurm.log"; tail -20 "$CLUSTER/log/slurmctld.log"; echo "study_test: the grid failed on Slurm"; exit 1; }
  echo "study_test: the grid ran through Slurm in $((SECONDS - start)) s"
  submitted=$(grep -c "has been submitted with SLURM jobid" "$SCRATCH/slurm.log" || true)
  # featurize x 2, train x 4, sample x 4, evaluate x 4, report: 15 sbatch jobs.
  [ "$submitted" = 15 ] || { echo "study_test: $submitted jobs went to Slurm, expected 15"; exit 1; }
  for id in $(sed -n 's/.*submitted with SLURM jobid \([0-9]*\).*/\1/p' "$SCRATCH/slurm.log"); do
    state="$(scontrol show job "$id" | sed -n 's/.*JobState=\([A-Z_]*\).*/\1/p')"
    [ "$state" = COMPLETED ] || { echo "study_test: Slurm job $id is $state"; exit 1; }
  done
  echo "study_test: all $submitted Slurm jobs COMPLETED"
  "$PY" "$SRC/tests/oracles/study_table.py" --run "$SCRATCH/slurm" --config "$CONFIG"
  # The same grid locally: the same numbers (one thread a job).
  start=$SECONDS
  smk -d "$SCRATCH/local" --configfile "$CONFIG" -j 2 >"$SCRATCH/local.log" 2>&1 ||
    { tail -40 "$SCRATCH/local.log"; echo "study_test: the local run failed"; exit 1; }
  echo "study_test: the same grid ran locally in $((SECONDS - start)) s"
  "$PY" - "$SCRATCH/slurm" "$SCRATCH/local" <<'EOF'
import glob, json, os, sys
slurm, local = sys.argv[1:]
def strip(x):  # timings differ between runs; everything else must not
    if isinstance(x, dict):
        return {k: strip(v) for k, v in x.items() if k not in ("samples_per_s", "train_it_per_s", "job_seconds")}
    if isinstance(x, list):
        return [strip(v) for v in x]
    return x
a, b = (json.load(open(os.path.join(d, "report", "study.json"))) for d in (slurm, local))
if strip(a) != strip(b):
    sys.exit("study_test: study.json differs between Slurm and the local run")
n = 0
for path in sorted(glob.glob(os.path.join(local, "cells", "**", "report.json"), recursive=True)):
    rel = os.path.relpath(path, local)
    ra, rb = (json.load(open(os.path.join(d, rel))) for d in (slurm, local))
    for key in ("quality", "states", "energies", "ramachandran", "validity"):
        if ra.get(key) != rb.get(key):
            sys.exit(f"study_test: {rel}: {key} differs between Slurm and the local run")
    fa, fb = (open(os.path.join(d, os.path.dirname(os.path.dirname(rel)), "samples", "features.npy"), "rb").read()
              for d in (slurm, local))
    if fa != fb:
        sys.exit(f"study_test: {rel}: generated samples differ between Slurm and the local run")
    n += 1
if n != 4:
    sys.exit(f"study_test: {n} cell reports, expected 4")
print(f"study_test: Slurm and local runs agree: study.json and {n} cell reports and samples")
EOF
  ;;
*)
  echo "study_test: unknown mode $MODE"; exit 2 ;;
esac
echo "study_test $MODE: OK"
