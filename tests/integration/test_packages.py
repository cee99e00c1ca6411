# SPDX-License-Identifier: MIT
"""The Debian packages, end to end: packaging/build-debs.sh builds openclaw and
openclaw-gateway from the build under test; `systemd-analyze security` rates the packaged unit;
dpkg installs both (system user, configuration modes, unit enabled); the unit is started the
way systemd would start it, confined by every setting it declares (systemd_exec.py: systemd is
not PID 1 on a CI machine, so its settings are applied with the same kernel facilities);
`openclaw status` from the package answers against it with the bootstrap token the service
wrote to its state directory (not to the journal); a provider added to /etc/openclaw/gateway.yaml
is taken by the unit's ExecReload and answers a chat (outbound connections under the filters);
SIGTERM stops it cleanly; `dpkg --purge` removes the programs, the configuration, the state and
the user.

The test installs packages system-wide, so it needs root (or `sudo -n`), holds a lock so that
two runs never overlap, refuses to touch a machine where the packages are already installed,
and purges what it installed whatever happens.
"""

import fcntl
import glob
import os
import re
import subprocess
import time

import gwtest
import systemd_exec
from mock_llm import MockLLM

BUILD_DEBS = os.path.join(gwtest.SOURCE_DIR, "packaging", "build-debs.sh")
UNIT = "/lib/systemd/system/openclaw-gateway.service"
CONFIG = "/etc/openclaw/gateway.yaml"
STATE = "/var/lib/openclaw"
PACKAGES = ["openclaw", "openclaw-gateway"]
MAX_EXPOSURE = 1.5  # systemd-analyze security: 0 (locked down) .. 10 (nothing restricted)
LOCK = "/run/lock/openclaw-package-test.lock"


def sudo(argv, **kw):
    """Runs argv as root (directly, or through `sudo -n`)."""
    if os.geteuid() != 0:
        argv = ["sudo", "-n"] + argv
    kw.setdefault("capture_output", True)
    kw.setdefault("text", True)
    kw.setdefault("timeout", 120)
    return subprocess.run(argv, **kw)


def must(argv, **kw):
    r = sudo(argv, **kw)
    assert r.returncode == 0, "%s: exit %d\n%s%s" % (" ".join(argv), r.returncode, r.stdout,
                                                     r.stderr)
    return r.stdout


def installed(pkg):
    r = subprocess.run(["dpkg-query", "-W", "-f=${Status}", pkg], capture_output=True,
                       text=True)
    return r.returncode == 0 and r.stdout.strip() != "" and "not-installed" not in r.stdout


def left_over_by_a_test(pkg):
    """A package this test built (the placeholder maintainer address build-debs.sh uses when
    DEBEMAIL is unset) that a run stopped before its purge left behind: the machine's copy of a
    real release carries a real address and is never touched."""
    r = subprocess.run(["dpkg-query", "-W", "-f=${Maintainer}", pkg], capture_output=True,
                       text=True)
    return r.returncode == 0 and "@openclaw.invalid>" in r.stdout


def cli(*args, token=None, port=None, stdin=None):
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPENCLAW_")}
    env.update(HOME=gwtest.tempdir("gwpkg-home-"))
    if port:
        env["OPENCLAW_GATEWAY_URL"] = "http://127.0.0.1:%d" % port
    if token:
        env["OPENCLAW_TOKEN"] = token
    return subprocess.run(["/usr/bin/openclaw"] + list(args), env=env, input=stdin,
                          capture_output=True, text=True, timeout=60)


def proc_status(pid):
    with open("/proc/%d/status" % pid) as f:
        return dict(line.rstrip("\n").split(":\t", 1) for line in f if ":\t" in line)


