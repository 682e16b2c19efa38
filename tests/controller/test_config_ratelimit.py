"""The config file's `rateLimitService` block (v1.33 keys) → RateLimitSettings."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from test_contour_cli import serve_settings

from controller.config import ConfigError, RateLimitSettings
from controller.config_ratelimit import rate_limit_settings

DEFAULT = {"descriptors": [{"entries": [{"remoteAddress": {}}]}]}


def test_every_key(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    cfg = tmp_path / "contour.yaml"
    cfg.write_text("rateLimitService:\n  extensionService: projectcontour/ratelimit\n"
                   "  domain: contour\n  failOpen: true\n  enableXRateLimitHeaders: true\n"
                   "  enableResourceExhaustedCode: true\n  defaultGlobalRateLimitPolicy:\n"
                   "    descriptors: [{entries: [{remoteAddress: {}}]}]\n")
    settings = serve_settings(monkeypatch, "-c", str(cfg))
    assert settings.builder.rate_limit_service == RateLimitSettings(
        ("projectcontour", "ratelimit"), "contour", True, True, True, DEFAULT)
    assert serve_settings(monkeypatch).builder.rate_limit_service is None


def test_defaults() -> None:
    assert rate_limit_settings({"rateLimitService": {"extensionService": "a/b"}}) == \
        RateLimitSettings(("a", "b"))


@pytest.mark.parametrize(("block", "message"), [
    ("a/b", "rateLimitService must be a mapping"),
    ({}, "rateLimitService.extensionService must be `namespace/name`, got None"),
    ({"extensionService": "ratelimit"}, "must be `namespace/name`, got 'ratelimit'"),
    ({"extensionService": "a/b/c"}, "must be `namespace/name`"),
    ({"extensionService": "a/b", "failOpen": "yes"}, "rateLimitService.failOpen must be true"),
    ({"extensionService": "a/b", "domain": 3}, "rateLimitService.domain must be a string"),
    ({"extensionService": "a/b", "defaultGlobalRateLimitPolicy": []},
     "rateLimitService.defaultGlobalRateLimitPolicy must be a mapping"),
])
def test_malformed_is_a_clear_config_error(block: object, message: str) -> None:
    with pytest.raises(ConfigError, match=re.escape(message)):
        rate_limit_settings({"rateLimitService": block})
