"""Runs a command as the child of a subreaper that never reaps orphans.

    python3 lazyreaper.py COMMAND [ARGS...]

moor-shim daemonizes, so its parent becomes the nearest subreaper (usually
PID 1). This process becomes that subreaper and leaves the orphans it gets
as zombies until it ends, like an init that reaps late: a daemon must not
wait for its shims to be reaped. SIGTERM and SIGINT are passed to the
command; this process exits with the command's status as soon as the
command ends (the zombies it held go to PID 1 then).
"""

import ctypes
import os
import signal
import sys

PR_SET_CHILD_SUBREAPER = 36


def main(argv):
    if ctypes.CDLL(None, use_errno=True).prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
        sys.exit(f"lazyreaper: prctl(PR_SET_CHILD_SUBREAPER): {os.strerror(ctypes.get_errno())}")
    child = os.fork()
    if child == 0:
        os.execvp(argv[0], argv)
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda number, _frame: os.kill(child, number))
    while True:
        try:
            _, status = os.waitpid(child, 0)  # this child only: orphans stay zombies
        except InterruptedError:
            continue
        sys.exit(os.waitstatus_to_exitcode(status) if os.WIFEXITED(status) else 128 + os.WTERMSIG(status))


if __name__ == "__main__":
    main(sys.argv[1:])
