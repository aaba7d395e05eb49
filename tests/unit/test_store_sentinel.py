"""Redis through Sentinel (IDP_REDIS_URL=redis+sentinel://…): real redis-server processes of
the tests' own, a master, a replica and a Sentinel on free ports, started and killed here (the
pattern of tests/faults/conftest.py). The shared Redis is never touched.

A failover may make the store refuse service for a moment (StoreUnavailable, a 503), never
lose a write it acknowledged after the Sentinels named the new master, and never stay on the
old master."""

from __future__ import annotations

import datetime
import ipaddress
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import redis

from idp.settings import Settings, SettingsError, parse_sentinel_url
from idp.store import (
    SENTINEL_RECHECK,
    RedisStore,
    StoreUnavailable,
    _sentinel_client,
    create_store,
)
from tests.conftest import free_port

SERVICE = "mymaster"


def _wait(check: Callable[[], Any], what: str, seconds: float = 20.0) -> Any:
    """Poll a server we started until `check` holds (bounded; not a timing assertion)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            result = check()
            if result:
                return result
        except (redis.RedisError, OSError):
            pass  # not up yet
        time.sleep(0.05)
    raise RuntimeError(f"{what}: not within {seconds} s")


class Cluster:
    """redis-server processes on ports of their own, each in a directory of its own."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.processes: list[subprocess.Popen[bytes]] = []
        self.clients: list[redis.Redis] = []

    def _start(self, name: str, args: list[str]) -> None:
        self.processes.append(subprocess.Popen(
            ["redis-server", *args], cwd=self.workdir / name,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))

    def client(self, port: int, **options: Any) -> redis.Redis:
        made = redis.Redis(host="127.0.0.1", port=port, socket_timeout=2,
                           decode_responses=True, **options)
        self.clients.append(made)
        return made

    def data_node(self, replica_of: int | None = None, tls: dict[str, str] | None = None) -> int:
        """A master, or a replica of the master on port `replica_of`; no persistence."""
        port = free_port()
        name = f"node{port}"
        (self.workdir / name).mkdir()
        args = ["--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                "--repl-diskless-sync-delay", "0"]
        if tls:
            args += ["--port", "0", "--tls-port", str(port), "--tls-auth-clients", "no",
                     "--tls-replication", "yes"] + [a for k, v in tls.items() for a in (k, v)]
        else:
            args += ["--port", str(port)]
        if replica_of is not None:
            args += ["--replicaof", "127.0.0.1", str(replica_of)]
        self._start(name, args)
        options = {"ssl": True, "ssl_ca_certs": tls["--tls-ca-cert-file"]} if tls else {}
        node = self.client(port, **options)
        _wait(node.ping, f"redis-server on {port}")
        if replica_of is not None:
            _wait(lambda: node.info("replication")["master_link_status"] == "up",
                  f"replica on {port} in sync")
        return port

    def sentinel(self, master: int, tls: dict[str, str] | None = None) -> int:
        """A Sentinel watching `master` as SERVICE, alone (quorum 1)."""
        port = free_port()
        name = f"sentinel{port}"
        (self.workdir / name).mkdir()
        lines = ["bind 127.0.0.1", f"dir {self.workdir / name}",
                 f"sentinel monitor {SERVICE} 127.0.0.1 {master} 1",
                 f"sentinel down-after-milliseconds {SERVICE} 1000",
                 f"sentinel failover-timeout {SERVICE} 2000"]
        if tls:
            lines += ["port 0", f"tls-port {port}", "tls-auth-clients no", "tls-replication yes"]
            lines += [f"{k[2:]} {v}" for k, v in tls.items()]
        else:
            lines.append(f"port {port}")
        config = self.workdir / name / "sentinel.conf"
        config.write_text("\n".join(lines) + "\n")
        self._start(name, [str(config), "--sentinel"])
        options = {"ssl": True, "ssl_ca_certs": tls["--tls-ca-cert-file"]} if tls else {}
        _wait(lambda: self.client(port, **options).sentinel_get_master_addr_by_name(SERVICE),
              f"Sentinel on {port}")
        return port

    def stop(self) -> None:
        for made in self.clients:
            made.close()
        for process in self.processes:
            process.kill()
            process.wait(timeout=10)


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[Cluster]:
    started = Cluster(tmp_path)
    try:
        yield started
    finally:
        started.stop()


def _master_port(sentinel: redis.Redis) -> int:
    return int(sentinel.sentinel_get_master_addr_by_name(SERVICE)[1])


def _write(store: RedisStore, key: str, value: str) -> int:
    """Set through the store until it answers (bounded); the number of refusals."""
    refusals = 0
    for _ in range(20):
        try:
            store.set(key, value, 60)
            return refusals
        except StoreUnavailable:
            refusals += 1
            time.sleep(0.1)
    raise AssertionError(f"the store refused {refusals} writes in a row")


def test_store_through_sentinel_uses_the_masters_database(cluster):
    master = cluster.data_node()
    sentinel = cluster.sentinel(master)
    store = create_store(f"redis+sentinel://127.0.0.1:{sentinel}/{SERVICE}/3",
                         prefix="sentinel-test:")
    assert isinstance(store, RedisStore)
    assert store.kind == "redis"
    assert store.ping() is True

    store.set("k", "v", 60)
    assert store.get("k") == "v"
    assert store.add("k", "other", 60) is False
    assert store.compare_and_set("k", "v", "w", 60) is True
    assert store.compare_and_set("k", "v", "x", 60) is False
    assert store.getdel("k") == "w"
    assert store.getdel("k") is None
    assert [store.incr("n", 60) for _ in range(3)] == [1, 2, 3]
    store.sadd("s", "a", 60)
    assert store.smembers("s") == {"a"}

    db3 = cluster.client(master, db=3)
    assert db3.get("sentinel-test:n") == "3"
    assert 0 < db3.ttl("sentinel-test:n") <= 60
    assert cluster.client(master, db=0).exists("sentinel-test:n") == 0
    # CONFIG GET reaches the master through Sentinel: these test servers run without AOF.
    assert any("appendonly is off" in w for w in store.server_warnings())


def test_the_store_follows_a_failover_to_the_new_master(cluster):
    old = cluster.data_node()
    new = cluster.data_node(replica_of=old)
    sentinel_port = cluster.sentinel(old)
    sentinel = cluster.client(sentinel_port)

    def replica_ready() -> bool:
        return any(int(r["port"]) == new and r["is_slave"] and not r["is_sdown"]
                   and not r["is_disconnected"] and r["master-link-status"] == "ok"
                   for r in sentinel.sentinel_slaves(SERVICE))

    _wait(replica_ready, "the Sentinel knows the replica")
    url = f"redis+sentinel://127.0.0.1:{sentinel_port}/{SERVICE}/3"
    store = create_store(url, prefix="failover:")
    # The same client, but asking the Sentinels only when a connection breaks: it must leave
    # a master that was turned into a replica (READONLY) for the new one.
    errors_only = RedisStore(url, prefix="failover:",
                             client=_sentinel_client(url, 0.5, recheck=3600))
    assert isinstance(store, RedisStore)
    for each in (store, errors_only):
        each.pause = 0.0  # every StoreUnavailable below is a real refusal
        each.set("before", "1", 60)  # a pooled connection to the old master
    assert cluster.client(old, db=3).get("failover:before") == "1"

    _wait(lambda: sentinel.execute_command("SENTINEL", "FAILOVER", SERVICE),
          "the Sentinel accepts the failover")
    _wait(lambda: _master_port(sentinel) == new, "the Sentinel names the replica master")

    # The old master still takes writes until the Sentinel turns it into a replica, some
    # seconds later; the store asks the Sentinels again once SENTINEL_RECHECK has passed.
    time.sleep(SENTINEL_RECHECK + 0.05)
    assert _write(store, "after", "2") <= 1
    assert cluster.client(new, db=3).get("failover:after") == "2"
    assert store.incr("count", 60) == 1
    assert store.compare_and_set("after", "2", "3", 60) is True
    assert cluster.client(new, db=3).get("failover:after") == "3"

    # What the Sentinel does to the old master later, now: it becomes a replica. The client
    # that asks the Sentinels only on errors meets READONLY; redis-py's immediate retry goes
    # back to the same address, so that write may be refused once, and the next one reaches
    # the new master.
    cluster.client(old).replicaof("127.0.0.1", new)
    _wait(lambda: cluster.client(old).info("replication")["role"] == "slave",
          "the old master is a replica")
    assert _write(errors_only, "after-readonly", "4") <= 1
    assert cluster.client(new, db=3).get("failover:after-readonly") == "4"
    assert errors_only.getdel("after-readonly") == "4"
    assert errors_only.incr("count", 60) == 2


def test_no_sentinel_answering_is_a_refusal(cluster):
    store = create_store(f"redis+sentinel://127.0.0.1:{free_port()}/{SERVICE}")
    assert store.ping() is False
    with pytest.raises(StoreUnavailable):
        store.set("k", "v", 60)


def _certificates(directory: Path) -> dict[str, str]:
    """A CA and a certificate for 127.0.0.1 that it signed, as redis-server TLS options."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = datetime.datetime.now(datetime.UTC)

    def certificate(subject: str, key: Any, issuer: str, signer: Any, ca: bool) -> Any:
        builder = (x509.CertificateBuilder()
                   .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
                   .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer)]))
                   .public_key(key.public_key()).serial_number(x509.random_serial_number())
                   .not_valid_before(now - datetime.timedelta(minutes=5))
                   .not_valid_after(now + datetime.timedelta(hours=1))
                   .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
        if not ca:
            builder = builder.add_extension(x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        return builder.sign(signer, hashes.SHA256())

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = certificate("test CA", ca_key, "test CA", ca_key, ca=True)
    key = ec.generate_private_key(ec.SECP256R1())
    cert = certificate("127.0.0.1", key, "test CA", ca_key, ca=False)
    files = {"--tls-ca-cert-file": directory / "ca.pem", "--tls-cert-file": directory / "node.pem",
             "--tls-key-file": directory / "node.key"}
    files["--tls-ca-cert-file"].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    files["--tls-cert-file"].write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    files["--tls-key-file"].write_bytes(key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()))
    return {option: str(path) for option, path in files.items()}


def test_rediss_sentinel_speaks_tls_to_the_sentinels_and_the_master(cluster, tmp_path):
    tls = _certificates(tmp_path)
    master = cluster.data_node(tls=tls)
    sentinel = cluster.sentinel(master, tls=tls)
    store = create_store(f"rediss+sentinel://127.0.0.1:{sentinel}/{SERVICE}/2"
                         f"?ssl_ca_certs={tls['--tls-ca-cert-file']}", prefix="tls:")
    store.set("k", "v", 60)
    assert store.get("k") == "v"
    assert cluster.client(master, db=2, ssl=True,
                          ssl_ca_certs=tls["--tls-ca-cert-file"]).get("tls:k") == "v"
    # Without TLS the same Sentinel does not answer: the store refuses, it does not fall back.
    plain = create_store(f"redis+sentinel://127.0.0.1:{sentinel}/{SERVICE}/2")
    assert plain.ping() is False


def test_sentinel_urls_parse_into_their_parts():
    parsed = parse_sentinel_url(
        "rediss+sentinel://idp:p%40ss@s1.internal,s2.internal:26380,[fd00::3]:26381/cache/4"
        "?sentinel_password=s%2Fecret&sentinel_username=watcher&ssl_ca_certs=/etc/idp/ca.pem")
    assert parsed.sentinels == (("s1.internal", 26379), ("s2.internal", 26380),
                                ("fd00::3", 26381))
    assert (parsed.service, parsed.db, parsed.tls) == ("cache", 4, True)
    assert (parsed.username, parsed.password) == ("idp", "p@ss")
    assert (parsed.sentinel_username, parsed.sentinel_password) == ("watcher", "s/ecret")
    assert parsed.ssl_ca_certs == "/etc/idp/ca.pem"
    assert "p@ss" not in repr(parsed) and "s/ecret" not in repr(parsed)
    plain = parse_sentinel_url("redis+sentinel://:secret@h1:26379,h2:26379,h3:26379/mymaster/")
    assert (plain.service, plain.db, plain.tls, plain.password) == ("mymaster", 0, False,
                                                                   "secret")
    assert plain.username is None


@pytest.mark.parametrize("url", [
    "redis+sentinel://127.0.0.1:26379/mymaster",
    "redis+sentinel://:pw@a:26379,b:26379,c:26379/mymaster/15?sentinel_password=x",
    "rediss+sentinel://a,b,c/mymaster?ssl_ca_certs=/etc/ssl/ca.pem",
    "redis://127.0.0.1:6379/0",
])
def test_settings_accept_good_redis_urls(url):
    assert Settings.from_env({"IDP_REDIS_URL": url}).redis_url == url


@pytest.mark.parametrize(("url", "message"), [
    ("redis+sentinel://127.0.0.1:26379", r"names no Sentinel service: put the master's name"),
    ("redis+sentinel://127.0.0.1:26379/", r"names no Sentinel service"),
    ("redis+sentinel:///mymaster", r"names no Sentinel: list them as host:port,host:port"),
    ("redis+sentinel://:pw@/mymaster", r"names no Sentinel: list them"),
    ("redis+sentinel://a:26379,b:port/mymaster",
     r"has a bad Sentinel port \(address number 2 in the list\): a port is a number from 1 "
     r"to 65535"),
    ("redis+sentinel://a:70000/mymaster", r"has a bad Sentinel port \(address number 1"),
    ("redis+sentinel://a:26379,,b:26379/mymaster",
     r"has a bad Sentinel address \(number 2 in the list\)"),
    ("redis+sentinel://a/mymaster/zero", r"has a bad database after the service name"),
    ("redis+sentinel://a/mymaster/1/2", r"has more than a service name and a database number"),
    ("redis+sentinel://a/mymaster?password=x", r"has an unknown parameter 'password'"),
    ("redis+sentinel://a/mymaster?ssl_ca_certs=/ca.pem", r"sets ssl_ca_certs without TLS"),
    ("sentinel://a/mymaster", r"must be a redis://, rediss:// or redis\+sentinel:// URL"),
])
def test_settings_refuse_bad_sentinel_urls(url, message):
    with pytest.raises(SettingsError, match="^IDP_REDIS_URL " + message) as refused:
        Settings.from_env({"IDP_REDIS_URL": url})
    assert "pw" not in str(refused.value)
