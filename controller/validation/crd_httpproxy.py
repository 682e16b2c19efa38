r"""HTTPProxy (projectcontour.io/v1) `spec`: every field of Contour v1.33's
apis/projectcontour/v1/httpproxy.go with its kubebuilder validations (enums, patterns,
bounds, required fields, defaults, the one CEL rule), written from the Go types, not copied
from upstream's generated YAML.

Go types map as controller-gen maps them: `int` → integer, `int32`/`uint32` → integer
int32, `int64` → integer int64; a field without `omitempty` and without `+optional` is
required. Comments name the Go type where its name is not the field's.
"""

from __future__ import annotations

from controller.validation.openapi import (
    BOOLEAN,
    STRING,
    Schema,
    array,
    empty_object,
    fields,
    integer,
    obj,
    one_of,
    string,
    string_map,
    with_default,
    with_rule,
)

_UNIT = r"(\d*(\.\d*)?{})"
_UNITS = "|".join(_UNIT.format(u) for u in ("h", "m", "s", "ms", "us", "µs", "ns"))


def duration(*alternatives: str) -> Schema:
    """A Go duration string ("1h30m", "250ms"), or one of the literal `alternatives`."""
    return string("^((" + _UNITS + ")+" + "".join(f"|{a}" for a in alternatives) + ")$")


TIMEOUT = duration("infinity", "infinite")
DNS_SUBDOMAIN = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$"
FQDN = r"^(\*\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$"
_CTL = "".join(f"\\x{c:02x}" for c in range(0x20))
COOKIE_NAME = r'^[^()<>@,;:\\"\/[\]?={} \t\x7f' + _CTL + "]+$"
COOKIE_PATH = r"^[^;\x7f" + _CTL + "]+$"

HEADER_MATCH = obj(
    ("name",), contains=STRING, exact=STRING, ignoreCase=BOOLEAN, name=STRING,
    notcontains=STRING, notexact=STRING, notpresent=BOOLEAN, present=BOOLEAN, regex=STRING,
    treatMissingAsEmpty=BOOLEAN,
)  # fmt: skip
QUERY_MATCH = obj(
    ("name",), contains=STRING, exact=STRING, ignoreCase=BOOLEAN, name=STRING,
    prefix=STRING, present=BOOLEAN, regex=STRING, suffix=STRING,
)  # fmt: skip
MATCH_CONDITIONS = array(obj(
    exact=STRING, header=HEADER_MATCH, prefix=STRING, queryParameter=QUERY_MATCH, regex=STRING,
))  # fmt: skip

HEADER_VALUE = obj(("name", "value"), name=string(minLength=1), value=string(minLength=1))
HEADERS_POLICY = obj(remove=array(STRING), set=array(HEADER_VALUE))

UPSTREAM_VALIDATION = with_rule(
    obj(("caSecret", "subjectName"), caSecret=string(minLength=1, maxLength=317),
        subjectName=string(minLength=1, maxLength=250),
        subjectNames=array(STRING, minItems=1, maxItems=8)),
    "has(self.subjectNames) ? self.subjectNames[0] == self.subjectName : true",
    "subjectNames[0] must equal subjectName if set",
)  # fmt: skip

COOKIE_REWRITE = obj(
    ("name",),
    domainRewrite=obj(("value",), value=string(DNS_SUBDOMAIN, minLength=1, maxLength=4096)),
    name=string(COOKIE_NAME, minLength=1, maxLength=4096),
    pathRewrite=obj(("value",), value=string(COOKIE_PATH, minLength=1, maxLength=4096)),
    sameSite=one_of("Strict", "Lax", "None"),
    secure=BOOLEAN,
)
SLOW_START = obj(
    ("window",),
    aggression=with_default(string(r"^([0-9]+([.][0-9]+)?|[.][0-9]+)$"), "1.0"),
    minWeightPercent=with_default(integer("int32", minimum=0, maximum=100), 10),
    window=duration(),
)
SERVICE = obj(
    ("name", "port"),
    cookieRewritePolicies=array(COOKIE_REWRITE),
    healthPort=integer(minimum=1, maximum=65535),
    mirror=BOOLEAN,
    name=STRING,
    port=integer(minimum=1, maximum=65536, exclusiveMaximum=True),  # 1-65535
    protocol=one_of("h2", "h2c", "tls"),
    requestHeadersPolicy=HEADERS_POLICY,
    responseHeadersPolicy=HEADERS_POLICY,
    slowStartPolicy=SLOW_START,
    validation=UPSTREAM_VALIDATION,
    weight=integer("int64", minimum=0),
)

