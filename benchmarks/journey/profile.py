"""Where a journey page's time goes: py-spy on govserve's workers while wrk walks the journey.

    python -m benchmarks.journey.profile [--seconds 20] [--database-url URL] [--clients 50] [--raw FILE]

Deploys as the benchmark does (production settings, fresh database, signed-in
citizens, ``govserve serve --workers 2``), runs the closed-loop walk and
samples every worker with ``py-spy record --subprocesses`` (100 samples a
second, idle time excluded). Prints the functions with the largest share of
the workers' busy samples, inclusive (the function and what it calls) and
self, and the share of a few groups named in :data:`GROUPS` (templates,
database, sealing...). ``--raw`` keeps py-spy's collapsed stacks.
"""

from __future__ import annotations

import argparse
import collections
import re
import subprocess
import sys
import tempfile
from pathlib import Path

from benchmarks.journey.deployment import deployed
from benchmarks.journey.load import wrk_phase
from benchmarks.journey.plan import variants, write_for_wrk

FRAME = re.compile(r"^(?P<function>.*) \((?P<file>[^:()]*)(?::\d+)?\)$")
# Groups of frames, matched on "function (file)": a sample counts once per group whatever its depth. Groups overlap.
GROUPS = {
    "Django's request handling (WSGIHandler)": re.compile(r"^WSGIHandler\.__call__ "),
    "templates (Jinja2 render)": re.compile(r"^Template\.render \(jinja2/"),
    "templates: page content blocks": re.compile(r"^block_content "),
    "journey state (state_load: answers, routing, conditions)": re.compile(r"^state_load "),
    "rules (CEL), all": re.compile(r"govserve/rules/"),
    "rules: diagnosing an evaluation error": re.compile(r"govserve/rules/diagnose"),
    "session load": re.compile(r"^SessionStore\.load "),
    "session save (every request)": re.compile(r"^SessionStore\.save "),
    "journey events (a row per page view/submission)": re.compile(r"^journey_event_record "),
    "answers saved (page_answers_save)": re.compile(r"^page_answers_save "),
    "submission (application_submit)": re.compile(r"^application_submit "),
    "uploads (govserve.documents)": re.compile(r"govserve/documents/"),
    "sealing (seal, unseal, data keys)": re.compile(r"privacy/crypto"),
    "audit entries": re.compile(r"govserve/audit/"),
    "access checks (application_or_404, current_citizen)": re.compile(r"^(application_or_404|current_citizen) "),
    "CSRF tokens (get_token)": re.compile(r"^get_token \(django/middleware/csrf"),
    "rate-limit counters": re.compile(r"^(rate_limit|_count_hit) \(govserve/web/ratelimit"),
    "multipart parsing": re.compile(r"multipartparser"),
    "database: statements (execute)": re.compile(r"^CursorWrapper\._execute "),
    "database: commit": re.compile(r"^BaseDatabaseWrapper\._commit "),
    "database: connect": re.compile(r"^BaseDatabaseWrapper\.connect "),
    "password hashing (sign-in only)": re.compile(r"argon2"),
}


def _frame_name(frame: str) -> str:
    found = FRAME.match(frame)
    if found is None:
        return frame
    return f"{found['function']} ({found['file']})"


def summarise(raw: str, *, top: int = 40) -> str:
    """Return the report of py-spy's collapsed stacks ``raw`` (one ``frame;frame;... count`` per line)."""
    inclusive: collections.Counter[str] = collections.Counter()
    own: collections.Counter[str] = collections.Counter()
    groups: collections.Counter[str] = collections.Counter()
    total = 0
    for line in raw.splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        frames = [_frame_name(frame) for frame in stack.split(";")]
        # py-spy starts each stack with the process ("process 123:\"...\""): not a function.
        frames = [frame for frame in frames if not frame.startswith("process ")]
        if not frames:
            continue
        total += count
        for name in set(frames):
            inclusive[name] += count
        own[frames[-1]] += count
        for group, pattern in GROUPS.items():
            if any(pattern.search(frame) for frame in frames):
                groups[group] += count
    if not total:
        return "no samples"
    lines = [
        f"{total} busy samples of the workers (100 a second)",
        "",
        "share  inclusive (the function and its callees)",
    ]
    lines += [f"{count / total:6.1%} {name}" for name, count in inclusive.most_common(top)]
    lines += ["", "share  self (the function's own code)"]
    lines += [f"{count / total:6.1%} {name}" for name, count in own.most_common(top)]
    lines += ["", "share  groups (overlapping)"]
    lines += [f"{count / total:6.1%} {name}" for name, count in groups.most_common()]
    outside = total - groups["Django's request handling (WSGIHandler)"]
    layout = groups["templates (Jinja2 render)"] - groups["templates: page content blocks"]
    lines += [
        f"{outside / total:6.1%} outside Django (gunicorn: accept, parse, write, close; worker start)",
        f"{layout / total:6.1%} templates: page layout (GOV.UK template, header, footer; render minus content)",
    ]
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    """Deploy, walk under py-spy, print the report."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.journey.profile")
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--database-url", default="", help="default: a temporary SQLite file")
    parser.add_argument("--raw", type=Path, default=None, help="keep py-spy's collapsed stacks here")
    options = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="gs-bench-journey-profile-") as temporary:
        work = Path(temporary)
        plan = write_for_wrk(work, variants())
        database_url = options.database_url or f"sqlite:///{work / 'profile.sqlite3'}"
        with deployed(database_url=database_url, directory=work / "deployment", clients=options.clients) as deployment:
            citizens = deployment.citizens
            wrk_phase(deployment.server, plan=plan, citizens=citizens, seconds=5)  # warm up
            raw = options.raw or work / "stacks.txt"
            spy_command = [str(Path(sys.executable).parent / "py-spy"), "record", "--subprocesses"]
            spy_command += ["--pid", str(deployment.server.master), "--format", "raw", "--output", str(raw)]
            spy_command += ["--duration", str(options.seconds), "--rate", "100"]
            spy = subprocess.Popen(
                spy_command,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
            )
            phase = wrk_phase(deployment.server, plan=plan, citizens=citizens, seconds=options.seconds)
            _out, errors = spy.communicate(timeout=options.seconds + 60)
            if spy.returncode != 0:
                print(f"py-spy failed ({spy.returncode}): {errors.decode()[-2000:]}", file=sys.stderr)
                return 1
            print(phase.figures())
            print(summarise(raw.read_text(encoding="utf-8")))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
