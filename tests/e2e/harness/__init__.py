"""Black-box scenario harness: real controller process, real Envoy, real local backends."""
