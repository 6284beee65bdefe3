#!/usr/bin/env bash
# A one-node Slurm cluster on localhost in a scratch directory, with no
# systemd: a generated munge key and munged, then slurmctld -D and slurmd -D
# with SLURM_CONF pointing at a generated slurm.conf (node = `hostname -s`,
# proctrack/linuxproc, task/none, no accounting daemon). For tests of the
# study's Slurm profile (tests/workflow/slurm_test.sh); run as root.
#   local-slurm.sh start DIR   starts the daemons, waits until the node is idle,
#                              writes DIR/env.sh (source it: SLURM_CONF, USER)
#   local-slurm.sh stop DIR    stops the daemons started by `start DIR` (by pid)
# LOCAL_SLURM_WATCH_PID=PID with start: a watchdog also stops them once PID has
# exited (a test killed by its timeout cannot run its own trap).
# Everything it writes lies under DIR.
set -euo pipefail
cmd="${1:-}"; DIR="${2:-}"
[ -n "$cmd" ] && [ -n "$DIR" ] || { echo "usage: local-slurm.sh start|stop DIR" >&2; exit 2; }

stop() {
  local name pid
  for name in slurmd slurmctld munged; do
    [ -f "$DIR/pids/$name" ] || continue
    pid="$(cat "$DIR/pids/$name")"
    if kill -0 "$pid" 2>/dev/null; then
      kill -TERM "$pid" 2>/dev/null || true
      for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      kill -KILL "$pid" 2>/dev/null || true
    fi
    rm -f "$DIR/pids/$name"
  done
}

case "$cmd" in
  stop) stop; exit 0 ;;
  start) ;;
  *) echo "local-slurm.sh: unknown command $cmd" >&2; exit 2 ;;
esac

for program in munged mungekey slurmctld slurmd sinfo; do
  command -v "$program" >/dev/null || [ -x "/usr/sbin/$program" ] ||
    { echo "local-slurm.sh: $program not found (apt-get install slurm-wlm munge)" >&2; exit 1; }
done
export PATH="$PATH:/usr/sbin"
mkdir -p "$DIR"
DIR="$(cd "$DIR" && pwd)"
mkdir -p "$DIR/munge" "$DIR/pids" "$DIR/log" "$DIR/state" "$DIR/spool"
chmod 700 "$DIR/munge"

# munge: a fresh key and a daemon on a socket of our own.
SOCKET="$DIR/munge/munge.socket"
mungekey --create --keyfile="$DIR/munge/munge.key" --bits=1024 --force 2>/dev/null ||
  { dd if=/dev/urandom of="$DIR/munge/munge.key" bs=1024 count=1 status=none; }
chmod 400 "$DIR/munge/munge.key"
munged --force --socket="$SOCKET" --key-file="$DIR/munge/munge.key" --pid-file="$DIR/munge/munged.pid" \
  --log-file="$DIR/log/munged.log" --seed-file="$DIR/munge/munged.seed" >"$DIR/log/munged.out" 2>&1 ||
  { echo "local-slurm.sh: munged failed:" >&2; cat "$DIR/log/munged.out" "$DIR/log/munged.log" >&2; exit 1; }
for _ in $(seq 1 50); do [ -s "$DIR/munge/munged.pid" ] && break; sleep 0.1; done
cp "$DIR/munge/munged.pid" "$DIR/pids/munged"

# Two free TCP ports for slurmctld and slurmd.
read -r CTLD_PORT SLURMD_PORT < <(/usr/bin/python3 - <<'PY'
import socket
s = [socket.socket() for _ in range(2)]
for x in s: x.bind(("127.0.0.1", 0))
print(*[x.getsockname()[1] for x in s])
PY
)
NODE="$(hostname -s)"
CPUS="$(nproc)"
MEM_MB="$(awk '/MemTotal/ {print int($2 / 1024 * 0.8)}' /proc/meminfo)"
export SLURM_CONF="$DIR/slurm.conf"
cat >"$SLURM_CONF" <<CONF
ClusterName=localtest
SlurmctldHost=$NODE(127.0.0.1)
SlurmctldPort=$CTLD_PORT
SlurmdPort=$SLURMD_PORT
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$SOCKET
CredType=cred/munge
StateSaveLocation=$DIR/state
SlurmdSpoolDir=$DIR/spool/slurmd-%n
SlurmctldPidFile=$DIR/pids/slurmctld.pid
SlurmdPidFile=$DIR/pids/slurmd.pid
SlurmctldLogFile=$DIR/log/slurmctld.log
SlurmdLogFile=$DIR/log/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
SwitchType=switch/none
MpiDefault=none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerType=sched/backfill
ReturnToService=2
MinJobAge=3600
KillWait=5
InactiveLimit=0
PlugStackConfig=$DIR/plugstack.conf
NodeName=$NODE NodeAddr=127.0.0.1 CPUs=$CPUS RealMemory=$MEM_MB State=UNKNOWN
PartitionName=debug Nodes=$NODE Default=YES MaxTime=INFINITE State=UP OverSubscribe=NO
CONF
: >"$DIR/plugstack.conf"

slurmctld -D -i -f "$SLURM_CONF" >"$DIR/log/slurmctld.out" 2>&1 &
echo $! >"$DIR/pids/slurmctld"
slurmd -D -f "$SLURM_CONF" -N "$NODE" >"$DIR/log/slurmd.out" 2>&1 &
echo $! >"$DIR/pids/slurmd"

# Wait until the node is idle (at most 60 s).
state=""
for _ in $(seq 1 120); do
  state="$(sinfo -h -n "$NODE" -o %t 2>/dev/null | head -1 || true)"
  case "$state" in idle*) break ;; esac
  for name in slurmctld slurmd; do
    kill -0 "$(cat "$DIR/pids/$name")" 2>/dev/null || {
      echo "local-slurm.sh: $name exited:" >&2; tail -20 "$DIR/log/$name.out" "$DIR/log/$name.log" >&2 2>/dev/null; stop; exit 1; }
  done
  sleep 0.5
done
case "$state" in
  idle*) ;;
  *) echo "local-slurm.sh: node $NODE not idle after 60 s (state '$state'):" >&2
     tail -20 "$DIR/log/slurmctld.log" "$DIR/log/slurmd.log" >&2 2>/dev/null; stop; exit 1 ;;
esac
if [ -n "${LOCAL_SLURM_WATCH_PID:-}" ]; then
  SELF="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/$(basename "${BASH_SOURCE[0]}")"
  nohup bash -c 'while kill -0 "$1" 2>/dev/null; do sleep 2; done; exec "$2" stop "$3"' watchdog \
    "$LOCAL_SLURM_WATCH_PID" "$SELF" "$DIR" >"$DIR/log/watchdog.log" 2>&1 </dev/null &
fi
cat >"$DIR/env.sh" <<ENV
export SLURM_CONF="$SLURM_CONF"
export USER="\${USER:-\$(id -un)}"
export PATH="\$PATH:/usr/sbin"
ENV
echo "local-slurm.sh: node $NODE idle ($CPUS CPUs, $MEM_MB MB), SLURM_CONF=$SLURM_CONF" >&2
