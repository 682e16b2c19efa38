"""manifests/ against a real kube-apiserver: dry-run, CRD schema validation, status
subresource, printer columns, least-privilege RBAC; and the Dockerfile."""

from __future__ import annotations

import json
import re
import shutil
import site
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
MANIFESTS = REPO / "manifests"
SA = "system:serviceaccount:heptio-contour:contour"
CRDS = ["ingressroutes.contour.heptio.com", "tlscertificatedelegations.contour.heptio.com",
        "httpproxies.projectcontour.io", "tlscertificatedelegations.projectcontour.io",
        "extensionservices.projectcontour.io"]


# ----------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def cp(control_plane):
    """Namespace, ServiceAccount and CRDs installed (for real), CRDs Established."""
    control_plane.kubectl("apply", "-f", str(MANIFESTS / "00-common.yaml"))
    control_plane.kubectl("apply", "-f", str(MANIFESTS / "01-crds.yaml"))
    control_plane.wait_established(*[f"crd/{c}" for c in CRDS])
    control_plane.kubectl("create", "namespace", "apps", check=False)
    return control_plane


@pytest.fixture(scope="module")
def installed(cp):
    """Everything in manifests/ applied."""
    cp.kubectl("apply", "-f", str(MANIFESTS))
    return cp


def apply(cp, obj: dict, *, check: bool = False) -> subprocess.CompletedProcess:
    return cp.kubectl("apply", "-f", "-", input=json.dumps(obj), check=check)


def ingressroute(name: str, spec: dict, namespace: str = "apps") -> dict:
    return {
        "apiVersion": "contour.heptio.com/v1beta1",
        "kind": "IngressRoute",
        "metadata": {"name": name, "namespace": namespace},
        "spec": spec,
    }


def root(fqdn: str = "app.example.com", **extra) -> dict:
    spec = {
        "virtualhost": {"fqdn": fqdn},
        "routes": [{"match": "/", "services": [{"name": "app", "port": 80}]}],
    }
    spec.update(extra)
    return spec


def manifest_docs() -> list[dict]:
    docs = []
    for f in sorted(MANIFESTS.glob("*.yaml")):
        docs += [d for d in yaml.safe_load_all(f.read_text()) if d]
    return docs


# ----------------------------------------------------------------------------- files


def test_manifest_files_present_and_ordered():
    names = sorted(p.name for p in MANIFESTS.glob("*.yaml"))
    assert names == [
        "00-common.yaml", "01-crds.yaml", "02-rbac.yaml", "03-contour.yaml", "04-service.yaml",
        "05-gateway-api-crds.yaml",
    ]
    kinds = [(d["kind"], d["metadata"]["name"]) for d in manifest_docs()]
    assert ("Namespace", "heptio-contour") in kinds
    assert ("ServiceAccount", "contour") in kinds


def test_dry_run_server_whole_folder(cp):
    proc = cp.kubectl("apply", "--dry-run=server", "-f", str(MANIFESTS))
    out = proc.stdout
    for what in [
        "namespace/heptio-contour",
        "serviceaccount/contour",
        "customresourcedefinition.apiextensions.k8s.io/ingressroutes.contour.heptio.com",
        "clusterrole.rbac.authorization.k8s.io/contour",
        "clusterrolebinding.rbac.authorization.k8s.io/contour",
        "role.rbac.authorization.k8s.io/contour-leaderelection",
        "deployment.apps/contour",
        "service/contour",
    ]:
        assert what in out, out


def test_apply_whole_folder(installed):
    dep = json.loads(installed.kubectl(
        "get", "deployment", "contour", "-n", "heptio-contour", "-o", "json").stdout)
    svc = json.loads(installed.kubectl(
        "get", "service", "contour", "-n", "heptio-contour", "-o", "json").stdout)
    pod = dep["spec"]["template"]
    assert dep["spec"]["selector"]["matchLabels"] == {"app": "contour"}
    assert pod["metadata"]["labels"]["app"] == "contour"
    assert svc["spec"]["selector"] == {"app": "contour"}
    assert pod["spec"]["serviceAccountName"] == "contour"
    assert svc["spec"]["type"] == "LoadBalancer"
    ports = {p["port"]: p["targetPort"] for p in svc["spec"]["ports"]}
    assert ports == {80: 8080, 443: 8443}


