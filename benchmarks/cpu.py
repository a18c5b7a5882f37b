"""CPU time used by process trees (Linux ``/proc``), to say where a load test's cores went.

A tree's time is its root's own and reaped children's time plus every live descendant's (their own and
reaped): PostgreSQL's backends, forked per connection, count towards the postmaster either way. ``/proc`` is read
one process after another, not at one instant: a process reaped between the reading of its parent and its own is
missed by that reading, and one orphaned to init leaves its tree. Both are a few milliseconds against a load
test's tens of seconds.
"""

import os
from pathlib import Path

TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def parse_stat(text):
    """``(ppid, seconds)`` from a ``/proc/<pid>/stat`` line: utime + stime + cutime + cstime (fields 14-17)."""
    # The command name (field 2) may hold spaces and parentheses: split after its last ")", from field 3 on.
    fields = text[text.rindex(")") + 2 :].split()
    ppid = int(fields[1])
    seconds = sum(int(value) for value in fields[11:15]) / TICKS
    return ppid, seconds


def _stat(pid):
    """``(ppid, seconds)`` of one process, or None if it is gone."""
    try:
        return parse_stat(Path(f"/proc/{pid}/stat").read_text())
    except OSError:
        return None


def tree_seconds(roots):
    """``{name: CPU seconds}`` of each named root pid's process tree, as of now."""
    processes = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            stat = _stat(entry.name)
            if stat:
                processes[int(entry.name)] = stat
    children = {}
    for pid, (ppid, _seconds) in processes.items():
        children.setdefault(ppid, []).append(pid)
    totals = {}
    for name, root in roots.items():
        total, pending = 0.0, [root]
        while pending:
            pid = pending.pop()
            if pid in processes:
                total += processes[pid][1]
                pending.extend(children.get(pid, ()))
        totals[name] = total
    return totals


def spent(before, after):
    """CPU seconds per name between two ``tree_seconds`` readings."""
    return {name: round(after[name] - before.get(name, 0.0), 1) for name in after}


#: The columns of ``/proc/stat``'s first line, in order (``man 5 proc``).
MACHINE_COLUMNS = ("user", "nice", "system", "idle", "iowait", "irq", "softirq", "steal")


def machine_seconds():
    """The machine's CPU seconds so far, over all cores, by state (``user``, ``idle``, ``steal``...)."""
    values = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
    return {name: int(value) / TICKS for name, value in zip(MACHINE_COLUMNS, values, strict=False)}
