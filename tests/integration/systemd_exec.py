# SPDX-License-Identifier: MIT
"""systemd_exec — starts a service unit's ExecStart the way systemd would, where systemd is not
the init system (CI containers, this machine): for tests/integration/test_packages.py.

Why not systemd itself: a test machine without systemd as PID 1 has no manager to ask
(`systemctl start`, `systemd-run` need one), and booting one inside a container is not
possible here. So this module applies the unit's settings itself, as root, with the kernel
facilities systemd uses for them, then executes the daemon:

  - User=, Group= (with the user's supplementary groups), UMask=, WorkingDirectory=,
    Environment=, EnvironmentFile= (a leading "-": optional), StateDirectory= with
    StateDirectoryMode= (created and given to the user, $STATE_DIRECTORY), the environment
    systemd gives a service (PATH, HOME, USER, LOGNAME, SHELL, INVOCATION_ID), and the
    journal: stdout and stderr go to one file and JOURNAL_STREAM names it, as systemd names its
    journal stream (systemd.exec(5)); drop-ins from /etc/systemd/system/<unit>.d/*.conf;
  - a private mount namespace (unshare(1)): ProtectSystem=strict (every mount read-only but
    the state directories), ProtectHome=yes, PrivateTmp=yes, PrivateDevices=yes (a /dev with
    null, zero, full, random, urandom, tty and shm only), ProtectProc=invisible and
    ProcSubset=pid (a new /proc mounted with hidepid=invisible,subset=pid),
    ProtectKernelTunables= and ProtectControlGroups= (/sys read-only);
  - CapabilityBoundingSet= and AmbientCapabilities= (emptied), NoNewPrivileges=;
  - seccomp filters (python3-seccomp, Debian's libseccomp binding), one per setting as systemd
    installs them: SystemCallFilter= (the groups expanded by `systemd-analyze syscall-filter`,
    "~" lists removed, SystemCallErrorNumber= for the rest, or strict=True: kill the process,
    so a test sees any call the unit would refuse), SystemCallArchitectures=native,
    MemoryDenyWriteExecute=, RestrictAddressFamilies=, RestrictNamespaces=,
    RestrictRealtime=, RestrictSUIDSGID=.

The settings below RATED_ONLY are not applied (the daemon's behaviour does not depend on them,
or they concern what happens after it stops); `systemd-analyze security` rates them. A setting
in neither list makes start() fail, so a unit that grows a setting also grows its emulation.

Use:  svc = Service("/lib/systemd/system/x.service"); svc.start("journal.txt"); svc.reload();
      svc.stop() -> exit status.  The child side is `python3 systemd_exec.py --child UNIT`,
      run by start() inside `unshare --mount --propagation private`.
"""

import errno
import glob
import os
import re
import shlex
import signal
import subprocess
import sys
import tempfile

# Debian's python3 has python3-seccomp; another python3 on PATH may not.
SYSTEM_PYTHON = "/usr/bin/python3"

APPLIED = {
    "Type", "ExecStart", "ExecReload", "TimeoutStopSec", "User", "Group", "UMask",
    "WorkingDirectory", "Environment", "EnvironmentFile", "StateDirectory",
    "StateDirectoryMode", "ProtectSystem", "ProtectHome", "PrivateTmp", "PrivateDevices",
    "ProtectProc", "ProcSubset", "ProtectKernelTunables", "ProtectControlGroups",
    "CapabilityBoundingSet", "AmbientCapabilities", "NoNewPrivileges", "SystemCallFilter",
    "SystemCallErrorNumber", "SystemCallArchitectures", "MemoryDenyWriteExecute",
    "RestrictAddressFamilies", "RestrictNamespaces", "RestrictRealtime", "RestrictSUIDSGID",
    "PrivateMounts",
}
RATED_ONLY = {
    "Restart", "RestartPreventExitStatus",  # what happens after an exit
    "PrivateUsers",      # a user namespace mapping root and the service's user only
    "KeyringMode",       # the daemon uses no kernel keyring
    "RemoveIPC",         # clean-up after the service stops
    "DevicePolicy",      # device cgroup; PrivateDevices= already leaves only pseudo devices
    "ProtectClock", "ProtectHostname", "ProtectKernelModules", "ProtectKernelLogs",
    # (their system calls are outside the filter's allow list; their devices are not in /dev)
    "LockPersonality",   # personality(2) is never called
}