def test_deployment_shape():
    dep = next(d for d in manifest_docs() if d["kind"] == "Deployment")
    spec = dep["spec"]["template"]["spec"]
    (init,) = spec["initContainers"]
    containers = {c["name"]: c for c in spec["containers"]}
    assert set(containers) == {"contour", "envoy"}
    # the init container writes Envoy's bootstrap into the shared emptyDir
    boot = init["command"] + init["args"]
    assert boot[:3] == ["contour", "bootstrap", "/config/envoy.json"]
    assert "--xds-address=127.0.0.1" in boot
    assert {"name": "contour-config", "emptyDir": {}} in spec["volumes"]
    serve = containers["contour"]["command"] + containers["contour"]["args"]
    assert serve[:2] == ["contour", "serve"]
    for flag in ["--incluster", "--insecure", "--xds-address=127.0.0.1",
                 "--enable-leader-election"]:
        assert flag in serve
    env = {e["name"] for e in containers["contour"]["env"]}
    assert {"POD_NAME", "POD_NAMESPACE"} <= env
    probe = containers["contour"]["readinessProbe"]["httpGet"]
    assert (probe["path"], probe["port"]) == ("/healthz", 8000)
    envoy = containers["envoy"]["command"] + containers["envoy"]["args"]
    assert envoy[:3] == ["envoy", "-c", "/config/envoy.json"]
    assert envoy[envoy.index("--service-cluster") + 1] == "contour"
    assert envoy[envoy.index("--service-node") + 1] == "$(POD_NAME)"
    envoy_ports = {p["containerPort"] for p in containers["envoy"]["ports"]}
    assert {8080, 8443, 9001} <= envoy_ports
    for c in [init, containers["envoy"]]:
        assert {"name": "contour-config", "mountPath": "/config"} in c["volumeMounts"]


# ----------------------------------------------------------------------------- CRDs


def test_crds_established_with_status_subresource(cp):
    for name in CRDS:
        crd = json.loads(cp.kubectl("get", "crd", name, "-o", "json").stdout)
        conds = {c["type"]: c["status"] for c in crd["status"]["conditions"]}
        assert conds.get("Established") == "True"
        assert conds.get("NonStructuralSchema", "False") == "False"
        (version,) = crd["spec"]["versions"]
        expected = "v1alpha1" if name.startswith("extensionservices.") else (
            "v1beta1" if name.endswith(".contour.heptio.com") else "v1")
        assert (version["name"], version["served"], version["storage"]) == (expected, True, True)
    for name in [CRDS[0], *CRDS[2:]]:
        crd = json.loads(cp.kubectl("get", "crd", name, "-o", "json").stdout)
        assert crd["spec"]["versions"][0]["subresources"] == {"status": {}}, name
    resources = cp.kubectl("api-resources", "--api-group=contour.heptio.com", "-o", "name").stdout
    assert "ingressroutes.contour.heptio.com" in resources
    assert "tlscertificatedelegations.contour.heptio.com" in resources


FULL_SPEC = {
    "virtualhost": {
        "fqdn": "full.example.com",
        "tls": {"secretName": "other-ns/full-cert", "minimumProtocolVersion": "1.2",
                "passthrough": False},
    },
    "routes": [
        {
            "match": "/",
            "permitInsecure": True,
            "enableWebsockets": False,
            "prefixRewrite": "/app",
            "timeoutPolicy": {"request": "5s"},
            "retryPolicy": {"count": 3, "perTryTimeout": "150ms"},
            "services": [
                {
                    "name": "app", "port": 80, "weight": 90, "strategy": "Cookie",
                    "healthCheck": {"path": "/healthz", "host": "probe", "intervalSeconds": 5,
                                    "timeoutSeconds": 2, "unhealthyThresholdCount": 3,
                                    "healthyThresholdCount": 2},
                    "validation": {"caSecret": "ca", "subjectName": "app.internal"},
                },
                {"name": "app-canary", "port": 8080, "weight": 0},
            ],
        },
        {"match": "/blog", "delegate": {"name": "blog", "namespace": "marketing"}},
    ],
    "tcpproxy": {"services": [{"name": "tcp", "port": 9000, "strategy": "Random"}]},
}


