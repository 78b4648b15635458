"""Property tests (hypothesis) of what a hostile peer controls: the client's HTTP response parser, the
service's request handling (a real service in this process), and the archive unpacker."""

from __future__ import annotations

import io
import json
import time
import zipfile

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cloud_fallback.client import CloudUnavailable, _complete, _parse, http_call
from edge.errors import PullError
from models.pull import safe_extract

TOKEN = "fuzz"
json_values = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
                           lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=10), inner, max_size=5),
                           max_leaves=20)


@given(st.binary(max_size=400))
@settings(max_examples=400, deadline=None)
def test_the_client_parser_returns_a_status_or_says_cloud_unavailable_for_any_bytes(data):
    _complete(bytearray(data))  # never raises
    try:
        status, body = _parse(data)
    except CloudUnavailable:
        return
    assert 0 <= status and isinstance(body, bytes)


@given(st.sampled_from([b"HTTP/1.1 200 OK", b"HTTP/1.0 503 x", b"HTTP/1.1 abc", b"FOO 200"]),
       st.lists(st.binary(min_size=1, max_size=30).filter(lambda h: b"\r" not in h and b"\n" not in h), max_size=4),
       st.binary(max_size=60))
@settings(max_examples=200, deadline=None)
def test_the_client_parser_on_response_shaped_bytes(status_line, headers, body):
    data = status_line + b"".join(b"\r\n" + h for h in headers) + b"\r\n\r\n" + body
    try:
        status, rest = _parse(data)
    except CloudUnavailable:
        assert not status_line.startswith(b"HTTP/1.1 200") and not status_line.startswith(b"HTTP/1.0 503")
        return
    assert rest == body and status in (200, 503)


@pytest.fixture(scope="module")
def service_url():
    from cloud_fallback.server import BackgroundServer, ServerConfig, create_app

    with BackgroundServer(create_app(ServerConfig(token=TOKEN))) as url:
        yield url


@given(st.one_of(json_values.map(lambda v: json.dumps(v).encode()), st.binary(max_size=200)),
       st.sampled_from(["/v1/translate", "/v1/recognize", "/v1/recognize?source=de&target=en", "/v1/translate?x=1"]),
       st.sampled_from(["application/json", "image/png", "image/jpeg", "text/plain"]))
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_the_service_answers_any_request_body_with_json_and_never_a_500(service_url, body, path, ctype):
    headers = {"Content-Type": ctype, "Authorization": f"Bearer {TOKEN}"}
    status, payload = http_call(service_url, "POST", path, body, headers, time.monotonic() + 30, 1 << 22)
    assert status < 500 or status == 503, (status, payload[:200])
    answer = json.loads(payload)
    assert isinstance(answer, dict) and (status == 200 or answer.get("detail"))


member_names = st.lists(st.text(alphabet=st.sampled_from(list("ab./\\:..C")), min_size=1, max_size=12), min_size=1, max_size=5)


@pytest.mark.filterwarnings("ignore:Duplicate name")
@given(member_names)
@settings(max_examples=200, deadline=None)
def test_the_unpacker_refuses_or_keeps_every_member_inside_the_install_folder(tmp_path_factory, names):
    folder = tmp_path_factory.mktemp("unzip")
    archive = folder / "a.zip"
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        for name in names:
            zf.writestr(zipfile.ZipInfo(name), b"x")
    archive.write_bytes(buffer.getvalue())
    dest = folder / "dest"
    try:
        safe_extract(archive, dest)  # found by this test: clashing members ("C" and "C/") escaped as OSError
    except PullError:
        pass  # refused with a one-line reason (pull() then removes its staging folder)
    for path in folder.rglob("*"):  # either way nothing was written outside dest (besides the archive itself)
        assert path == archive or path == dest or dest in path.parents, path
