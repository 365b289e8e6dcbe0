"""docker-py (Debian's python3-docker) driving `berth serve` through its own API.

Run by test/integration/docker-py.test.ts, which starts the server on a temporary store and
sets DOCKER_HOST to its socket, BERTH_TEST_IMAGE to a busybox image made offline in that store
and BERTH_TEST_REGISTRY to a registry on 127.0.0.1.
"""

import io
import os
import tarfile
import time

import docker
import pytest

IMAGE = os.environ["BERTH_TEST_IMAGE"]
REGISTRY = os.environ["BERTH_TEST_REGISTRY"]


@pytest.fixture(scope="module")
def client():
    c = docker.from_env(timeout=120)
    yield c
    c.close()


@pytest.fixture
def cleanup(client):
    made = []
    yield made
    for kind, ident in reversed(made):
        try:
            if kind == "container":
                client.api.remove_container(ident, force=True, v=True)
            elif kind == "image":
                client.api.remove_image(ident, force=True)
            elif kind == "volume":
                client.api.remove_volume(ident, force=True)
            elif kind == "network":
                client.api.remove_network(ident)
        except docker.errors.NotFound:
            pass


def run(client, cleanup, command, **kw):
    c = client.containers.run(IMAGE, command, detach=True, **kw)
    cleanup.append(("container", c.id))
    return c


def output(client, image, command=None, **kw):
    """A foreground run's output (see test_run_foreground): run, wait, logs, remove."""
    c = client.containers.run(image, command, detach=True, **kw)
    try:
        status = c.wait(timeout=60)["StatusCode"]
        out = c.logs()
        assert status == 0, out
        return out
    finally:
        c.remove(force=True)


def tar_of(files):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as t:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mode = 0o644
            info.mtime = int(time.time())
            t.addfile(info, io.BytesIO(data))
    buf.seek(0)
    return buf


def test_ping_and_version(client):
    assert client.ping() is True
    v = client.version()
    assert v["Os"] == "linux"
    assert v["ApiVersion"]


def test_run_detached_logs_and_wait(client, cleanup):
    c = run(client, cleanup, ["sh", "-c", "echo out; echo err >&2; exit 3"])
    assert c.wait(timeout=60) == {"StatusCode": 3, "Error": None}
    assert c.logs(stdout=True, stderr=False) == b"out\n"
    assert c.logs(stdout=False, stderr=True) == b"err\n"
    both = c.logs()
    assert sorted(both.splitlines()) == [b"err", b"out"]
    c.reload()
    assert c.status == "exited"
    assert c.attrs["State"]["ExitCode"] == 3


def test_run_foreground(client, cleanup):
    # docker-py returns a foreground run's output only for the json-file and journald log
    # drivers; berth's containers log in conmon's k8s-file format (docs/compatibility.md), so
    # the output is read with logs() and run() returns None.
    cleanup.append(("container", "dockerpy-fg"))
    c = client.containers.run(IMAGE, ["echo", "hello from berth"], name="dockerpy-fg")
    assert c is None
    assert client.containers.get("dockerpy-fg").logs() == b"hello from berth\n"


def test_run_foreground_failure_raises_container_error(client):
    with pytest.raises(docker.errors.ContainerError) as e:
        client.containers.run(IMAGE, ["sh", "-c", "echo bad >&2; exit 2"], remove=True)
    assert e.value.exit_status == 2


def test_attach_streams(client, cleanup):
    c = client.containers.create(
        IMAGE, ["sh", "-c", "read line; echo got:$line; echo warn >&2"], stdin_open=True
    )
    cleanup.append(("container", c.id))
    sock = client.api.attach_socket(c.id, params={"stdin": 1, "stdout": 1, "stderr": 1, "stream": 1})
    c.start()
    raw = sock._sock
    raw.sendall(b"ping\n")
    frames = {1: b"", 2: b""}
    data = b""
    deadline = time.time() + 30
    while time.time() < deadline:
        chunk = raw.recv(4096)
        if not chunk:
            break
        data += chunk
    while len(data) >= 8:
        stream, size = data[0], int.from_bytes(data[4:8], "big")
        frames[stream] += data[8 : 8 + size]
        data = data[8 + size :]
    sock.close()
    assert frames[1] == b"got:ping\n"
    assert frames[2] == b"warn\n"
    assert c.wait(timeout=60)["StatusCode"] == 0


def test_attach_stream_generator(client, cleanup):
    c = client.containers.create(IMAGE, ["sh", "-c", "for i in 1 2 3; do echo line$i; done"])
    cleanup.append(("container", c.id))
    stream = c.attach(stdout=True, stderr=True, stream=True, logs=True)
    c.start()
    out = b"".join(stream)
    assert out == b"line1\nline2\nline3\n"


