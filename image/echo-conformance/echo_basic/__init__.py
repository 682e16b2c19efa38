"""A backend that speaks the Gateway API conformance suite's echo protocol (the suite's
`echo-basic` server: HTTP, h2c, HTTPS, gRPC and TCP modes), written for this project in
Python. Run as `python3 -m echo_basic`; the mode comes from the environment the suite's
manifests set (GRPC_ECHO_SERVER, TCP_ECHO_SERVER; `-conf FILE` arguments: the DNS stand-in
for the suite's coredns pod). Modules: `answers` (what a request is answered, pure),
`serve` (HTTP/1.1, h2c and HTTPS), `grpc_echo`, `tcp_echo`, `dns`, `tlsinfo`.
"""
