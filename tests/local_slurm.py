"""A one-node SLURM cluster on localhost for the tests: munged, slurmctld and slurmd from Debian's
slurm-wlm and munge, with every file (key, state, spool, PMIx folders, logs, sockets) under one folder.

The configuration goes to SLURM's default paths, /etc/slurm/slurm.conf and mpi.conf, and is removed
afterwards: inside a job the executor plugin strips SLURM_* variables (SLURM_CONF among them) before its own
``srun``, which then finds the configuration only there. Configuration that is not ours is never touched (the
tests skip). No accounting database: job status comes from ``squeue`` (jobs stay listed for ``MinJobAge``
seconds after they end: two hours, longer than any test, whose assertions read every job's state at its
end). No cgroups here, hence ``proctrack/linuxproc`` and ``task/none``. ``MpiDefault=pmix``, so that MPI
programs (CP2K) started by ``srun`` initialise. Daemons talk over 127.0.0.1 on free ports and are stopped by
their PIDs.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

DAEMONS = ("munged", "mungekey", "slurmctld", "slurmd", "sbatch", "squeue", "sinfo")
SYSTEM_CONF = Path("/etc/slurm/slurm.conf")
MPI_CONF = SYSTEM_CONF.with_name("mpi.conf")  # SLURM reads it beside slurm.conf
MARK = "# written by mlip-transfer's tests/local_slurm.py\n"


def unavailable_because() -> str | None:
    """Why a local cluster cannot run here, or None."""
    missing = [d for d in DAEMONS if shutil.which(d) is None]
    if missing:
        return f"slurm-wlm and munge are not installed ({', '.join(missing)} missing)"
    for conf in (SYSTEM_CONF, MPI_CONF):
        if conf.exists() and not conf.read_text().startswith(MARK):
            return f"{conf} belongs to a real SLURM installation"
    if not os.access(SYSTEM_CONF.parent if SYSTEM_CONF.parent.exists() else "/etc", os.W_OK):
        return f"{SYSTEM_CONF} is not writable"
    return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LocalSlurm:
    """``with LocalSlurm(folder) as cluster:`` — ``cluster.env`` is the environment for SLURM clients."""

    def __init__(self, root: str | os.PathLike, partition: str = "local", cpus: int | None = None):
        self.root = Path(root).resolve()
        self.partition = partition
        self.cpus = cpus or os.cpu_count()
        self.node = socket.gethostname().split(".")[0]  # NodeName must be `hostname -s`
        self.conf = SYSTEM_CONF
        self.env = {**os.environ, "SLURM_CONF": str(self.conf)}
        self._daemons: list[subprocess.Popen] = []

    def _write_config(self) -> None:
        r = self.root
        for folder in ("state", "spool"):
            (r / folder).mkdir(parents=True, exist_ok=True)
        memory_mb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // 2**20
        self.conf.parent.mkdir(parents=True, exist_ok=True)
        # PMIx's per-step folders under our root: in /tmp, those of an earlier cluster's job with the same id
        # made a step's launch fail
        (r / "pmix").mkdir(exist_ok=True)
        MPI_CONF.write_text(MARK + f"PMIxCliTmpDirBase={r}/pmix\n")
        self.conf.write_text(
            MARK
            + f"""ClusterName=mlipci
SlurmctldHost={self.node}(127.0.0.1)
SlurmctldPort={_free_port()}
SlurmdPort={_free_port()}
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket={r}/munge.socket
SlurmUser=root
SlurmdUser=root
StateSaveLocation={r}/state
SlurmdSpoolDir={r}/spool
SlurmctldPidFile={r}/slurmctld.pid
SlurmdPidFile={r}/slurmd.pid
SlurmctldLogFile={r}/slurmctld.log
SlurmdLogFile={r}/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
MpiDefault=pmix
ReturnToService=2
MinJobAge=7200
SchedulerParameters=sched_interval=2
NodeName={self.node} NodeAddr=127.0.0.1 CPUs={self.cpus} RealMemory={memory_mb * 3 // 4} State=UNKNOWN
PartitionName={self.partition} Nodes=ALL Default=YES MaxTime=INFINITE State=UP
"""
        )

    def _start(self, *command: str) -> None:
        log = open(self.root / f"{Path(command[0]).name}.out", "w")  # noqa: SIM115 (kept open for the daemon)
        self._daemons.append(subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=self.env))

    def start(self, timeout_s: float = 60) -> LocalSlurm:
        self.root.mkdir(parents=True, exist_ok=True)
        self._write_config()
        key = self.root / "munge.key"
        subprocess.run(["mungekey", "--create", f"--keyfile={key}", "--force"], check=True, capture_output=True)
        r = self.root
        self._start(
            "munged", "--foreground", "--force", f"--socket={r}/munge.socket", f"--key-file={key}",
            f"--pid-file={r}/munged.pid", f"--seed-file={r}/munged.seed", f"--log-file={r}/munged.log",
        )  # fmt: skip
        self._wait(lambda: (r / "munge.socket").exists(), timeout_s, "munged")
        self._start("slurmctld", "-D", "-f", str(self.conf))
        self._start("slurmd", "-D", "-f", str(self.conf))
        self._wait(self._node_idle, timeout_s, "slurmd to register its node as idle")
        return self

    def _node_idle(self) -> bool:
        out = subprocess.run(["sinfo", "-h", "-o", "%t"], capture_output=True, text=True, env=self.env)
        return out.returncode == 0 and out.stdout.strip() == "idle"

    def _wait(self, ready, timeout_s: float, what: str) -> None:
        deadline = time.monotonic() + timeout_s
        while not ready():
            dead = [d.args[0] for d in self._daemons if d.poll() is not None]
            if dead or time.monotonic() > deadline:
                self.stop()
                logs = "\n".join(f"{p.name}:\n{p.read_text()[-1500:]}" for p in sorted(self.root.glob("*.out")))
                raise RuntimeError(f"local SLURM: gave up waiting for {what} (exited: {dead})\n{logs}")
            time.sleep(0.5)

    def stop(self) -> None:
        for daemon in reversed(self._daemons):
            if daemon.poll() is None:
                daemon.send_signal(signal.SIGTERM)
        for daemon in reversed(self._daemons):
            try:
                daemon.wait(timeout=20)
            except subprocess.TimeoutExpired:
                daemon.kill()
                daemon.wait()
        self._daemons.clear()
        self.conf.unlink(missing_ok=True)
        MPI_CONF.unlink(missing_ok=True)

    def __enter__(self) -> LocalSlurm:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
