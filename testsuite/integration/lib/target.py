# Where the server and its inferiors run: this machine, or a QEMU guest
# (ITEST_GUEST=HOST:PORT of csg-agent, ITEST_GUEST_PORTS=HOSTBASE:GUESTBASE:N,
# set by testsuite/qemu/run-integration.sh). Tests look at processes only
# through TARGET so the same assertions hold in both places.
import os
import signal
import struct
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.abspath(os.path.join(HERE, "..", "..", ".."))
GUEST_PY = os.path.join(TOP, "testsuite", "qemu", "guest.py")

ELF_MACHINES = {62: "x86_64", 183: "aarch64", 40: "arm"}


def elf_arch(path):
    """x86_64 / aarch64 / arm from the ELF header of PATH ('' if unknown)."""
    try:
        with open(path, "rb") as f:
            head = f.read(20)
        return ELF_MACHINES.get(struct.unpack_from("<H", head, 18)[0], "")
    except (OSError, struct.error):
        return ""


class Local:
    remote = False
    client_addr = "127.0.0.1"     # where the server sees gdb come from

    def read(self, path):
        with open(path, "rb") as f:
            return f.read()

    def read_text(self, path):
        return self.read(path).decode("utf-8", "replace")

    def readlink(self, path):
        return os.readlink(path)

    def listdir(self, path):
        return os.listdir(path)

    def exists(self, path):
        return os.path.lexists(path)

    def kill(self, pid, sig):
        os.kill(pid, sig)

    def run(self, argv, timeout=30):
        return subprocess.run(argv, capture_output=True, text=True,
                              timeout=timeout, stdin=subprocess.DEVNULL)

    def host_port(self, port):
        return port

    def pipe_command(self, argv):
        """Shell words for `target remote | ...` running ARGV."""
        return " ".join(argv)


class Guest(Local):
    remote = True
    client_addr = "10.0.2.2"      # QEMU user networking's host side

    def __init__(self, addr, ports):
        sys.path.insert(0, os.path.dirname(GUEST_PY))
        import guest
        self.g = guest.Guest(addr)
        self.addr = addr
        hbase, gbase, count = (int(x) for x in ports.split(":"))
        self.hbase, self.gbase, self.count = hbase, gbase, count

    def read(self, path):
        return self.g.read(path)

    def readlink(self, path):
        return self.g.readlink(path)

    def listdir(self, path):
        return self.g.listdir(path)

    def exists(self, path):
        return self.g.exists(path)

    def kill(self, pid, sig):
        self.g.kill(pid, sig)

    def run(self, argv, timeout=30):
        return self.g.run(argv, timeout=timeout)

    def spawn(self, argv, **kw):
        return self.g.spawn(argv, **kw)

    def guest_ports(self):
        return [self.gbase + i for i in range(self.count)]

    def host_port(self, port):
        """Host port QEMU forwards to guest PORT (None if not forwarded)."""
        if self.gbase <= port < self.gbase + self.count:
            return self.hbase + port - self.gbase
        return None

    def pipe_command(self, argv):
        return " ".join([sys.executable, GUEST_PY, "-a", self.addr, "exec",
                         "--"] + list(argv))


def get():
    addr = os.environ.get("ITEST_GUEST")
    if addr:
        return Guest(addr, os.environ["ITEST_GUEST_PORTS"])
    return Local()


TARGET = get()
SIGKILL = signal.SIGKILL