def test_valid_ingressroute_accepted_and_nothing_pruned(cp):
    proc = apply(cp, ingressroute("full", FULL_SPEC))
    assert proc.returncode == 0, proc.stderr
    got = json.loads(cp.kubectl("get", "ingressroute", "full", "-n", "apps", "-o", "json").stdout)
    # every field Contour reads survives the structural schema's pruning
    assert got["spec"] == FULL_SPEC
    child = ingressroute("blog", {"routes": [{"match": "/blog", "services": [
        {"name": "blog", "port": 80}]}]})
    assert apply(cp, child).returncode == 0
    tcp_delegate = ingressroute("tcp-delegate", {
        "virtualhost": {"fqdn": "tcp.example.com", "tls": {"passthrough": True}},
        "tcpproxy": {"delegate": {"name": "tcp-child"}}})
    assert apply(cp, tcp_delegate).returncode == 0


def test_unknown_fields_are_pruned(cp):
    obj = ingressroute("pruned", root(fqdn="pruned.example.com"))
    obj["spec"]["bogusField"] = {"x": 1}
    proc = cp.kubectl("apply", "--validate=false", "-f", "-", input=json.dumps(obj), check=False)
    assert proc.returncode == 0, proc.stderr
    got = json.loads(cp.kubectl("get", "ingressroute", "pruned", "-n", "apps", "-o", "json").stdout)
    assert "bogusField" not in got["spec"]


def _mutate(fn):
    spec = root(fqdn="bad.example.com")
    fn(spec)
    return spec


INVALID = {
    "route-without-match": (_mutate(lambda s: s["routes"][0].pop("match")),
                            "spec.routes[0].match: Required value"),
    "match-without-slash": (_mutate(lambda s: s["routes"][0].update(match="foo")),
                            "spec.routes[0].match"),
    "port-as-string": (_mutate(lambda s: s["routes"][0]["services"][0].update(port="http")),
                       "spec.routes[0].services[0].port"),
    "service-without-port": (_mutate(lambda s: s["routes"][0]["services"][0].pop("port")),
                             "spec.routes[0].services[0].port: Required value"),
    "service-without-name": (_mutate(lambda s: s["routes"][0]["services"][0].pop("name")),
                             "spec.routes[0].services[0].name: Required value"),
    "service-name-not-dns1035": (
        _mutate(lambda s: s["routes"][0]["services"][0].update(name="1app")),
        "spec.routes[0].services[0].name"),
    "bad-strategy": (_mutate(lambda s: s["routes"][0]["services"][0].update(strategy="Fastest")),
                     "spec.routes[0].services[0].strategy"),
    "healthcheck-without-path": (
        _mutate(lambda s: s["routes"][0]["services"][0].update(healthCheck={"host": "x"})),
        "spec.routes[0].services[0].healthCheck.path: Required value"),
    "healthcheck-path-without-slash": (
        _mutate(lambda s: s["routes"][0]["services"][0].update(healthCheck={"path": "healthz"})),
        "spec.routes[0].services[0].healthCheck.path"),
    "bad-min-tls-version": (
        _mutate(lambda s: s["virtualhost"].update(
            tls={"secretName": "cert", "minimumProtocolVersion": "1.0"})),
        "spec.virtualhost.tls.minimumProtocolVersion"),
    "bad-secret-name": (
        _mutate(lambda s: s["virtualhost"].update(tls={"secretName": "Bad_Secret"})),
        "spec.virtualhost.tls.secretName"),
    "bad-fqdn": (_mutate(lambda s: s["virtualhost"].update(fqdn="bad_fqdn!")),
                 "spec.virtualhost.fqdn"),
    "delegate-without-name": (
        _mutate(lambda s: s["routes"].append({"match": "/d", "delegate": {"namespace": "x"}})),
        "spec.routes[1].delegate.name: Required value"),
    "delegate-bad-namespace": (
        _mutate(lambda s: s["routes"].append(
            {"match": "/d", "delegate": {"name": "d", "namespace": "a.b"}})),
        "spec.routes[1].delegate.namespace"),
}


# Left to the controller on purpose: it reports these with Contour's exact `invalid` status,
# the same from a cluster as from a folder (docs/decisions.md).
CONTROLLER_CHECKED = {
    "negative-weight": _mutate(lambda s: s["routes"][0]["services"][0].update(weight=-1)),
    "port-70000": _mutate(lambda s: s["routes"][0]["services"][0].update(port=70000)),
    "port-0": _mutate(lambda s: s["routes"][0]["services"][0].update(port=0)),
}


