"""The service on Ray Serve: a local Ray instance, the same app as the ingress of an autoscaled
deployment, answering real HTTP on 127.0.0.1."""

from __future__ import annotations

import json
import time

import pytest

from benchmarks.faults import free_port
from cloud_fallback.client import http_call
from models.catalog import find

ray = pytest.importorskip("ray", reason="the ray extra is not installed: pip install -e '.[ray]'")


def test_ray_serve_deployment_answers_like_the_plain_service():
    from ray import serve

    from cloud_fallback.ray_app import build
    from cloud_fallback.server import ServerConfig
    from models.catalog import installed_pairs

    port = free_port()
    app = build(ServerConfig(token="ray-token", pairs=installed_pairs()), max_replicas=2)
    deployment = app._bound_deployment
    assert deployment.name == "ar-translate"
    assert deployment._deployment_config.autoscaling_config.max_replicas == 2
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        serve.start(http_options={"host": "127.0.0.1", "port": port})
        serve.run(app, route_prefix="/")
        url = f"http://127.0.0.1:{port}"

        def post(body: dict, token: str | None = "ray-token"):
            headers = {"Content-Type": "application/json", **({"Authorization": f"Bearer {token}"} if token else {})}
            status, payload = http_call(url, "POST", "/v1/translate", json.dumps(body).encode(), headers,
                                        time.monotonic() + 120, 1 << 20)
            return status, json.loads(payload)

        assert post({"texts": ["Ausgang", "Kein Eingang"]}) == (
            200, {"translations": ["exit", "no entrance"], "model": f"ding-de-en-int8@{find('ding-de-en-int8').version}"})
        assert post({"texts": ["Ausgang"]}, token=None)[0] == 401
        assert post({"texts": ["Ausgang"], "source": "nl"})[0] == 404  # no nl→en model
        status, health = http_call(url, "GET", "/healthz", b"", {}, time.monotonic() + 30, 1 << 20)
        assert status == 200 and json.loads(health)["pairs"] == [f"{s}-{t}" for s, t in installed_pairs()]
    finally:
        serve.shutdown()
        ray.shutdown()