PR_SET_NO_NEW_PRIVS = 38
PR_CAPBSET_DROP = 24
PR_CAP_AMBIENT = 47
PR_CAP_AMBIENT_CLEAR_ALL = 4
CLONE_NEW = {"mnt": 0x00020000, "cgroup": 0x02000000, "uts": 0x04000000, "ipc": 0x08000000,
             "user": 0x10000000, "pid": 0x20000000, "net": 0x40000000}
AF = {"AF_UNIX": 1, "AF_INET": 2, "AF_INET6": 10, "AF_NETLINK": 16, "AF_PACKET": 17}
AF_MAX = 46


def parse_unit(path):
    """{section: [(key, value)]} of a unit file and its drop-ins, in order (an empty value
    resets a list setting, as in systemd)."""
    name = os.path.basename(path)
    files = [path] + sorted(glob.glob("/etc/systemd/system/%s.d/*.conf" % name))
    out = {}
    for f in files:
        section = None
        with open(f, encoding="utf-8") as fh:
            for raw in fh:
                line = raw.strip()
                if not line or line[0] in "#;":
                    continue
                m = re.fullmatch(r"\[(\w+)\]", line)
                if m:
                    section = out.setdefault(m.group(1), [])
                    continue
                key, sep, value = line.partition("=")
                if not sep or section is None:
                    raise ValueError("%s: cannot read %r" % (f, line))
                section.append((key.strip(), value.strip()))
    return out


def settings(unit):
    """[Service] as {key: [values]}; an empty assignment clears what came before."""
    s = {}
    for k, v in unit.get("Service", []):
        if v == "" and k not in ("CapabilityBoundingSet", "AmbientCapabilities"):
            s[k] = []
        else:
            s.setdefault(k, []).append(v)
    return s


def last(s, key, default=None):
    return s[key][-1] if s.get(key) else default


def yes(s, key):
    return last(s, key, "no").lower() in ("yes", "true", "1", "on")


# --- the parent side ---------------------------------------------------------------------------