@pytest.mark.parametrize("case", sorted(CONTROLLER_CHECKED))
def test_schema_leaves_ranges_to_the_controller(cp, case):
    proc = apply(cp, ingressroute(f"ranged-{case}", CONTROLLER_CHECKED[case]))
    assert proc.returncode == 0, proc.stderr


@pytest.mark.parametrize("case", sorted(INVALID))
def test_schema_rejects(cp, case):
    spec, field = INVALID[case]
    proc = apply(cp, ingressroute(f"bad-{case}", spec))
    assert proc.returncode != 0, f"{case} was accepted"
    assert "is invalid" in proc.stderr, proc.stderr
    assert field in proc.stderr, proc.stderr
    got = cp.kubectl("get", "ingressroute", f"bad-{case}", "-n", "apps", check=False)
    assert got.returncode != 0


def test_fqdn_pattern_is_as_loose_as_upstream(cp):
    # The top-level alternation only requires the string to end in [-a-z0-9]
    # (spec §1.8); Contour itself rejects wildcards and blanks with a status instead.
    for name, fqdn in [("loose-upper", "Example.COM.io"), ("loose-single", "localhost")]:
        proc = apply(cp, ingressroute(name, root(fqdn=fqdn)))
        assert proc.returncode == 0, proc.stderr


def test_tlscertificatedelegation_schema(cp):
    ok = {
        "apiVersion": "contour.heptio.com/v1beta1",
        "kind": "TLSCertificateDelegation",
        "metadata": {"name": "certs", "namespace": "apps"},
        "spec": {"delegations": [{"secretName": "wildcard", "targetNamespaces": ["*"]}]},
    }
    proc = apply(cp, ok)
    assert proc.returncode == 0, proc.stderr
    got = json.loads(cp.kubectl(
        "get", "tlscertificatedelegations.contour.heptio.com", "certs", "-n", "apps",
        "-o", "json").stdout)
    assert got["spec"] == ok["spec"]
    bad = json.loads(json.dumps(ok))
    bad["metadata"]["name"] = "bad-certs"
    del bad["spec"]["delegations"][0]["targetNamespaces"]
    proc = apply(cp, bad)
    assert proc.returncode != 0
    assert "spec.delegations[0].targetNamespaces: Required value" in proc.stderr


def test_status_subresource(cp):
    assert apply(cp, ingressroute("st", root(fqdn="st.example.com"))).returncode == 0
    status = {"status": {"currentStatus": "valid", "description": "valid IngressRoute"}}
    # written through the status subresource (how Contour writes it, spec §0.8) ...
    cp.kubectl("patch", "ingressroute", "st", "-n", "apps", "--subresource=status",
               "--type=merge", "-p", json.dumps(status))
    got = json.loads(cp.kubectl("get", "ingressroute", "st", "-n", "apps", "-o", "json").stdout)
    assert got["status"] == status["status"]
    assert got["spec"]["virtualhost"]["fqdn"] == "st.example.com"
    # ... while status sent to the main resource is ignored
    other = {"status": {"currentStatus": "invalid", "description": "nope"}}
    cp.kubectl("patch", "ingressroute", "st", "-n", "apps", "--type=merge",
               "-p", json.dumps(other))
    got = json.loads(cp.kubectl("get", "ingressroute", "st", "-n", "apps", "-o", "json").stdout)
    assert got["status"] == status["status"]
    # and the status subresource does not take spec changes
    cp.kubectl("patch", "ingressroute", "st", "-n", "apps", "--subresource=status",
               "--type=merge", "-p", json.dumps({"spec": {"virtualhost": {"fqdn": "x.y.z"}}}))
    got = json.loads(cp.kubectl("get", "ingressroute", "st", "-n", "apps", "-o", "json").stdout)
    assert got["spec"]["virtualhost"]["fqdn"] == "st.example.com"