def test_exec_demux(client, cleanup):
    c = run(client, cleanup, ["sleep", "300"])
    code, (out, err) = c.exec_run(["sh", "-c", "echo to-out; echo to-err >&2; exit 4"], demux=True)
    assert code == 4
    assert out == b"to-out\n"
    assert err == b"to-err\n"
    code, out = c.exec_run(["cat", "/etc/hostname"], workdir="/", environment={"A": "b"})
    assert code == 0
    assert out.strip() == c.id[:12].encode()
    code, out = c.exec_run(["sh", "-c", "echo $A"], environment={"A": "b"})
    assert out == b"b\n"
    c.kill()


def test_put_and_get_archive(client, cleanup):
    c = run(client, cleanup, ["sleep", "300"])
    assert c.put_archive("/tmp", tar_of({"hello.txt": b"hello archive\n"})) is True
    code, out = c.exec_run(["cat", "/tmp/hello.txt"])
    assert out == b"hello archive\n"
    bits, stat = c.get_archive("/tmp/hello.txt")
    assert stat["name"] == "hello.txt"
    assert stat["size"] == len(b"hello archive\n")
    buf = io.BytesIO(b"".join(bits))
    with tarfile.open(fileobj=buf) as t:
        member = t.getmember("hello.txt")
        assert t.extractfile(member).read() == b"hello archive\n"
    with pytest.raises(docker.errors.NotFound):
        c.get_archive("/no/such/path")
    c.kill()


def test_stats_one_shot(client, cleanup):
    c = run(client, cleanup, ["sleep", "300"])
    s = c.stats(stream=False)
    assert s["id"] == c.id
    assert s["memory_stats"]["usage"] > 0
    assert "cpu_usage" in s["cpu_stats"]
    c.kill()


def test_container_list_and_remove(client, cleanup):
    c = run(client, cleanup, ["sleep", "300"], labels={"berth.test": "list"}, name="dockerpy-list")
    found = client.containers.list(filters={"label": "berth.test=list"})
    assert [x.id for x in found] == [c.id]
    assert found[0].name == "dockerpy-list"
    with pytest.raises(docker.errors.APIError) as e:
        c.remove()
    assert e.value.status_code == 409
    c.remove(force=True)
    with pytest.raises(docker.errors.NotFound):
        client.containers.get(c.id)


def test_not_found_errors(client):
    with pytest.raises(docker.errors.NotFound):
        client.containers.get("no-such-container-berth")
    with pytest.raises(docker.errors.ImageNotFound):
        client.images.get("no-such-image-berth:latest")


def test_build_with_fileobj_context(client, cleanup):
    dockerfile = (
        f"FROM {IMAGE}\nCOPY greeting.txt /greeting.txt\nLABEL berth.test=build\n"
        'CMD ["cat", "/greeting.txt"]\n'
    ).encode()
    ctx = tar_of({"Dockerfile": dockerfile, "greeting.txt": b"built by docker-py\n"})
    image, logs = client.images.build(fileobj=ctx, custom_context=True, tag="dockerpy-built:1", rm=True)
    cleanup.append(("image", "dockerpy-built:1"))
    assert "dockerpy-built:1" in image.tags
    assert any("stream" in entry for entry in logs)
    assert image.labels["berth.test"] == "build"
    out = output(client, "dockerpy-built:1")
    assert out == b"built by docker-py\n"


def test_build_with_path_context(client, cleanup, tmp_path):
    (tmp_path / "Dockerfile").write_text(f"FROM {IMAGE}\nARG WHO\nRUN echo $WHO > /who\n")
    image, _ = client.images.build(path=str(tmp_path), tag="dockerpy-path:1", buildargs={"WHO": "py"})
    cleanup.append(("image", "dockerpy-path:1"))
    out = output(client, "dockerpy-path:1", ["cat", "/who"])
    assert out == b"py\n"


def test_build_failure_raises_build_error(client):
    ctx = tar_of({"Dockerfile": f"FROM {IMAGE}\nRUN exit 7\n".encode()})
    with pytest.raises(docker.errors.BuildError):
        client.images.build(fileobj=ctx, custom_context=True, tag="dockerpy-fails:1")