def test_packages_build_install_start_status_purge():
    assert os.geteuid() == 0 or subprocess.run(["sudo", "-n", "true"]).returncode == 0, (
        "installing packages needs root or password-less sudo")
    lock = open(LOCK, "w")
    fcntl.flock(lock, fcntl.LOCK_EX)
    for pkg in PACKAGES:
        if installed(pkg) and left_over_by_a_test(pkg):
            must(["dpkg", "--purge"] + PACKAGES)
        assert not installed(pkg), ("%s is installed on this machine; this test installs and "
                                    "purges it: dpkg --purge openclaw-gateway openclaw" % pkg)
    out = gwtest.tempdir("gwpkg-")
    mock = MockLLM().start()
    svc = None
    try:
        # --- build ---------------------------------------------------------------------------
        r = subprocess.run([BUILD_DEBS, "--build-dir", gwtest.BUILD_DIR, "--out", out],
                           capture_output=True, text=True, timeout=600)
        assert r.returncode == 0, "build-debs.sh: %s %s" % (r.stdout, r.stderr)
        debs = {os.path.basename(d).split("_")[0]: d for d in glob.glob(out + "/*.deb")}
        assert sorted(debs) == PACKAGES, debs
        cli_deb, gw_deb = debs["openclaw"], debs["openclaw-gateway"]
        files = {}
        for deb in debs.values():
            listing = subprocess.run(["dpkg-deb", "-c", deb], capture_output=True, text=True,
                                     check=True).stdout
            files[deb] = {line.split()[-1].lstrip(".") for line in listing.splitlines()}
        for f in ("/usr/bin/openclaw", "/usr/share/man/man1/openclaw.1.gz",
                  "/usr/share/bash-completion/completions/openclaw"):
            assert f in files[cli_deb], "openclaw lacks %s" % f
        for f in ("/usr/bin/openclaw-gateway", "/usr/share/man/man8/openclaw-gateway.8.gz",
                  UNIT, CONFIG, "/usr/share/doc/openclaw-gateway/examples/gateway.example.yaml"):
            assert f in files[gw_deb], "openclaw-gateway lacks %s" % f
        conffiles = subprocess.run(["dpkg-deb", "-I", gw_deb, "conffiles"], capture_output=True,
                                   text=True, check=True).stdout.split()
        assert conffiles == [CONFIG], "conffiles: %r" % conffiles
        depends = subprocess.run(["dpkg-deb", "-f", gw_deb, "Depends"], capture_output=True,
                                 text=True, check=True).stdout
        for lib in ("libmicrohttpd12", "libsqlite3-0", "libssl3", "adduser"):
            assert lib in depends, "Depends lacks %s: %s" % (lib, depends)

        # --- the unit, rated before it is installed ------------------------------------------
        unit_dir = gwtest.tempdir("gwpkg-unit-")
        subprocess.run(["dpkg-deb", "-x", gw_deb, unit_dir], check=True)
        unit_copy = os.path.join(unit_dir, UNIT.lstrip("/"))
        r = subprocess.run(["systemd-analyze", "security", "--offline=true", unit_copy],
                           capture_output=True, text=True, timeout=60)
        m = re.search(r"Overall exposure level for \S+: (\d+\.\d+)", r.stdout)
        assert m, "systemd-analyze security: %s %s" % (r.stdout[-500:], r.stderr)
        assert float(m.group(1)) <= MAX_EXPOSURE, "exposure %s > %s:\n%s" % (
            m.group(1), MAX_EXPOSURE, "\n".join(x for x in r.stdout.splitlines() if "✗" in x))

        # --- install -------------------------------------------------------------------------
        must(["dpkg", "-i", cli_deb, gw_deb])
        pw = must(["getent", "passwd", "openclaw"]).split(":")
        assert int(pw[2]) < 1000 and pw[6].strip().endswith("nologin"), "user: %r" % pw
        st = os.stat("/etc/openclaw")
        assert oct(st.st_mode & 0o777) == "0o750" and st.st_uid == 0, oct(st.st_mode)
        assert oct(os.stat(CONFIG).st_mode & 0o777) == "0o640", oct(os.stat(CONFIG).st_mode)
        assert os.path.islink("/etc/systemd/system/multi-user.target.wants/"
                              "openclaw-gateway.service"), "postinst did not enable the unit"
        assert cli("--version").stdout.strip() == "openclaw " + r_version(gw_deb)

        # --- start it as systemd would, on a free port (set as an operator would) ------------
        port = gwtest.free_port()
        with open(CONFIG) as f:
            conf = f.read()
        assert re.search(r"^  port: 8080", conf, re.M), conf
        write_root(CONFIG, re.sub(r"^  port: 8080", "  port: %d" % port, conf, flags=re.M))
        sanitizer_dropin(gw_deb)
        journal = os.path.join(out, "journal.txt")
        svc = systemd_exec.Service(UNIT).start(journal)
        gwtest.wait_until(lambda: ready(port) or not svc.running(), timeout=30,
                          what="the service ready")
        assert svc.running(), "the service exited: %s" % read(journal)[-3000:]
        confined(svc.main_pid)
        gwtest.wait_until(lambda: "Next step" in read(journal), timeout=5, what="the banner")
        log = read(journal)
        assert "Bootstrap admin token written to %s/bootstrap-token" % STATE in log, log
        token_file = os.path.join(STATE, "bootstrap-token")
        st = os.stat(token_file)
        assert oct(st.st_mode & 0o777) == "0o600" and st.st_uid == int(pw[2]), oct(st.st_mode)
        token = must(["cat", token_file]).strip()
        assert token.startswith("ocw_") and token not in log, "the token reached the journal"

        # --- the installed CLI against the service -------------------------------------------
        r = cli("status", token=token, port=port)
        assert r.returncode == 0 and re.search(r"^Status:\s+Connected$", r.stdout, re.M), r
        assert re.search(r"^Role:\s+enterprise_admin$", r.stdout, re.M), r.stdout

        # --- a provider, taken by ExecReload; a chat through it ------------------------------
        write_root(CONFIG, read(CONFIG) + (
            "models:\n  providers:\n    - name: local\n      api: openai\n"
            "      base_url: %s/v1\n      kind: self_hosted\n      models:\n"
            "        - name: llama\nagents:\n  - name: ops/assistant\n    model: local/llama\n"
            % mock.url))
        svc.reload()
        gwtest.wait_until(lambda: "reload: configuration applied" in read(journal), timeout=10,
                          what="the reload in the journal")
        r = cli("chat", "ops/assistant", token=token, port=port, stdin="hello package\n")
        assert r.returncode == 0 and "echo: hello package" in r.stdout, r
        r = cli("audit", "verify", token=token, port=port)
        assert r.returncode == 0 and re.search(r"Audit chain:\s+OK", r.stdout), r

        # --- stop ----------------------------------------------------------------------------
        rc = svc.stop()
        assert rc == 0, "the service exited %s on SIGTERM: %s" % (rc, read(journal)[-3000:])
        assert token not in read(journal), "the token reached the journal"
        svc = None

        # --- purge ---------------------------------------------------------------------------
        must(["dpkg", "--purge", "openclaw-gateway", "openclaw"])
        for path in ("/usr/bin/openclaw", "/usr/bin/openclaw-gateway", UNIT, "/etc/openclaw",
                     STATE, "/etc/systemd/system/multi-user.target.wants/"
                     "openclaw-gateway.service"):
            assert not os.path.lexists(path), "left after the purge: %s" % path
        assert sudo(["getent", "passwd", "openclaw"]).returncode != 0, "the user is left"
    finally:
        if svc is not None and svc.running():
            svc.proc.kill()
            svc.proc.wait()
        sudo(["rm", "-rf", "/etc/systemd/system/openclaw-gateway.service.d"])
        if any(installed(p) for p in PACKAGES):
            sudo(["dpkg", "--purge", "openclaw-gateway", "openclaw"])
        mock.stop()
        lock.close()