def test_printer_columns(cp):
    obj = ingressroute("cols", {
        "virtualhost": {"fqdn": "cols.example.com", "tls": {"secretName": "cols-cert"}},
        "routes": [{"match": "/first", "services": [{"name": "app", "port": 80}]},
                   {"match": "/second", "services": [{"name": "app", "port": 80}]}],
    })
    assert apply(cp, obj).returncode == 0
    cp.kubectl("patch", "ingressroute", "cols", "-n", "apps", "--subresource=status",
               "--type=merge", "-p", json.dumps({"status": {
                   "currentStatus": "invalid",
                   "description": "TLS Secret [cols-cert] not found or is malformed"}}))
    out = cp.kubectl("get", "ingressroutes", "cols", "-n", "apps").stdout
    header, row = out.splitlines()[:2]
    assert re.split(r"\s{2,}", header.strip()) == [
        "NAME", "FQDN", "TLS SECRET", "FIRST ROUTE", "STATUS", "STATUS DESCRIPTION"]
    assert re.split(r"\s{2,}", row.strip()) == [
        "cols", "cols.example.com", "cols-cert", "/first", "invalid",
        "TLS Secret [cols-cert] not found or is malformed"]


# ----------------------------------------------------------------------------- RBAC


def can_i(cp, *args: str, namespace: str | None = None) -> bool:
    verb, resource, *rest = args
    resource, _, sub = resource.partition("/")
    cmd = ["auth", "can-i", verb, resource, *rest, f"--as={SA}"]
    if sub:
        cmd.append(f"--subresource={sub}")
    if namespace:
        cmd += ["-n", namespace]
    else:
        cmd += ["--all-namespaces"]
    proc = cp.kubectl(*cmd, check=False)
    answer = proc.stdout.strip().splitlines()[-1] if proc.stdout.strip() else ""
    assert answer in ("yes", "no"), f"can-i {args}: {proc.stdout}{proc.stderr}"
    return answer == "yes"


ALLOWED = [
    (verb, res)
    for res in ["ingressroutes.contour.heptio.com", "tlscertificatedelegations.contour.heptio.com",
                "ingresses.networking.k8s.io", "ingressclasses.networking.k8s.io",
                "services", "endpoints", "endpointslices.discovery.k8s.io", "secrets",
                "httpproxies.projectcontour.io", "tlscertificatedelegations.projectcontour.io",
                "extensionservices.projectcontour.io"]
    for verb in ["get", "list", "watch"]
] + [(verb, f"{res}/status") for verb in ["patch", "update"]
     for res in ["ingressroutes.contour.heptio.com", "httpproxies.projectcontour.io",
                 "extensionservices.projectcontour.io"]]

DENIED = [
    ("update", "ingressroutes.contour.heptio.com"),
    ("patch", "ingressroutes.contour.heptio.com"),
    ("create", "ingressroutes.contour.heptio.com"),
    ("delete", "ingressroutes.contour.heptio.com"),
    ("patch", "tlscertificatedelegations.contour.heptio.com"),
    ("update", "httpproxies.projectcontour.io"),
    ("patch", "httpproxies.projectcontour.io"),
    ("create", "httpproxies.projectcontour.io"),
    ("delete", "httpproxies.projectcontour.io"),
    ("patch", "tlscertificatedelegations.projectcontour.io"),
    ("update", "tlscertificatedelegations.projectcontour.io/status"),
    ("patch", "extensionservices.projectcontour.io"),
    ("create", "services"),
    ("update", "services"),
    ("delete", "secrets"),
    ("create", "secrets"),
    ("update", "secrets"),
    ("update", "endpoints"),
    ("update", "ingresses.networking.k8s.io/status"),
    ("list", "pods"),
    ("list", "configmaps"),
    ("create", "leases.coordination.k8s.io"),  # not cluster-wide
    ("create", "customresourcedefinitions.apiextensions.k8s.io"),
    ("list", "clusterroles.rbac.authorization.k8s.io"),
    ("create", "serviceaccounts/token"),
    ("impersonate", "users"),
    ("*", "*"),
]


@pytest.mark.parametrize("verb,resource", ALLOWED, ids=[f"{v}-{r}" for v, r in ALLOWED])
def test_rbac_allows(installed, verb, resource):
    assert can_i(installed, verb, resource), f"contour cannot {verb} {resource}"


@pytest.mark.parametrize("verb,resource", DENIED, ids=[f"{v}-{r}" for v, r in DENIED])
def test_rbac_denies(installed, verb, resource):
    assert not can_i(installed, verb, resource), f"contour can {verb} {resource}"


