"""HTTP load with wrk (Debian's `wrk`): a fixed number of connections, each sending its next
request as soon as the last one is answered, for a fixed time.

wrk is C and event-driven, so on a small machine it takes little of the CPU the server under
test needs. A generated Lua script counts every answer whose status is not the expected one
(wrk itself counts only 4xx/5xx, and a 302 to the login page is a failure here) and prints the
totals and latency percentiles as one JSON line.
"""

import json
import shutil
import subprocess
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

WRK = "wrk"
MARK = "WRK-RESULT "

# Each wrk thread runs its own Lua state: `setup` keeps every thread, `done` adds their counts.
SCRIPT = """
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args) unexpected = 0; first_unexpected = 0 end
function response(status, headers, body)
  if status ~= %(expected)d then
    unexpected = unexpected + 1
    if first_unexpected == 0 then first_unexpected = status end
  end
end
function done(summary, latency, requests)
  local unexpected, first = 0, 0
  for _, thread in ipairs(threads) do
    unexpected = unexpected + thread:get("unexpected")
    if first == 0 then first = thread:get("first_unexpected") end
  end
  local e = summary.errors
  io.write(string.format(
    '%(mark)s{"requests": %%d, "duration_us": %%d, "unexpected": %%d, "first_unexpected": %%d, '
    .. '"socket_errors": %%d, "timeouts": %%d, "p50_us": %%d, "p95_us": %%d, "max_us": %%d}\\n',
    summary.requests, summary.duration, unexpected, first, e.connect + e.read + e.write, e.timeout,
    latency:percentile(50), latency:percentile(95), latency.max))
end
"""


class WrkMissing(RuntimeError):
    pass


@dataclass(frozen=True)
class Target:
    name: str
    path: str
    headers: tuple[tuple[str, str], ...] = ()
    expected: int = 200


@dataclass(frozen=True)
class Result:
    name: str
    path: str
    connections: int
    requests: int
    seconds: float
    rps: float
    p50_ms: float
    p95_ms: float
    max_ms: float
    errors: int  # unexpected statuses + socket errors + timeouts
    first_unexpected_status: int | None

    def as_dict(self) -> dict:
        return asdict(self)


def wrk_path() -> str:
    found = shutil.which(WRK)
    if not found:
        raise WrkMissing("wrk is not installed (apt-get install wrk)")
    return found


def start(base_url: str, target: Target, *, connections: int, seconds: float, timeout: float, script: Path):
    """Start one wrk run; `finish` reads its result."""
    script.write_text(SCRIPT % {"expected": target.expected, "mark": MARK})
    command = [
        wrk_path(),
        f"--threads={min(2, connections)}",
        f"--connections={connections}",
        f"--duration={max(1, round(seconds))}s",
        f"--timeout={max(1, round(timeout))}s",
        f"--script={script}",
    ]
    for name, value in target.headers:
        command.append(f"--header={name}: {value}")
    command.append(base_url.rstrip("/") + target.path)
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    return target, connections, process


def finish(run, *, deadline: float) -> Result:
    target, connections, process = run
    try:
        out, err = process.communicate(timeout=deadline)
    except subprocess.TimeoutExpired:
        process.kill()
        process.communicate()
        raise RuntimeError(f"wrk on {target.path} did not finish within {deadline:.0f} s") from None
    lines = [line for line in out.splitlines() if line.startswith(MARK)]
    if process.returncode != 0 or not lines:
        raise RuntimeError(
            f"wrk on {target.path} failed ({process.returncode}): {err.strip() or out.strip()}"
        )
    raw = json.loads(lines[-1][len(MARK) :])
    seconds = raw["duration_us"] / 1e6
    return Result(
        name=target.name,
        path=target.path,
        connections=connections,
        requests=raw["requests"],
        seconds=round(seconds, 2),
        rps=round(raw["requests"] / seconds, 1) if seconds else 0.0,
        p50_ms=round(raw["p50_us"] / 1000, 1),
        p95_ms=round(raw["p95_us"] / 1000, 1),
        max_ms=round(raw["max_us"] / 1000, 1),
        errors=raw["unexpected"] + raw["socket_errors"] + raw["timeouts"],
        first_unexpected_status=raw["first_unexpected"] or None,
    )


def run_together(base_url: str, plan, *, seconds: float, timeout: float = 30) -> list[Result]:
    """[(target, connections)] all at once, for the same `seconds`: one wrk process each."""
    with tempfile.TemporaryDirectory(prefix="wrk-") as workdir:
        runs = []
        try:
            for i, (target, n) in enumerate(plan):
                script = Path(workdir) / f"{i}.lua"
                runs.append(
                    start(base_url, target, connections=n, seconds=seconds, timeout=timeout, script=script)
                )
            return [finish(run, deadline=seconds + timeout + 30) for run in runs]
        finally:
            for _, _, process in runs:  # a failed run leaves none of the others behind
                if process.poll() is None:
                    process.kill()
                    process.wait()


def run(base_url: str, target: Target, *, connections: int, seconds: float, timeout: float = 30) -> Result:
    """`connections` clients on one target for `seconds`."""
    return run_together(base_url, [(target, connections)], seconds=seconds, timeout=timeout)[0]
