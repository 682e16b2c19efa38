"""A throwaway Kubernetes control plane (etcd + kube-apiserver) for cluster tests.

Both binaries are built by ``scripts/envtest.sh`` into a cache folder. ``ControlPlane``
starts them on free loopback ports in a temp dir with freshly generated certificates:

* a CA that signs the API server's serving cert (127.0.0.1 / localhost) and the
  admin client cert (CN=admin, O=system:masters);
* a service-account signing key (so the TokenRequest API works:
  ``kubectl create token``);
* a static token file with an admin token as well (``admin_token``).

There is no controller-manager or scheduler: Pods never run, but every API object can
be created, and RBAC, admission, CRD validation and the TokenRequest API are real.
"""

from __future__ import annotations

import base64
import contextlib
import datetime
import ipaddress
import json
import os
import secrets
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import yaml
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

REPO_ROOT = Path(__file__).resolve().parents[2]
ENVTEST_SCRIPT = REPO_ROOT / "scripts" / "envtest.sh"


class ControlPlaneError(RuntimeError):
    """The control plane could not be built or started; the message says why."""


# ----------------------------------------------------------------------------- binaries


def envtest_bin_dir() -> Path:
    """The folder scripts/envtest.sh builds into (honours ENVTEST_BIN_DIR)."""
    out = subprocess.run(
        ["bash", str(ENVTEST_SCRIPT), "--print"], capture_output=True, text=True, check=True
    )
    return Path(out.stdout.strip().splitlines()[-1])


def ensure_binaries(timeout: float = 3600.0) -> Path:
    """Return the bin dir with ``etcd`` and ``kube-apiserver``, building them if missing.

    Raises ControlPlaneError with the build output's tail if the build fails.
    """
    bin_dir = envtest_bin_dir()
    if (bin_dir / "etcd").is_file() and (bin_dir / "kube-apiserver").is_file():
        return bin_dir
    env = dict(os.environ)
    if shutil.which("go") is None and Path("/usr/local/go/bin/go").exists():
        env["PATH"] = "/usr/local/go/bin:" + env.get("PATH", "")
    try:
        proc = subprocess.run(
            ["bash", str(ENVTEST_SCRIPT)],
            capture_output=True,
            text=True,
            timeout=timeout,
            env=env,
        )
    except subprocess.TimeoutExpired as exc:
        raise ControlPlaneError(f"scripts/envtest.sh did not finish in {timeout:.0f}s") from exc
    if proc.returncode != 0:
        tail = "\n".join((proc.stderr or "").splitlines()[-40:])
        raise ControlPlaneError(
            f"scripts/envtest.sh failed (exit {proc.returncode}):\n{tail}"
        )
    bin_dir = Path(proc.stdout.strip().splitlines()[-1])
    for name in ("etcd", "kube-apiserver"):
        if not (bin_dir / name).is_file():
            raise ControlPlaneError(f"scripts/envtest.sh succeeded but {bin_dir / name} is missing")
    return bin_dir


