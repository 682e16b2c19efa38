"""Fixtures for the tests of the images' own programs (image/*): the conformance echo
backend's package is importable as `echo_basic`, the e2e harness's CA as `harness`."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
for _path in (ROOT / "image" / "echo-conformance", ROOT / "tests" / "e2e"):
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))

from harness.certs import HarnessCA  # noqa: E402


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """ca.crt, server.crt/key (abc.example.com) and client.crt/key (clientAuth), as files."""
    ca = HarnessCA("echo-conformance-test-ca")
    server = ca.issue("abc.example.com")
    client = ca.issue("conformance-client", client=True)
    out = tmp_path_factory.mktemp("pki")
    files = {"ca.crt": ca.cert_pem, "server.crt": server.cert_pem, "server.key": server.key_pem,
             "client.crt": client.cert_pem, "client.key": client.key_pem}
    for name, data in files.items():
        (out / name).write_bytes(data)
    return {name: out / name for name in files}
