// The warm checkov worker's Python side (src/policy/scanners/checkov-worker.ts starts it inside bubblewrap).
// Most of a checkov run is Python start-up and imports (several CPU-seconds); this imports checkov once and forks a
// child per scan, so a scan costs only the scan. Protocol: one JSON line per request on stdin
// ({id, files: [{path, data (base64), exec?}], args, report}), one JSON line per answer on stdout
// ({id, exit, report, log}); the first line out is {ready, version}. Files live under /tmp/scan (the sandbox's own
// tmpfs) for one request only: /tmp and HOME are emptied before and after each scan, so one run's files never meet
// another's, and the fork keeps one scan's Python state from reaching the next.
export const CHECKOV_WORKER_PY = String.raw`# infra-agent's warm checkov worker. Runs inside bubblewrap (no network, nothing of the host but the toolchain):
# checkov is imported once; each request (one JSON line on stdin: the files to scan, base64, and checkov's argv)
# is written under /tmp/scan, scanned by a forked child (so no scan's state reaches the next), answered as one JSON
# line on stdout, and /tmp is emptied before the next request: one scan's files never meet another's.
import base64, json, os, shutil, sys, traceback, warnings

warnings.simplefilter("ignore")
from checkov.main import Checkov  # noqa: E402
import checkov.terraform.runner  # noqa: E402,F401
import checkov.terraform.plan_runner  # noqa: E402,F401
import checkov.secrets.runner  # noqa: E402,F401

SCAN = "/tmp/scan"
out = os.fdopen(os.dup(1), "w", buffering=1)
os.dup2(2, 1)  # whatever checkov prints goes to stderr, never into the protocol


HERE = os.path.dirname(os.path.abspath(__file__))  # this script's read-only dir (bound under /tmp)


def wipe():
    for top in ("/tmp", os.environ.get("HOME", "/tmp")):
        for name in os.listdir(top):
            p = os.path.join(top, name)
            if p == HERE:
                continue
            if os.path.isdir(p) and not os.path.islink(p):
                shutil.rmtree(p, ignore_errors=True)
            else:
                try:
                    os.unlink(p)
                except OSError:
                    pass


def safe_rel(rel):
    parts = rel.split("/")
    if rel.startswith("/") or any(p in ("", ".", "..") for p in parts):
        raise ValueError("bad path in request: %r" % rel)
    return rel


def scan(req):
    wipe()
    os.makedirs(SCAN, mode=0o700)
    for f in req["files"]:
        path = os.path.join(SCAN, safe_rel(f["path"]))
        os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o700 if f.get("exec") else 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(base64.b64decode(f["data"]))
    log = os.path.join("/tmp", "scan.log")
    pid = os.fork()
    if pid == 0:
        code = 70
        try:
            fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            os.dup2(fd, 1)
            os.dup2(fd, 2)
            os.chdir(SCAN)
            code = Checkov(argv=req["args"]).run() or 0
        except SystemExit as e:
            code = e.code if isinstance(e.code, int) else 1
        except BaseException:
            traceback.print_exc()
            code = 70
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    code = os.waitstatus_to_exitcode(status)
    report = None
    try:
        with open(os.path.join(SCAN, req["report"]), "r", encoding="utf-8") as fh:
            report = fh.read()
    except OSError:
        pass
    tail = ""
    try:
        with open(log, "rb") as fh:
            fh.seek(0, 2)
            size = fh.tell()
            fh.seek(max(0, size - 4000))
            tail = fh.read().decode("utf-8", "replace")
    except OSError:
        pass
    wipe()
    return {"id": req["id"], "exit": code, "report": report, "log": tail}


from checkov.version import version  # noqa: E402

out.write(json.dumps({"ready": True, "version": version}) + "\n")
for line in sys.stdin:
    line = line.strip()
    if not line:
        continue
    req = None
    try:
        req = json.loads(line)
        res = scan(req)
    except BaseException as e:  # a bad request is answered, never kills the worker
        wipe()
        res = {"id": req.get("id") if isinstance(req, dict) else None, "exit": 71, "report": None, "log": repr(e)}
    out.write(json.dumps(res) + "\n")
`;