HASH_POLICY = obj(
    hashSourceIP=BOOLEAN,
    headerHashOptions=obj(("headerName",), headerName=string(minLength=1)),
    queryParameterHashOptions=obj(("parameterName",), parameterName=string(minLength=1)),
    terminal=BOOLEAN,
)
LOAD_BALANCER = obj(requestHashPolicies=array(HASH_POLICY), strategy=STRING)

AUTH_POLICY = obj(context=string_map(), disabled=BOOLEAN)
IP_FILTERS = array(obj(("cidr", "source"), cidr=STRING, source=one_of("Peer", "Remote")))

LOCAL_RATE_LIMIT = obj(
    ("requests", "unit"),
    burst=integer("int32"),
    requests=integer("int32", minimum=1),
    responseHeadersToAdd=array(HEADER_VALUE),
    responseStatusCode=integer("int32", minimum=400, maximum=599),
    unit=one_of("second", "minute", "hour"),
)
DESCRIPTOR_ENTRY = obj(
    genericKey=obj(("value",), key=STRING, value=string(minLength=1)),
    remoteAddress=empty_object(),
    requestHeader=obj(("descriptorKey", "headerName"), descriptorKey=string(minLength=1),
                      headerName=string(minLength=1)),
    requestHeaderValueMatch=obj(("value",), expectMatch=with_default(BOOLEAN, True),
                                headers=array(HEADER_MATCH, minItems=1),
                                value=string(minLength=1)),
)  # fmt: skip
RATE_LIMIT = fields({"global": obj(  # a Python keyword
    descriptors=array(obj(("entries",), entries=array(DESCRIPTOR_ENTRY, minItems=1)),
                      minItems=1),
    disabled=BOOLEAN,
), "local": LOCAL_RATE_LIMIT})  # fmt: skip

REDIRECT_CODES = [301, 302, 303, 307, 308]
HTTP_HEALTH_CHECK = obj(
    ("path",),
    expectedStatuses=array(obj(("end", "start"),
                               end=integer("int64", minimum=101, maximum=600),
                               start=integer("int64", minimum=100, maximum=599))),
    healthyThresholdCount=integer("int64", minimum=0),
    host=STRING,
    intervalSeconds=integer("int64"),
    path=STRING,
    timeoutSeconds=integer("int64"),
    unhealthyThresholdCount=integer("int64", minimum=0),
)  # fmt: skip
RETRY_ON = one_of(
    "5xx", "gateway-error", "reset", "reset-before-request", "connect-failure",
    "envoy-ratelimited", "retriable-4xx", "refused-stream", "retriable-status-codes",
    "retriable-headers", "http3-post-connect-failure", "cancelled", "deadline-exceeded",
    "internal", "resource-exhausted", "unavailable",
)  # fmt: skip
TIMEOUT_POLICY = obj(idle=TIMEOUT, idleConnection=TIMEOUT, response=TIMEOUT)

ROUTE = obj(
    authPolicy=AUTH_POLICY,
    conditions=MATCH_CONDITIONS,
    cookieRewritePolicies=array(COOKIE_REWRITE),
    directResponsePolicy=obj(("statusCode",), body=STRING,
                             statusCode=integer(minimum=200, maximum=599)),
    enableWebsockets=BOOLEAN,
    healthCheckPolicy=HTTP_HEALTH_CHECK,
    internalRedirectPolicy=obj(
        allowCrossSchemeRedirect=with_default(one_of("Always", "Never", "SafeOnly"), "Never"),
        denyRepeatedRouteRedirect=BOOLEAN,
        maxInternalRedirects=integer("int32"),
        redirectResponseCodes=array(integer("int32", enum=REDIRECT_CODES)),
    ),
    ipAllowPolicy=IP_FILTERS,
    ipDenyPolicy=IP_FILTERS,
    jwtVerificationPolicy=obj(disabled=BOOLEAN, require=STRING),
    loadBalancerPolicy=LOAD_BALANCER,
    pathRewritePolicy=obj(replacePrefix=array(obj(
        ("replacement",), prefix=string(minLength=1), replacement=string(minLength=1)))),
    permitInsecure=BOOLEAN,
    rateLimitPolicy=RATE_LIMIT,
    requestHeadersPolicy=HEADERS_POLICY,
    requestRedirectPolicy=obj(
        hostname=string(DNS_SUBDOMAIN, minLength=1, maxLength=253),
        path=string(r"^\/.*$"),
        port=integer("int32", minimum=1, maximum=65535),
        prefix=string(r"^\/.*$"),
        scheme=one_of("http", "https"),
        statusCode=with_default(integer("int32", enum=REDIRECT_CODES), 302),
    ),
    responseHeadersPolicy=HEADERS_POLICY,
    retryPolicy=obj(
        count=with_default(integer("int64", minimum=-1), 1),
        perTryTimeout=TIMEOUT,
        retriableStatusCodes=array(integer("int32")),
        retryOn=array(RETRY_ON),
    ),
    services=array(SERVICE),
    timeoutPolicy=TIMEOUT_POLICY,
)  # fmt: skip

