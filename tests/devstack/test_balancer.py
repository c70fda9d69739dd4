"""devstack/balancer.py, the stand-in for Cloud Run spreading requests over a function's
instances: a real balancer process in front of two real HTTP servers standing in for two
instances of one function."""

from __future__ import annotations

import json
import threading
from collections import Counter
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest

from devstack.servers import LOOPBACK, free_port
from devstack.stack import BalancerServer, _inherited_env, parse_instances
from shared.catalogue import load_catalogue

STREAM = "/api/mitra/events"  # owned by whichever function serves the mitra stream


class Instance(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, name: str) -> None:
        super().__init__((LOOPBACK, 0), Handler)
        self.name = name
        self.served: Counter[str] = Counter()
        self.release = threading.Event()  # lets a held stream send its second frame


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: Instance

    def log_message(self, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        self.server.served[self.path] += 1
        if self.path.endswith("?hold=1"):
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for frame in (b"event: one\ndata: 1\n\n", b"event: two\ndata: 2\n\n"):
                self.wfile.write(b"%x\r\n%s\r\n" % (len(frame), frame))
                self.wfile.flush()
                self.server.release.wait(10)
            self.wfile.write(b"0\r\n\r\n")
            return
        body = json.dumps({"instance": self.server.name}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture
def instances(tmp_path: Path) -> Iterator[tuple[str, list[Instance]]]:
    pair = [Instance("a"), Instance("b")]
    for instance in pair:
        threading.Thread(target=instance.serve_forever, daemon=True).start()
    owner = load_catalogue().owner_of(STREAM, "public")
    assert owner is not None
    backends = {owner.name: [f"{LOOPBACK}:{i.server_address[1]}" for i in pair]}
    balancer = BalancerServer(free_port(), backends, _inherited_env(), tmp_path)
    balancer.start()
    try:
        yield balancer.url, pair
    finally:
        balancer.stop()
        for instance in pair:
            instance.release.set()
            instance.shutdown()
            instance.server_close()


def test_requests_are_spread_over_the_instances_in_turn(
    instances: tuple[str, list[Instance]],
) -> None:
    url, (a, b) = instances
    with httpx.Client(base_url=url, timeout=10) as http:
        answered = Counter(http.get(STREAM).json()["instance"] for _ in range(20))
    assert answered == {"a": 10, "b": 10}
    assert a.served[STREAM] == b.served[STREAM] == 10


def test_an_open_stream_is_relayed_frame_by_frame_and_counts_on_its_instance(
    instances: tuple[str, list[Instance]],
) -> None:
    url, pair = instances
    with (
        httpx.Client(base_url=url, timeout=10) as streamer,
        httpx.Client(base_url=url, timeout=10) as http,
        streamer.stream("GET", STREAM + "?hold=1") as stream,
    ):
        chunks = stream.iter_bytes()
        first = next(chunks)  # arrives while the instance still holds the second frame
        assert first == b"event: one\ndata: 1\n\n"
        holding = next(i for i in pair if i.served[STREAM + "?hold=1"])
        # Least in flight: every short request goes to the instance not holding the stream.
        answered = Counter(http.get(STREAM).json()["instance"] for _ in range(6))
        assert answered == {next(i.name for i in pair if i is not holding): 6}
        holding.release.set()
        assert b"".join(chunks) == b"event: two\ndata: 2\n\n"


def test_a_path_no_function_owns_is_the_contract_404(
    instances: tuple[str, list[Instance]],
) -> None:
    url, _ = instances
    with httpx.Client(base_url=url, timeout=10) as http:
        answer = http.get("/api/nowhere")
        again = http.get(STREAM)  # the connection is still good
    assert answer.status_code == 404
    assert answer.json()["error"]["code"] == "not_found"
    assert again.status_code == 200


def test_instance_counts_name_public_functions_only() -> None:
    public = load_catalogue().http_functions("public")[0].name
    assert parse_instances(f" {public}=3 ,") == {public: 3}
    for bad in ("admin=2", f"{public}=0", f"{public}=two", "nowhere=1"):
        with pytest.raises(ValueError, match="want <public function>=<count"):
            parse_instances(bad)