def test_images_list_filters_and_tag(client, cleanup):
    base = client.images.get(IMAGE)
    assert base.tag("dockerpy-tagged", "v2") is True
    cleanup.append(("image", "dockerpy-tagged:v2"))
    tagged = client.images.get("dockerpy-tagged:v2")
    assert tagged.id == base.id
    listed = client.images.list(name="dockerpy-tagged")
    assert [i.id for i in listed] == [base.id]
    assert "dockerpy-tagged:v2" in listed[0].tags
    by_ref = client.images.list(filters={"reference": "dockerpy-tagged:*"})
    assert [i.id for i in by_ref] == [base.id]
    dangling = client.images.list(filters={"dangling": True})
    assert base.id not in [i.id for i in dangling]


def test_save_and_load(client, cleanup):
    base = client.images.get(IMAGE)
    base.tag("dockerpy-saved", "1")
    data = b"".join(client.images.get("dockerpy-saved:1").save(named="dockerpy-saved:1"))
    with tarfile.open(fileobj=io.BytesIO(data)) as t:
        assert "manifest.json" in t.getnames()
    client.images.remove("dockerpy-saved:1")
    with pytest.raises(docker.errors.ImageNotFound):
        client.images.get("dockerpy-saved:1")
    loaded = client.images.load(data)
    cleanup.append(("image", "dockerpy-saved:1"))
    assert [i.id for i in loaded] == [base.id]
    assert client.images.get("dockerpy-saved:1").id == base.id


def test_push_and_pull_local_registry(client, cleanup):
    ref = f"{REGISTRY}/dockerpy/busybox"
    base = client.images.get(IMAGE)
    base.tag(ref, "v1")
    cleanup.append(("image", f"{ref}:v1"))
    lines = list(client.images.push(ref, tag="v1", stream=True, decode=True))
    assert not [ln for ln in lines if "error" in ln], lines
    assert any("aux" in ln and "Digest" in ln["aux"] for ln in lines)
    client.images.remove(f"{ref}:v1")
    pulled = client.images.pull(ref, tag="v1")
    assert pulled.id == base.id
    assert f"{ref}:v1" in pulled.tags
    with pytest.raises(docker.errors.NotFound):
        client.images.pull(ref, tag="missing")


def test_volumes(client, cleanup):
    v = client.volumes.create(name="dockerpy-vol", labels={"berth.test": "vol"})
    cleanup.append(("volume", v.name))
    assert v.attrs["Driver"] == "local"
    assert [x.name for x in client.volumes.list(filters={"label": "berth.test=vol"})] == ["dockerpy-vol"]
    output(client, IMAGE, ["sh", "-c", "echo kept > /data/f"], volumes={"dockerpy-vol": {"bind": "/data", "mode": "rw"}})
    out = output(client, IMAGE, ["cat", "/data/f"], volumes={"dockerpy-vol": {"bind": "/data", "mode": "ro"}})
    assert out == b"kept\n"
    assert client.volumes.get("dockerpy-vol").attrs["Labels"] == {"berth.test": "vol"}
    v.remove()
    with pytest.raises(docker.errors.NotFound):
        client.volumes.get("dockerpy-vol")


def test_networks(client, cleanup):
    n = client.networks.create("dockerpy-net", driver="bridge", labels={"berth.test": "net"})
    cleanup.append(("network", n.id))
    assert [x.id for x in client.networks.list(names=["dockerpy-net"])] == [n.id]
    server = run(client, cleanup, ["httpd", "-f", "-p", "8080", "-h", "/etc"], network="dockerpy-net", name="dockerpy-web")
    out = output(
        client,
        IMAGE,
        ["sh", "-c", "for i in $(seq 1 50); do wget -q -O - http://dockerpy-web:8080/hostname && exit 0; sleep 0.2; done; exit 1"],
        network="dockerpy-net",
    )
    assert out.strip() == server.id[:12].encode()
    other = run(client, cleanup, ["sleep", "300"])
    n.connect(other)
    n.reload()
    assert other.id in [c.id for c in n.containers]
    n.disconnect(other, force=True)
    n.reload()
    assert other.id not in [c.id for c in n.containers]
    server.remove(force=True)
    other.remove(force=True)
    n.remove()
    with pytest.raises(docker.errors.NotFound):
        client.networks.get(n.id)


def test_events_decoded_until(client, cleanup):
    since = int(time.time()) - 1
    c = run(client, cleanup, ["true"], labels={"berth.test": "events"})
    c.wait(timeout=60)
    until = int(time.time()) + 1
    events = list(
        client.events(since=since, until=until, decode=True, filters={"container": c.id})
    )
    actions = [e["Action"] for e in events if e.get("Type") == "container"]
    for wanted in ("create", "start", "die"):
        assert wanted in actions, actions
    assert all(e["Actor"]["ID"] == c.id for e in events)
    assert events[0]["Actor"]["Attributes"]["berth.test"] == "events"