def r_version(deb):
    return subprocess.run(["dpkg-deb", "-f", deb, "Version"], capture_output=True, text=True,
                          check=True).stdout.strip()


def read(path):
    with open(path, encoding="utf-8", errors="replace") as f:
        return f.read()


def write_root(path, text):
    """Rewrites a root-owned file in place (owner and mode kept), as an editor run by root."""
    sudo(["tee", path], input=text, check=True)


def ready(port):
    try:
        return gwtest.http_request(port, "GET", "/readyz", timeout=2).status == 200
    except OSError:
        return False


def sanitizer_dropin(deb):
    """A sanitizer build needs two things the unit forbids, by a drop-in as an operator would
    write one: LeakSanitizer stops threads with ptrace(2) at exit, and ASan lowers RLIMIT_CORE
    with setrlimit(2); both are outside the system-call filter."""
    r = subprocess.run(["dpkg-deb", "-f", deb, "Depends"], capture_output=True, text=True)
    if "libasan" not in r.stdout:
        return
    must(["mkdir", "-p", "/etc/systemd/system/openclaw-gateway.service.d"])
    sudo(["tee", "/etc/systemd/system/openclaw-gateway.service.d/sanitizer.conf"],
         input="[Service]\nEnvironment=ASAN_OPTIONS=detect_leaks=0:disable_coredump=0\n",
         check=True)


def confined(pid):
    """The daemon really runs under the unit's limits (the emulation, checked)."""
    st = proc_status(pid)
    uid = int(st["Uid"].split()[0])
    assert uid == int(must(["id", "-u", "openclaw"])), "runs as uid %d" % uid
    assert st["NoNewPrivs"].strip() == "1", st["NoNewPrivs"]
    assert st["Seccomp"].strip() == "2" and int(st["Seccomp_filters"]) >= 5, st["Seccomp"]
    for k in ("CapBnd", "CapEff", "CapPrm", "CapAmb"):
        assert int(st[k], 16) == 0, "%s %s" % (k, st[k])
    with open("/proc/%d/mountinfo" % pid) as f:
        mounts = {line.split()[4]: line.split()[5] for line in f}
    assert "ro" in mounts["/"].split(","), "/ is writable for the service"
    assert "rw" in mounts[STATE].split(","), "the state directory is read-only"


gwtest.main(globals())
