"""The same service on Ray Serve, for when one machine is not enough.

The FastAPI app of ``cloud_fallback/server.py`` is the deployment's ingress, built on each replica
(``serve.ingress`` with a builder function: the app holds a thread pool and a metrics registry that
must not be pickled). The service is stateless, so replicas scale freely: Ray Serve's autoscaler
adds replicas when the requests in flight per replica pass ``target_ongoing_requests``. Batching
stays the app's own (``Batcher``): it batches across the requests a replica holds, which is what
``serve.batch`` would do, without a second code path.

    serve run cloud_fallback.ray_app:app_builder token=SECRET max_replicas=4
    # or from Python: serve.run(build(ServerConfig(token=...), max_replicas=4))
"""

from __future__ import annotations

import os

from ray import serve
from ray.serve import Application

from cloud_fallback.server import ServerConfig, create_app
from models.catalog import installed_pairs


def build(config: ServerConfig, min_replicas: int = 1, max_replicas: int = 4, target_ongoing_requests: int = 16,
          cpus_per_replica: float = 1.0) -> Application:
    """A Ray Serve application serving ``config``'s app on autoscaled replicas."""
    def asgi_app():  # a plain function: Ray Serve calls it on each replica to build the app
        return create_app(config)

    deployment = serve.deployment(
        serve.ingress(asgi_app)(type("TranslateService", (), {})),
        name="ar-translate",
        autoscaling_config={"min_replicas": min_replicas, "max_replicas": max_replicas,
                            "target_ongoing_requests": target_ongoing_requests},
        max_ongoing_requests=4 * target_ongoing_requests,
        ray_actor_options={"num_cpus": cpus_per_replica},
    )
    return deployment.bind()


def app_builder(args: dict[str, str]) -> Application:
    """``serve run cloud_fallback.ray_app:app_builder token=... [model=...] [max_replicas=4]``."""
    token = args.get("token") or os.environ.get("AR_TRANSLATE_SERVER_TOKEN")
    if not token:
        raise ValueError("give token=... or set AR_TRANSLATE_SERVER_TOKEN")
    model = args.get("model")
    config = ServerConfig(token=token, model=model, pairs=installed_pairs(model))
    return build(config, min_replicas=int(args.get("min_replicas", 1)), max_replicas=int(args.get("max_replicas", 4)))