class Service:
    def __init__(self, unit_path, strict=True):
        self.path = unit_path
        self.strict = strict
        self.s = settings(parse_unit(unit_path))
        unknown = set(self.s) - APPLIED - RATED_ONLY
        if unknown:
            raise AssertionError("unit settings systemd_exec.py does not emulate: %s"
                                 % ", ".join(sorted(unknown)))
        self.proc = None

    def start(self, journal_path):
        """Starts the service; its stdout and stderr go to journal_path."""
        self.journal = open(journal_path, "ab")
        argv = ["unshare", "--mount", "--propagation", "private", SYSTEM_PYTHON,
                os.path.abspath(__file__), "--child", self.path]
        if self.strict:
            argv.append("--strict")
        self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=self.journal,
                                     stderr=subprocess.STDOUT)
        return self

    @property
    def main_pid(self):
        return self.proc.pid  # unshare and the child exec in place: the daemon's pid

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def reload(self):
        """ExecReload=, with $MAINPID."""
        for cmd in self.s.get("ExecReload", []):
            argv = [a.replace("$MAINPID", str(self.main_pid)).replace("${MAINPID}",
                                                                      str(self.main_pid))
                    for a in shlex.split(cmd)]
            subprocess.run(argv, check=True, timeout=30)

    def stop(self):
        """SIGTERM (systemctl stop), then SIGKILL after TimeoutStopSec=; the exit status."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(float(last(self.s, "TimeoutStopSec", "90").rstrip("s")))
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                raise AssertionError("the service did not stop within TimeoutStopSec")
        self.journal.close()
        return self.proc.returncode


# --- the child side (root, in its own mount namespace) -------------------------------------------

def _run(*argv):
    subprocess.run(list(argv), check=True)


def _mounts():
    """Mount points, in the order they were mounted (/proc/self/mountinfo)."""
    out = []
    with open("/proc/self/mountinfo") as f:
        for line in f:
            mp = line.split()[4]
            out.append(re.sub(r"\\(\d{3})", lambda m: chr(int(m.group(1), 8)), mp))
    return out


def _under(path, top):
    return path == top or path.startswith(top.rstrip("/") + "/")


def _mount_namespace(s, state_dirs):
    for d in state_dirs:  # stays writable under ProtectSystem=strict
        _run("mount", "--bind", d, d)
    if yes(s, "PrivateDevices"):
        _private_dev()
    pseudo = ["/proc", "/dev"]
    if not (yes(s, "ProtectKernelTunables") or yes(s, "ProtectControlGroups")):
        pseudo.append("/sys")
    if last(s, "ProtectSystem") == "strict":
        for mp in _mounts():
            if any(_under(mp, p) for p in pseudo) or mp in state_dirs:
                continue
            subprocess.run(["mount", "-o", "remount,bind,ro", mp], check=False,
                           stderr=subprocess.DEVNULL)  # a mount hidden below another fails
    elif last(s, "ProtectSystem"):
        raise AssertionError("ProtectSystem=%s is not emulated" % last(s, "ProtectSystem"))
    if yes(s, "ProtectHome"):
        for d in ("/home", "/root", "/run/user"):
            if os.path.isdir(d):
                _run("mount", "-t", "tmpfs", "-o", "ro,mode=000", "tmpfs", d)
    if yes(s, "PrivateTmp"):
        for d in ("/tmp", "/var/tmp"):
            _run("mount", "-t", "tmpfs", "-o", "mode=1777,nosuid,nodev", "tmpfs", d)
    if last(s, "ProtectProc") or last(s, "ProcSubset"):
        opts = []
        if last(s, "ProtectProc"):
            opts.append("hidepid=" + last(s, "ProtectProc"))
        if last(s, "ProcSubset"):
            opts.append("subset=" + last(s, "ProcSubset"))
        _run("mount", "-t", "proc", "-o", ",".join(opts + ["nosuid", "nodev", "noexec"]),
             "proc", "/proc")


def _private_dev():
    """A /dev of pseudo devices: a tmpfs prepared beside it, the host's nodes bound in, then
    moved over /dev."""
    stage = tempfile.mkdtemp(prefix="systemd-exec-dev-")
    _run("mount", "-t", "tmpfs", "-o", "mode=755,nosuid,noexec", "tmpfs", stage)
    for n in ("null", "zero", "full", "random", "urandom", "tty"):
        open(os.path.join(stage, n), "w").close()
        _run("mount", "--bind", "/dev/" + n, os.path.join(stage, n))
    os.mkdir(os.path.join(stage, "shm"), 0o1777)
    _run("mount", "-t", "tmpfs", "-o", "mode=1777,nosuid,nodev", "tmpfs",
         os.path.join(stage, "shm"))
    for name, target in (("fd", "/proc/self/fd"), ("stdin", "/proc/self/fd/0"),
                         ("stdout", "/proc/self/fd/1"), ("stderr", "/proc/self/fd/2")):
        os.symlink(target, os.path.join(stage, name))
    _run("mount", "--move", stage, "/dev")
    os.rmdir(stage)  # empty again, on the host's file system
    _run("mount", "-o", "remount,bind,ro", "/dev")


def _expand_groups():
    """{"@group": {syscalls}} from `systemd-analyze syscall-filter`, nested groups expanded."""
    text = subprocess.run(["systemd-analyze", "syscall-filter"], check=True,
                          capture_output=True, text=True).stdout
    raw, cur = {}, None
    for line in text.splitlines():
        if re.fullmatch(r"@[\w-]+", line):
            cur = raw.setdefault(line, [])
        elif line.startswith(" ") and cur is not None and line.strip()[:1] not in ("#", ""):
            cur.append(line.strip())
        elif line.strip() and not line.startswith(" "):
            cur = None

    def expand(name):
        out = set()
        for m in raw[name]:
            out |= expand(m) if m.startswith("@") else {m}
        return out

    return {g: expand(g) for g in raw}


def _syscall_names(words, groups):
    out = set()
    for w in words:
        out |= groups[w] if w.startswith("@") else {w}
    return out


def _seccomp(s, strict):
    import seccomp  # python3-seccomp

    filters = []
    if s.get("SystemCallFilter"):
        groups = _expand_groups()
        allowed = None
        for v in s["SystemCallFilter"]:
            deny = v.startswith("~")
            names = _syscall_names(v.lstrip("~").split(), groups)
            if allowed is None:
                if deny:
                    raise AssertionError("a deny-list-first SystemCallFilter= is not emulated")
                allowed = set()
            allowed = allowed - names if deny else allowed | names
        errno_name = last(s, "SystemCallErrorNumber")
        default = (seccomp.KILL_PROCESS if strict or not errno_name
                   else seccomp.ERRNO(getattr(errno, errno_name)))
        f = seccomp.SyscallFilter(default)
        if last(s, "SystemCallArchitectures", "native") != "native":
            raise AssertionError("SystemCallArchitectures= other than native is not emulated")
        for name in sorted(allowed):
            try:
                f.add_rule(seccomp.ALLOW, name)
            except (ValueError, RuntimeError, OSError):
                pass  # a system call this architecture does not have
        filters.append(f)

    EPERM = seccomp.ERRNO(errno.EPERM)
    if yes(s, "MemoryDenyWriteExecute"):
        f = seccomp.SyscallFilter(seccomp.ALLOW)
        wx = 0x2 | 0x4  # PROT_WRITE | PROT_EXEC
        f.add_rule(EPERM, "mmap", seccomp.Arg(2, seccomp.MASKED_EQ, wx, wx))
        f.add_rule(EPERM, "mprotect", seccomp.Arg(2, seccomp.MASKED_EQ, 0x4, 0x4))
        f.add_rule(EPERM, "pkey_mprotect", seccomp.Arg(2, seccomp.MASKED_EQ, 0x4, 0x4))
        f.add_rule(EPERM, "shmat", seccomp.Arg(2, seccomp.MASKED_EQ, 0o100000, 0o100000))
        filters.append(f)
    if s.get("RestrictAddressFamilies"):
        keep = {AF[w] for v in s["RestrictAddressFamilies"] for w in v.split()}
        f = seccomp.SyscallFilter(seccomp.ALLOW)
        nosupport = seccomp.ERRNO(errno.EAFNOSUPPORT)
        for fam in range(AF_MAX):
            if fam not in keep:
                f.add_rule(nosupport, "socket", seccomp.Arg(0, seccomp.EQ, fam))
        f.add_rule(nosupport, "socket", seccomp.Arg(0, seccomp.GE, AF_MAX))
        filters.append(f)
    if yes(s, "RestrictNamespaces"):
        f = seccomp.SyscallFilter(seccomp.ALLOW)
        f.add_rule(EPERM, "unshare")
        f.add_rule(EPERM, "setns")
        for flag in CLONE_NEW.values():
            f.add_rule(EPERM, "clone", seccomp.Arg(0, seccomp.MASKED_EQ, flag, flag))
        f.add_rule(seccomp.ERRNO(errno.ENOSYS), "clone3")  # glibc falls back to clone
        filters.append(f)
    if yes(s, "RestrictRealtime"):
        f = seccomp.SyscallFilter(seccomp.ALLOW)
        for policy in (1, 2, 6):  # SCHED_FIFO, SCHED_RR, SCHED_DEADLINE
            f.add_rule(EPERM, "sched_setscheduler",
                       seccomp.Arg(1, seccomp.MASKED_EQ, 0x3FFFFFFF, policy))
        filters.append(f)
    if yes(s, "RestrictSUIDSGID"):
        f = seccomp.SyscallFilter(seccomp.ALLOW)
        for bit in (0o4000, 0o2000):
            f.add_rule(EPERM, "chmod", seccomp.Arg(1, seccomp.MASKED_EQ, bit, bit))
            f.add_rule(EPERM, "fchmod", seccomp.Arg(1, seccomp.MASKED_EQ, bit, bit))
            f.add_rule(EPERM, "fchmodat", seccomp.Arg(2, seccomp.MASKED_EQ, bit, bit))
        filters.append(f)
    return filters


def _environment(s, pw, state_dirs):
    env = {"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
           "HOME": pw.pw_dir, "USER": pw.pw_name, "LOGNAME": pw.pw_name,
           "SHELL": pw.pw_shell, "INVOCATION_ID": os.urandom(16).hex()}
    st = os.fstat(1)
    env["JOURNAL_STREAM"] = "%d:%d" % (st.st_dev, st.st_ino)
    if state_dirs:
        env["STATE_DIRECTORY"] = ":".join(state_dirs)
    for v in s.get("EnvironmentFile", []):
        path = v[1:] if v.startswith("-") else v
        if not os.path.exists(path) and v.startswith("-"):
            continue
        with open(path, encoding="utf-8") as f:
            for line in f:
                line = line.strip()
                if line and not line.startswith("#") and "=" in line:
                    k, _, val = line.partition("=")
                    env[k.strip()] = val.strip().strip('"')
    for v in s.get("Environment", []):
        for word in shlex.split(v):
            k, _, val = word.partition("=")
            env[k] = val
    return env


def child(unit_path, strict):
    import ctypes
    import grp
    import pwd

    s = settings(parse_unit(unit_path))
    libc = ctypes.CDLL(None, use_errno=True)
    pw = pwd.getpwnam(last(s, "User", "root"))
    gid = grp.getgrnam(last(s, "Group")).gr_gid if last(s, "Group") else pw.pw_gid
    mode = int(last(s, "StateDirectoryMode", "0755"), 8)
    state_dirs = []
    for v in s.get("StateDirectory", []):
        for name in v.split():
            d = os.path.join("/var/lib", name)
            os.makedirs(d, exist_ok=True)
            os.chown(d, pw.pw_uid, gid)
            os.chmod(d, mode)
            state_dirs.append(d)
    with open("/proc/sys/kernel/cap_last_cap") as f:
        cap_last = int(f.read())
    env = _environment(s, pw, state_dirs)
    _mount_namespace(s, state_dirs)

    argv = shlex.split(last(s, "ExecStart"))
    if argv[0][0] in "-@+!:":
        raise AssertionError("ExecStart= prefixes are not emulated")
    os.chdir(last(s, "WorkingDirectory", "/"))
    os.umask(int(last(s, "UMask", "0022"), 8))
    if s.get("CapabilityBoundingSet") == [""]:
        for cap in range(cap_last + 1):
            libc.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0)
    elif s.get("CapabilityBoundingSet"):
        raise AssertionError("only an empty CapabilityBoundingSet= is emulated")
    if s.get("AmbientCapabilities") not in (None, [""]):
        raise AssertionError("only an empty AmbientCapabilities= is emulated")
    libc.prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0)
    os.initgroups(pw.pw_name, gid)
    os.setresgid(gid, gid, gid)
    os.setresuid(pw.pw_uid, pw.pw_uid, pw.pw_uid)
    if yes(s, "NoNewPrivileges") or s.get("SystemCallFilter"):
        if libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "PR_SET_NO_NEW_PRIVS")
    for f in reversed(_seccomp(s, strict)):  # the allow list last: seccomp(2) is not on it
        f.load()
    os.execve(argv[0], argv, env)


if __name__ == "__main__":
    if len(sys.argv) < 3 or sys.argv[1] != "--child":
        sys.exit("usage: systemd_exec.py --child UNIT [--strict] (see the module's comment)")
    child(sys.argv[2], "--strict" in sys.argv[3:])