def test_rbac_leases_only_in_own_namespace(installed):
    for verb in ["get", "create", "update"]:
        assert can_i(installed, verb, "leases.coordination.k8s.io", namespace="heptio-contour")
        assert not can_i(installed, verb, "leases.coordination.k8s.io", namespace="default")
    assert not can_i(installed, "delete", "leases.coordination.k8s.io",
                     namespace="heptio-contour")


def test_rbac_gateway_services_only_in_own_namespace(installed):
    """Isolated Gateways' Services are made next to the Envoy Service, nowhere else."""
    for verb in ["create", "patch", "update", "delete"]:
        assert can_i(installed, verb, "services", namespace="heptio-contour")
        assert not can_i(installed, verb, "services", namespace="default")


def test_rbac_with_real_serviceaccount_token(installed):
    """A TokenRequest token for the ServiceAccount, used the way the Pod would."""
    cp = installed
    token = cp.kubectl("create", "token", "contour", "-n", "heptio-contour",
                       "--duration=10m").stdout.strip()
    assert token.count(".") == 2  # a JWT
    kc = cp.token_kubeconfig(token, name="contour-sa")

    def as_sa(*args, check=False):
        return cp.kubectl(*args, kubeconfig=kc, check=check)

    who = json.loads(as_sa("auth", "whoami", "-o", "json", check=True).stdout)
    assert who["status"]["userInfo"]["username"] == SA
    # reads
    for res in ["ingressroutes", "tlscertificatedelegations.contour.heptio.com", "ingresses",
                "services", "endpoints", "endpointslices", "secrets", "httpproxies",
                "tlscertificatedelegations.projectcontour.io", "extensionservices"]:
        proc = as_sa("get", res, "--all-namespaces")
        assert proc.returncode == 0, proc.stderr
    assert as_sa("get", "ingressclasses").returncode == 0
    # status write through the subresource, and only there
    assert apply(cp, ingressroute("rbac", root(fqdn="rbac.example.com"))).returncode == 0
    ok = as_sa("patch", "ingressroute", "rbac", "-n", "apps", "--subresource=status",
               "--type=merge", "-p", json.dumps(
                   {"status": {"currentStatus": "valid", "description": "valid IngressRoute"}}))
    assert ok.returncode == 0, ok.stderr
    denied = as_sa("patch", "ingressroute", "rbac", "-n", "apps", "--type=merge",
                   "-p", '{"spec":{"virtualhost":{"fqdn":"evil.example.com"}}}')
    assert denied.returncode != 0 and "forbidden" in denied.stderr.lower()
    # leader-election Lease in its own namespace
    lease = {"apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
             "metadata": {"name": "contour", "namespace": "heptio-contour"},
             "spec": {"holderIdentity": "contour-pod-1", "leaseDurationSeconds": 15}}
    proc = cp.kubectl("create", "-f", "-", kubeconfig=kc, input=json.dumps(lease), check=False)
    assert proc.returncode == 0, proc.stderr
    lease["metadata"]["namespace"] = "default"
    proc = cp.kubectl("create", "-f", "-", kubeconfig=kc, input=json.dumps(lease), check=False)
    assert proc.returncode != 0 and "forbidden" in proc.stderr.lower()
    # no writes elsewhere
    for args in [("create", "service", "clusterip", "evil", "--tcp=80:80", "-n", "apps"),
                 ("delete", "secret", "anything", "-n", "apps"),
                 ("create", "secret", "generic", "evil", "-n", "apps"),
                 ("get", "pods", "-A")]:
        proc = as_sa(*args)
        assert proc.returncode != 0 and "forbidden" in proc.stderr.lower(), (args, proc.stderr)


# ----------------------------------------------------------------------------- Dockerfile


def dockerfile_instructions() -> list[tuple[str, str]]:
    text = (REPO / "Dockerfile").read_text()
    text = re.sub(r"\\\n", " ", text)
    out = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            op, _, rest = line.partition(" ")
            out.append((op.upper(), rest.strip()))
    return out


def wheel_stage() -> list[tuple[str, str]]:
    """The Dockerfile's first stage (it builds the project's wheels from the context)."""
    ins = dockerfile_instructions()
    later = next((i for i, (op, _) in enumerate(ins) if op == "FROM" and i > 0), len(ins))
    return ins[:later]


