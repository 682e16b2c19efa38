"""The config file's `rateLimitService` block (Contour v1.33) → config.RateLimitSettings.

    rateLimitService:
      extensionService: projectcontour/ratelimit   # namespace/name of an ExtensionService
      domain: contour
      failOpen: false
      enableXRateLimitHeaders: false
      enableResourceExhaustedCode: false
      defaultGlobalRateLimitPolicy: {descriptors: [...]}   # HTTPProxy rateLimitPolicy.global

A value of the wrong type is a ConfigError naming the key (the controller does not start).
"""

from __future__ import annotations

from typing import Any

from controller.config import ConfigError, RateLimitSettings

KEY = "rateLimitService"
_FLAGS = {"failOpen": "fail_open", "enableXRateLimitHeaders": "enable_x_ratelimit_headers",
          "enableResourceExhaustedCode": "enable_resource_exhausted_code"}


def rate_limit_settings(cfg: dict[str, Any]) -> RateLimitSettings | None:
    """None when the block is absent."""
    block = cfg.get(KEY)
    if block is None:
        return None
    if not isinstance(block, dict):
        raise ConfigError(f"-c/--config-path: {KEY} must be a mapping, got {block!r}")
    flags = {field: _flag(block, key) for key, field in _FLAGS.items()}
    domain = block.get("domain", "")
    if not isinstance(domain, str):
        raise ConfigError(f"-c/--config-path: {KEY}.domain must be a string, got {domain!r}")
    default = block.get("defaultGlobalRateLimitPolicy")
    if default is not None and not isinstance(default, dict):
        raise ConfigError(f"-c/--config-path: {KEY}.defaultGlobalRateLimitPolicy must be a "
                          f"mapping, got {default!r}")
    return RateLimitSettings(_extension_service(block), domain, **flags,
                             default_global_policy=default)


def _flag(block: dict[str, Any], key: str) -> bool:
    value = block.get(key, False)
    if not isinstance(value, bool):
        raise ConfigError(f"-c/--config-path: {KEY}.{key} must be true or false, got {value!r}")
    return value


def _extension_service(block: dict[str, Any]) -> tuple[str, str]:
    value = block.get("extensionService")
    parts = value.split("/") if isinstance(value, str) else []
    if len(parts) != 2 or not all(p.strip() for p in parts):
        raise ConfigError(f"-c/--config-path: {KEY}.extensionService must be "
                          f"`namespace/name`, got {value!r}")
    return parts[0].strip(), parts[1].strip()
