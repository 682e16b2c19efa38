"""manifests/01-crds.yaml is what the compact descriptions render (not stale), and the
descriptions say what v1.33's CRDs say: names, short names, printer columns, subresources,
required fields and the shapes the controller relies on."""

from __future__ import annotations

import pytest
import yaml

from controller.validation import crd_manifest, crd_projectcontour
from controller.validation.crds import document


def test_checked_in_manifest_is_current() -> None:
    assert crd_manifest.MANIFEST.read_text() == crd_manifest.render(crd_manifest.all_crds()), (
        "stale: run `python -m controller.validation.crd_manifest`")
    assert crd_manifest.main(["--check"]) == 0


def test_manifest_documents_are_sorted_by_name() -> None:
    names = [d["metadata"]["name"] for d in yaml.safe_load_all(crd_manifest.MANIFEST.read_text())]
    assert names == sorted(names)
    assert "httpproxies.projectcontour.io" in names


@pytest.mark.parametrize(("crd", "short_names", "status"), [
    (crd_projectcontour.HTTPPROXY, ["proxy", "proxies"], True),
    (crd_projectcontour.TLS_CERTIFICATE_DELEGATION, ["tlscerts"], True),
    (crd_projectcontour.EXTENSION_SERVICE, ["extensionservice", "extensionservices"], True),
])
def test_names_and_subresources(crd, short_names, status) -> None:
    doc = document(crd)
    assert doc["spec"]["names"]["shortNames"] == short_names
    version = doc["spec"]["versions"][0]
    assert ("subresources" in version) is status
    assert doc["metadata"]["name"] == f"{crd.plural}.projectcontour.io"


def test_httpproxy_printer_columns() -> None:
    version = document(crd_projectcontour.HTTPPROXY)["spec"]["versions"][0]
    columns = [(c["name"], c["jsonPath"]) for c in version["additionalPrinterColumns"]]
    assert columns == [
        ("FQDN", ".spec.virtualhost.fqdn"), ("TLS Secret", ".spec.virtualhost.tls.secretName"),
        ("Status", ".status.currentStatus"), ("Status Description", ".status.description"),
    ]


def test_httpproxy_status_holds_detailed_conditions() -> None:
    schema = document(crd_projectcontour.HTTPPROXY)["spec"]["versions"][0]["schema"]
    status = schema["openAPIV3Schema"]["properties"]["status"]
    condition = status["properties"]["conditions"]["items"]
    assert set(condition["properties"]) >= {"type", "status", "reason", "message", "errors",
                                            "warnings", "observedGeneration",
                                            "lastTransitionTime"}
    assert condition["properties"]["errors"]["items"]["required"] == [
        "message", "reason", "status", "type"]
    assert schema["openAPIV3Schema"]["required"] == ["metadata", "spec"]