def test_dockerfile_installs_package_with_contour_entrypoint():
    ins = dockerfile_instructions()
    assert ins[0][0] == "FROM" and ins[0][1].startswith("python:3.11-slim")
    entry = [rest for op, rest in ins if op == "ENTRYPOINT"]
    assert entry and json.loads(entry[-1]) == ["contour"]
    runs = " ".join(rest for op, rest in wheel_stage() if op == "RUN")
    # the project itself (`.`, the README's way), optionally with extras, built or installed
    assert re.search(r"pip (install|wheel)\b.*?\s\"?\.(\[[a-z,]+\])?\"?(\s|$)", runs), runs
    # everything setuptools packages is copied into the build context
    pyproject = tomllib.loads((REPO / "pyproject.toml").read_text())
    assert pyproject["project"]["scripts"]["contour"] == "controller.cli:main"
    copied = " ".join(rest for op, rest in wheel_stage() if op == "COPY")
    assert "pyproject.toml" in copied
    for pkg in pyproject["tool"]["setuptools"]["packages"]["find"]["include"]:
        assert pkg.rstrip("*") in copied


def test_dockerfile_context_installs_a_contour_command(tmp_path):
    """Install from exactly what the Dockerfile copies, as `pip install .` would."""
    ctx = tmp_path / "src"
    ctx.mkdir()
    for op, rest in wheel_stage():
        if op != "COPY":
            continue
        *srcs, _dest = rest.split()
        for src in srcs:
            for path in REPO.glob(src):
                if path.is_dir():
                    shutil.copytree(path, ctx / path.name,
                                    ignore=shutil.ignore_patterns("__pycache__"))
                else:
                    shutil.copy(path, ctx / path.name)
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, capture_output=True)
    # the dependencies come from the test interpreter's site-packages (after the new
    # venv's own, so the freshly installed package is the one imported)
    (site_dir,) = venv.glob("lib/python*/site-packages")
    (site_dir / "zz_test_deps.pth").write_text("\n".join(site.getsitepackages()) + "\n")
    # build isolation as in the image build: pip fetches the [build-system] requirements
    proc = subprocess.run(
        [str(venv / "bin" / "python"), "-m", "pip", "install", "--no-deps",
         "--disable-pip-version-check", "."],
        cwd=ctx, capture_output=True, text=True, timeout=300,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    script = (venv / "bin" / "contour").read_text()
    assert "controller.cli" in script
    ok = subprocess.run([str(venv / "bin" / "contour"), "--help"], capture_output=True,
                        text=True, cwd=tmp_path, timeout=120)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "bootstrap" in ok.stdout and "serve" in ok.stdout


# ----------------------------------------------------------------------------- CLI fit


def _containers() -> dict[str, dict]:
    dep = next(d for d in manifest_docs() if d["kind"] == "Deployment")
    spec = dep["spec"]["template"]["spec"]
    return {c["name"]: c for c in spec["initContainers"] + spec["containers"]}


def test_deployment_serve_args_parse_with_contour_cli():
    """The Deployment's `contour serve` flags exist in this project's CLI."""
    import typer

    from controller.cli import app

    group = typer.main.get_command(app)
    args = _containers()["contour"]["args"]
    assert args[0] == "serve"
    ctx = group.commands["serve"].make_context("serve", list(args[1:]))
    assert ctx.params["incluster"] is True
    assert ctx.params["insecure"] is True
    assert ctx.params["enable_leader_election"] is True
    assert ctx.params["xds_address"] == "127.0.0.1"


def test_init_container_bootstrap_runs(tmp_path):
    """The init container's command writes an Envoy bootstrap pointing at loopback xDS."""
    init = _containers()["envoy-initconfig"]
    args = [a.replace("/config/", f"{tmp_path}/") for a in init["args"]]
    contour = Path(sys.executable).parent / "contour"
    proc = subprocess.run([str(contour), *args], capture_output=True, text=True, timeout=60,
                          env={"PATH": "/usr/bin:/bin", "CONTOUR_NAMESPACE": "heptio-contour"})
    assert proc.returncode == 0, proc.stdout + proc.stderr
    boot = json.loads((tmp_path / "envoy.json").read_text())
    text = json.dumps(boot)
    assert '"port_value": 8001' in text and '"127.0.0.1"' in text
    admin = boot["admin"]["address"]["socket_address"]
    assert (admin["address"], admin["port_value"]) == ("127.0.0.1", 9001)