TCP_INCLUDE = obj(("name",), name=STRING, namespace=STRING)
TCP_PROXY = obj(
    healthCheckPolicy=obj(
        healthyThresholdCount=integer("int32"), intervalSeconds=integer("int64"),
        timeoutSeconds=integer("int64"), unhealthyThresholdCount=integer("int32"),
    ),
    include=TCP_INCLUDE,
    includes=TCP_INCLUDE,  # deprecated spelling, still served
    loadBalancerPolicy=LOAD_BALANCER,
    services=array(SERVICE),
)  # fmt: skip

CLIENT_VALIDATION = obj(
    caSecret=string(minLength=1),
    crlOnlyVerifyLeafCert=BOOLEAN,
    crlSecret=string(minLength=1),
    forwardClientCertificate=obj(cert=BOOLEAN, chain=BOOLEAN, dns=BOOLEAN, subject=BOOLEAN,
                                 uri=BOOLEAN),
    optionalClientCertificate=BOOLEAN,
    skipClientCertValidation=BOOLEAN,
)  # fmt: skip
TLS = obj(
    clientValidation=CLIENT_VALIDATION,
    enableFallbackCertificate=BOOLEAN,
    maximumProtocolVersion=STRING,
    minimumProtocolVersion=STRING,
    passthrough=BOOLEAN,
    secretName=STRING,
)
CORS_VALUE = string("^[a-zA-Z0-9!#$%&'*+.^_`|~-]+$")
CORS = obj(
    ("allowMethods", "allowOrigin"),
    allowCredentials=BOOLEAN,
    allowHeaders=array(CORS_VALUE, minItems=1),
    allowMethods=array(CORS_VALUE, minItems=1),
    allowOrigin=array(STRING, minItems=1),
    allowPrivateNetwork=BOOLEAN,
    exposeHeaders=array(CORS_VALUE, minItems=1),
    maxAge=duration("0"),
)
AUTHORIZATION = obj(
    authPolicy=AUTH_POLICY,
    extensionRef=obj(apiVersion=string(minLength=1), name=string(minLength=1),
                     namespace=string(minLength=1)),
    failOpen=BOOLEAN,
    responseTimeout=TIMEOUT,
    withRequestBody=obj(allowPartialMessage=BOOLEAN,
                        maxRequestBytes=with_default(integer("int32", minimum=1), 1024),
                        packAsBytes=BOOLEAN),
)  # fmt: skip
JWT_PROVIDER = obj(
    ("name", "remoteJWKS"),
    audiences=array(STRING),
    default=BOOLEAN,
    forwardJWT=BOOLEAN,
    issuer=STRING,
    name=string(minLength=1),
    remoteJWKS=obj(("uri",), cacheDuration=duration(), dnsLookupFamily=one_of("auto", "v4", "v6"),
                   timeout=duration(), uri=string(minLength=1), validation=UPSTREAM_VALIDATION),
)  # fmt: skip
VIRTUAL_HOST = obj(
    ("fqdn",),
    authorization=AUTHORIZATION,
    corsPolicy=CORS,
    fqdn=string(FQDN),
    ipAllowPolicy=IP_FILTERS,
    ipDenyPolicy=IP_FILTERS,
    jwtProviders=array(JWT_PROVIDER),
    rateLimitPolicy=RATE_LIMIT,
    tls=TLS,
)

SPEC = obj(
    includes=array(obj(("name",), conditions=MATCH_CONDITIONS, name=STRING, namespace=STRING)),
    ingressClassName=STRING,
    routes=array(ROUTE),
    tcpproxy=TCP_PROXY,
    virtualhost=VIRTUAL_HOST,
)
