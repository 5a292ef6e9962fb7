#!/usr/bin/python3
"""pty-run.py: run a command on a new pseudo-terminal and talk to it.

usage: pty-run.py [-t SECONDS] [STEP]... -- COMMAND [ARG]...

The command gets a new session whose controlling terminal is the pty,
so /dev/tty is that pty.  The steps run in order:

  -e TEXT      wait until the command prints TEXT (searching after the
               previous match)
  -s LINE      type LINE and a newline
  -x SHELLCMD  run "sh -c SHELLCMD" with PTY_PID set to the command's
               process id (to look at /proc/$PTY_PID while it waits)

Everything the command wrote to the terminal goes to stdout, CR LF
turned into LF (and to stderr too when it did not exit 0).  The exit status is the command's, 128+N when a signal
N killed it, 124 when a wait ran past -t seconds (default 10; the
command is killed), 125 when the command ended before printing TEXT.
"""

import os
import pty
import select
import signal
import subprocess
import sys
import time


def usage():
    sys.stderr.write(__doc__.split("\n\n")[1] + "\n")
    sys.exit(64)


def parse(argv):
    timeout, steps, i = 10.0, [], 0
    while i < len(argv):
        a = argv[i]
        if a == "--":
            i += 1
            break
        if a not in ("-t", "-e", "-s", "-x") or i + 1 >= len(argv):
            usage()
        if a == "-t":
            timeout = float(argv[i + 1])
        else:
            steps.append((a, argv[i + 1]))
        i += 2
    cmd = argv[i:]
    if not cmd:
        usage()
    return timeout, steps, cmd


class Session:
    def __init__(self, cmd):
        self.out = bytearray()
        self.eof = False
        self.pid, self.fd = pty.fork()
        if self.pid == 0:
            try:
                os.execvp(cmd[0], cmd)
            except OSError as e:
                os.write(2, ("pty-run: %s: %s\n" % (cmd[0], e.strerror)).encode())
            os._exit(127)

    def read_some(self, deadline):
        """Reads what is there, waiting until DEADLINE: False at the end."""
        if self.eof:
            return False
        left = deadline - time.monotonic()
        if left <= 0:
            return True
        r, _, _ = select.select([self.fd], [], [], left)
        if not r:
            return True
        try:
            data = os.read(self.fd, 4096)
        except OSError:         # EIO: the slave side is closed
            data = b""
        if not data:
            self.eof = True
            return False
        self.out += data
        return True

    def finish(self, status, msg=None):
        text = bytes(self.out).replace(b"\r\n", b"\n")
        sys.stdout.buffer.write(text)
        sys.stdout.flush()
        if msg:
            sys.stderr.write("pty-run: %s\n" % msg)
        if status:
            # For the test's diagnostics (and its sanitizer check).
            sys.stderr.write("pty-run: exit %d; the terminal showed:\n" % status)
            sys.stderr.flush()
            sys.stderr.buffer.write(text)
        sys.exit(status)

    def kill(self):
        try:
            os.kill(self.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        os.waitpid(self.pid, 0)


def main():
    timeout, steps, cmd = parse(sys.argv[1:])
    s = Session(cmd)
    pos = 0
    for kind, val in steps:
        if kind == "-e":
            want = val.encode()
            deadline = time.monotonic() + timeout
            while True:
                k = s.out.find(want, pos)
                if k >= 0:
                    pos = k + len(want)
                    break
                if time.monotonic() >= deadline:
                    s.kill()
                    s.finish(124, "timed out waiting for %r" % val)
                if not s.read_some(deadline):
                    s.kill()
                    s.finish(125, "the command ended before printing %r" % val)
        elif kind == "-s":
            os.write(s.fd, val.encode() + b"\n")
        else:
            env = dict(os.environ, PTY_PID=str(s.pid))
            subprocess.run(["sh", "-c", val], env=env)
    deadline = time.monotonic() + timeout
    while s.read_some(deadline):
        if time.monotonic() >= deadline:
            s.kill()
            s.finish(124, "timed out waiting for the command to end")
    _, status = os.waitpid(s.pid, 0)
    os.close(s.fd)
    if os.WIFSIGNALED(status):
        s.finish(128 + os.WTERMSIG(status))
    s.finish(os.WEXITSTATUS(status))


if __name__ == "__main__":
    main()
