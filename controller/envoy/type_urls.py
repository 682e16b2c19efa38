"""The xDS type URLs, in one place and without importing any generated proto."""

TYPE_PREFIX = "type.googleapis.com/"
LISTENER_TYPE = TYPE_PREFIX + "envoy.config.listener.v3.Listener"
ROUTE_TYPE = TYPE_PREFIX + "envoy.config.route.v3.RouteConfiguration"
SCOPED_ROUTE_TYPE = TYPE_PREFIX + "envoy.config.route.v3.ScopedRouteConfiguration"
CLUSTER_TYPE = TYPE_PREFIX + "envoy.config.cluster.v3.Cluster"
ENDPOINT_TYPE = TYPE_PREFIX + "envoy.config.endpoint.v3.ClusterLoadAssignment"
SECRET_TYPE = TYPE_PREFIX + "envoy.extensions.transport_sockets.tls.v3.Secret"