# ----------------------------------------------------------------------------- helpers


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _pem_key(key) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def _pem_cert(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def _name(cn: str, org: str | None = None) -> x509.Name:
    attrs = [x509.NameAttribute(NameOID.COMMON_NAME, cn)]
    if org:
        attrs.append(x509.NameAttribute(NameOID.ORGANIZATION_NAME, org))
    return x509.Name(attrs)


def _issue(
    subject: x509.Name,
    key,
    ca_cert: x509.Certificate | None,
    ca_key,
    *,
    ca: bool = False,
    server_names: list[str] | None = None,
    server_ips: list[str] | None = None,
    client: bool = False,
) -> x509.Certificate:
    now = datetime.datetime.now(datetime.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(ca_cert.subject if ca_cert is not None else subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=2))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if ca:
        builder = builder.add_extension(
            x509.KeyUsage(
                digital_signature=True, key_cert_sign=True, crl_sign=True,
                content_commitment=False, key_encipherment=False, data_encipherment=False,
                key_agreement=False, encipher_only=False, decipher_only=False,
            ),
            critical=True,
        )
    else:
        builder = builder.add_extension(
            x509.KeyUsage(
                digital_signature=True, key_encipherment=True, key_cert_sign=False,
                crl_sign=False, content_commitment=False, data_encipherment=False,
                key_agreement=False, encipher_only=False, decipher_only=False,
            ),
            critical=True,
        )
        usages = [ExtendedKeyUsageOID.CLIENT_AUTH] if client else [ExtendedKeyUsageOID.SERVER_AUTH]
        builder = builder.add_extension(x509.ExtendedKeyUsage(usages), critical=False)
    sans: list[x509.GeneralName] = [x509.DNSName(n) for n in server_names or []]
    sans += [x509.IPAddress(ipaddress.ip_address(i)) for i in server_ips or []]
    if sans:
        builder = builder.add_extension(x509.SubjectAlternativeName(sans), critical=False)
    return builder.sign(ca_key if ca_key is not None else key, hashes.SHA256())


def _tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


# ----------------------------------------------------------------------------- control plane


class ControlPlane:
    """etcd + kube-apiserver on loopback.

    Attributes after ``start()``: ``server`` (https URL), ``kubeconfig`` (admin kubeconfig
    path, client-certificate identity CN=admin O=system:masters), ``admin_token`` (a static
    bearer token for the same admin), ``workdir``, ``ca_file``, ``port``.
    """

    SERVICE_CIDR = "10.0.0.0/24"

    def __init__(self, bin_dir: Path | str | None = None, workdir: Path | str | None = None,
                 *, flow_control: bool = False):
        self.flow_control = flow_control
        """API Priority and Fairness at its defaults (the bench's status writes); off for
        the tests, as it has been since the start."""
        self.bin_dir = Path(bin_dir) if bin_dir else None
        self._own_workdir = workdir is None
        self.workdir = Path(workdir) if workdir else Path(tempfile.mkdtemp(prefix="contour-cp-"))
        self.port = 0
        self.etcd_port = 0
        self.etcd_peer_port = 0
        self.etcd_proc: subprocess.Popen | None = None
        self.apiserver_proc: subprocess.Popen | None = None
        self.admin_token = secrets.token_hex(16)
        self._log_files: list = []

    # -- paths
    @property
    def server(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    @property
    def kubeconfig(self) -> Path:
        return self.workdir / "admin.kubeconfig"

    @property
    def ca_file(self) -> Path:
        return self.workdir / "pki" / "ca.crt"

    @property
    def apiserver_log(self) -> Path:
        return self.workdir / "kube-apiserver.log"

    @property
    def etcd_log(self) -> Path:
        return self.workdir / "etcd.log"

    # -- lifecycle
    def start(self, timeout: float = 120.0) -> ControlPlane:
        if self.bin_dir is None:
            self.bin_dir = ensure_binaries()
        for name in ("etcd", "kube-apiserver"):
            if not (self.bin_dir / name).is_file():
                raise ControlPlaneError(f"{self.bin_dir / name} not found")
        self.port = free_port()
        self.etcd_port = free_port()
        self.etcd_peer_port = free_port()
        self._write_pki()
        try:
            self._start_etcd(timeout)
            self._start_apiserver()
            self._wait_ready(timeout)
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        self._stop_proc(self.apiserver_proc)
        self.apiserver_proc = None
        self._stop_proc(self.etcd_proc)
        self.etcd_proc = None
        for f in self._log_files:
            f.close()
        self._log_files = []
        if self._own_workdir and not os.environ.get("CONTOUR_KEEP_CONTROL_PLANE"):
            shutil.rmtree(self.workdir, ignore_errors=True)

    def restart_apiserver(self, timeout: float = 120.0, downtime: float = 0.0) -> None:
        """Stop kube-apiserver and start it again on the same port; etcd keeps running.

        ``downtime`` seconds pass between the stop and the start (for clients to notice).
        """
        self._stop_proc(self.apiserver_proc)
        self.apiserver_proc = None
        if downtime:
            time.sleep(downtime)
        self._start_apiserver()
        self._wait_ready(timeout)

    def stop_apiserver(self) -> None:
        """Stop only kube-apiserver (``start_apiserver()`` brings it back on the same port)."""
        self._stop_proc(self.apiserver_proc)
        self.apiserver_proc = None

    def start_apiserver(self, timeout: float = 120.0) -> None:
        self._start_apiserver()
        self._wait_ready(timeout)

    def __enter__(self) -> ControlPlane:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # -- kubeconfigs
    def token_kubeconfig(self, token: str, name: str = "token") -> Path:
        """Write a kubeconfig that authenticates with the bearer ``token``; return its path."""
        path = self.workdir / f"{name}-{secrets.token_hex(4)}.kubeconfig"
        self._write_kubeconfig(path, {"token": token})
        return path

    def kubectl_env(self) -> dict[str, str]:
        env = dict(os.environ)
        env["KUBECONFIG"] = str(self.kubeconfig)
        return env

    def kubectl(self, *args: str, check: bool = True, input: str | None = None,
                kubeconfig: Path | str | None = None, timeout: float = 60.0,
                ) -> subprocess.CompletedProcess:
        """Run ``kubectl --kubeconfig <admin> args...``; raise with output on failure if check."""
        cmd = ["kubectl", "--kubeconfig", str(kubeconfig or self.kubeconfig), *args]
        proc = subprocess.run(cmd, capture_output=True, text=True, input=input, timeout=timeout)
        if check and proc.returncode != 0:
            raise AssertionError(
                f"{' '.join(cmd)} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}"
            )
        return proc

    def wait_established(self, *crds: str, timeout: float = 60.0) -> None:
        """`kubectl wait --for=condition=Established` on `crds` ("crd/NAME" or "crd --all").

        kubectl fails at once, instead of waiting, on a CRD whose status has no conditions
        yet (".status.conditions accessor error: <nil> is of the type <nil>"), which a loaded
        API server shows for a moment after the create; that one error is waited out."""
        deadline = time.monotonic() + timeout
        while True:
            left = max(1, int(deadline - time.monotonic()))
            proc = self.kubectl("wait", "--for=condition=Established", f"--timeout={left}s",
                                *crds, check=False, timeout=left + 30)
            if proc.returncode == 0:
                return
            if ".status.conditions accessor error" not in proc.stderr or (
                    time.monotonic() > deadline):
                raise AssertionError(f"CRDs {' '.join(crds)} not Established:\n{proc.stderr}")
            time.sleep(0.2)

    # -- internals
    def _write_pki(self) -> None:
        pki = self.workdir / "pki"
        pki.mkdir(parents=True, exist_ok=True)
        ca_key = ec.generate_private_key(ec.SECP256R1())
        ca_cert = _issue(_name("kubectl-contour-test-ca"), ca_key, None, None, ca=True)
        srv_key = ec.generate_private_key(ec.SECP256R1())
        srv_cert = _issue(
            _name("kube-apiserver"), srv_key, ca_cert, ca_key,
            server_names=["localhost", "kubernetes", "kubernetes.default",
                          "kubernetes.default.svc", "kubernetes.default.svc.cluster.local"],
            server_ips=["127.0.0.1", "10.0.0.1"],
        )
        adm_key = ec.generate_private_key(ec.SECP256R1())
        adm_cert = _issue(_name("admin", "system:masters"), adm_key, ca_cert, ca_key, client=True)
        sa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        files = {
            "ca.crt": _pem_cert(ca_cert),
            "ca.key": _pem_key(ca_key),
            "apiserver.crt": _pem_cert(srv_cert),
            "apiserver.key": _pem_key(srv_key),
            "admin.crt": _pem_cert(adm_cert),
            "admin.key": _pem_key(adm_key),
            "sa.key": _pem_key(sa_key),
            "sa.pub": sa_key.public_key().public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            ),
            "tokens.csv": f'{self.admin_token},admin,admin-uid,"system:masters"\n'.encode(),
        }
        for name, data in files.items():
            p = pki / name
            p.write_bytes(data)
            p.chmod(0o600)
        self._write_kubeconfig(
            self.kubeconfig,
            {
                "client-certificate-data": base64.b64encode(files["admin.crt"]).decode(),
                "client-key-data": base64.b64encode(files["admin.key"]).decode(),
            },
        )

    def _write_kubeconfig(self, path: Path, user: dict) -> None:
        cfg = {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [{
                "name": "envtest",
                "cluster": {
                    "server": self.server,
                    "certificate-authority-data": base64.b64encode(
                        self.ca_file.read_bytes()).decode(),
                },
            }],
            "users": [{"name": "user", "user": user}],
            "contexts": [{"name": "envtest", "context": {"cluster": "envtest", "user": "user"}}],
            "current-context": "envtest",
        }
        path.write_text(yaml.safe_dump(cfg, sort_keys=False))
        path.chmod(0o600)

    def _open_log(self, path: Path):
        f = open(path, "ab")  # noqa: SIM115 - closed in stop()
        self._log_files.append(f)
        return f

    def _start_etcd(self, timeout: float) -> None:
        assert self.bin_dir is not None
        client = f"http://127.0.0.1:{self.etcd_port}"
        peer = f"http://127.0.0.1:{self.etcd_peer_port}"
        cmd = [
            str(self.bin_dir / "etcd"),
            "--name=default",
            f"--data-dir={self.workdir / 'etcd-data'}",
            f"--listen-client-urls={client}",
            f"--advertise-client-urls={client}",
            f"--listen-peer-urls={peer}",
            f"--initial-advertise-peer-urls={peer}",
            f"--initial-cluster=default={peer}",
            "--unsafe-no-fsync=true",
            "--log-level=warn",
        ]
        self.etcd_proc = subprocess.Popen(
            cmd, stdout=self._open_log(self.etcd_log), stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL, start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.etcd_proc.poll() is not None:
                raise ControlPlaneError(
                    f"etcd exited with {self.etcd_proc.returncode}:\n{_tail(self.etcd_log)}"
                )
            try:
                with urllib.request.urlopen(f"{client}/health", timeout=2) as r:
                    if json.loads(r.read()).get("health") == "true":
                        return
            except (OSError, ValueError):
                pass
            time.sleep(0.2)
        raise ControlPlaneError(f"etcd not healthy after {timeout:.0f}s:\n{_tail(self.etcd_log)}")

    def _apiserver_args(self) -> list[str]:
        assert self.bin_dir is not None
        pki = self.workdir / "pki"
        return [
            str(self.bin_dir / "kube-apiserver"),
            f"--etcd-servers=http://127.0.0.1:{self.etcd_port}",
            "--bind-address=127.0.0.1",
            "--advertise-address=127.0.0.1",
            f"--secure-port={self.port}",
            f"--cert-dir={self.workdir / 'apiserver-certs'}",
            f"--tls-cert-file={pki / 'apiserver.crt'}",
            f"--tls-private-key-file={pki / 'apiserver.key'}",
            f"--client-ca-file={pki / 'ca.crt'}",
            f"--token-auth-file={pki / 'tokens.csv'}",
            "--authorization-mode=RBAC",
            f"--service-cluster-ip-range={self.SERVICE_CIDR}",
            "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
            f"--service-account-key-file={pki / 'sa.pub'}",
            f"--service-account-signing-key-file={pki / 'sa.key'}",
            # No controller-manager runs: the ServiceAccount admission plugin would wait
            # for the token controller / default SA that never come.
            "--disable-admission-plugins=ServiceAccount",
            *([] if self.flow_control else ["--enable-priority-and-fairness=false"]),
            "--allow-privileged=true",
            "--endpoint-reconciler-type=none",
            "--profiling=false",
            "--v=1",
        ]

    def _start_apiserver(self) -> None:
        self.apiserver_proc = subprocess.Popen(
            self._apiserver_args(), stdout=self._open_log(self.apiserver_log),
            stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True,
        )

    def _ssl_context(self) -> ssl.SSLContext:
        ctx = ssl.create_default_context(cafile=str(self.ca_file))
        pki = self.workdir / "pki"
        ctx.load_cert_chain(str(pki / "admin.crt"), str(pki / "admin.key"))
        return ctx

    def _get(self, path: str) -> tuple[int, bytes]:
        try:
            with urllib.request.urlopen(
                self.server + path, context=self._ssl_context(), timeout=5
            ) as r:
                return r.status, r.read()
        except urllib.error.HTTPError as e:
            return e.code, e.read()

    def _wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        last = "no answer"
        checks = ["/readyz", "/api/v1/namespaces/default"]
        while time.monotonic() < deadline:
            proc = self.apiserver_proc
            if proc is None or proc.poll() is not None:
                code = proc.returncode if proc else None
                raise ControlPlaneError(
                    f"kube-apiserver exited with {code}:\n{_tail(self.apiserver_log)}"
                )
            try:
                while checks:
                    status, body = self._get(checks[0])
                    if status != 200:
                        last = f"{checks[0]} -> {status}: {body[-300:]!r}"
                        break
                    checks.pop(0)
                if not checks:
                    return
            except (OSError, ssl.SSLError) as e:
                last = f"{type(e).__name__}: {e}"
            time.sleep(0.25)
        raise ControlPlaneError(
            f"kube-apiserver not ready after {timeout:.0f}s ({last}):\n{_tail(self.apiserver_log)}"
        )

    @staticmethod
    def _stop_proc(proc: subprocess.Popen | None, grace: float = 15.0) -> None:
        if proc is None or proc.poll() is not None:
            return
        try:
            os.killpg(proc.pid, signal.SIGTERM)
        except ProcessLookupError:
            return
        try:
            proc.wait(grace)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(5)


def session_control_plane() -> Iterator[ControlPlane]:
    """The body of the session fixtures: build if needed, start, yield, stop. A missing
    kubectl, a build failure or a start failure fails the tests with the reason."""
    import pytest

    if shutil.which("kubectl") is None:
        pytest.fail("kubectl is not on PATH; the cluster tests need it")
    try:
        cp = ControlPlane(bin_dir=ensure_binaries()).start()
    except ControlPlaneError as e:
        pytest.fail(f"control plane could not be started: {e}", pytrace=False)
    try:
        yield cp
    finally:
        cp.stop()
