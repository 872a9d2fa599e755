"""The cluster client against the recorded answers of a real kube-apiserver v1.36.2, replayed over loopback HTTP
(tests/replay.py): the `kubernetes` package does real requests and parses real bodies. Failures fail closed as one
located line: a bad token (401), an identity without rights (403), no answer, nothing listening, no kubeconfig."""

from __future__ import annotations

import pytest
from kubernetes import client as k8s

from compiler.cluster.client import connect, request, server_version
from compiler.errors import Location, SpecError
from helpers import free_port
from replay import ADMIN, ANONYMOUS, BAD_TOKEN, NO_RIGHTS, RECORDINGS, write_kubeconfig

WHERE = Location("environments/prod.yaml", 9, 11)


def _refusal(excinfo) -> str:
    [line] = str(excinfo.value).splitlines()
    assert line.startswith("environments/prod.yaml:9:11: cluster.server: ") and line.endswith("[E801]"), line
    return line


def test_the_client_reads_the_real_servers_version_and_lists(apiserver, tmp_path) -> None:
    connection = connect(write_kubeconfig(tmp_path / "kubeconfig", apiserver.url), None, WHERE)
    assert (connection.context, connection.server) == ("replay", apiserver.url)
    assert server_version(connection) == "v1.36.2"
    nodes = connection.call(k8s.CoreV1Api(connection.api).list_node, action="list nodes")
    assert sorted(n.metadata.name for n in nodes.items) == ["cpu-0", "gpu-a100-80gb-0", "gpu-a100-mig-0",
                                                             "gpu-t4-shared-0"]


@pytest.mark.parametrize(("identity", "expected"), [
    (BAD_TOKEN, "list nodes: 401 Unauthorized"),
    (NO_RIGHTS, 'list nodes: 403 nodes is forbidden: User "system:serviceaccount:recording-errors:no-rights" cannot '
                'list resource "nodes" in API group "" at the cluster scope'),
])
def test_a_refused_identity_fails_closed_at_the_environment(apiserver, tmp_path, identity, expected) -> None:
    connection = connect(write_kubeconfig(tmp_path / "kubeconfig", apiserver.url, identity), None, WHERE)
    with pytest.raises(SpecError) as excinfo:
        connection.call(k8s.CoreV1Api(connection.api).list_node, action="list nodes")
    line = _refusal(excinfo)
    assert expected in line and f"(context replay, {apiserver.url}); nothing was judged" in line
    assert "token" not in line.lower()


def test_anonymous_is_refused(apiserver, tmp_path) -> None:
    connection = connect(write_kubeconfig(tmp_path / "kubeconfig", apiserver.url, ANONYMOUS), None, WHERE)
    with pytest.raises(SpecError) as excinfo:
        connection.call(k8s.CoreV1Api(connection.api).list_namespace, action="list namespaces")
    assert 'list namespaces: 403 namespaces is forbidden: User "system:anonymous" cannot list' in _refusal(excinfo)


def test_a_server_that_never_answers(silent_server, tmp_path, monkeypatch) -> None:
    monkeypatch.setattr("compiler.cluster.client.TIMEOUT", (1, 1))
    monkeypatch.setattr("compiler.cluster.client.READ_SECONDS", 1)
    connection = connect(write_kubeconfig(tmp_path / "kubeconfig", silent_server), None, WHERE)
    with pytest.raises(SpecError) as excinfo:
        server_version(connection)
    assert "read the version: the API server did not answer within 1s" in _refusal(excinfo)


def test_nothing_listening(tmp_path) -> None:
    connection = connect(write_kubeconfig(tmp_path / "kubeconfig", f"http://127.0.0.1:{free_port()}"), None, WHERE)
    with pytest.raises(SpecError) as excinfo:
        server_version(connection)
    assert "read the version: cannot reach the API server (" in _refusal(excinfo)


def test_no_usable_kubeconfig(tmp_path) -> None:
    with pytest.raises(SpecError) as excinfo:
        connect(tmp_path / "missing", None, WHERE)
    assert "no usable cluster credentials" in _refusal(excinfo)
    with pytest.raises(SpecError) as excinfo:
        connect(write_kubeconfig(tmp_path / "kubeconfig", "http://127.0.0.1:1"), "no-such-context", WHERE)
    assert "no usable cluster credentials" in _refusal(excinfo)


def test_admin_identity_is_the_default(apiserver, tmp_path) -> None:
    assert write_kubeconfig(tmp_path / "k", apiserver.url).read_text() == \
        write_kubeconfig(tmp_path / "k2", apiserver.url, ADMIN).read_text()


def test_a_dry_run_apply_returns_the_servers_verdict_and_warnings(apiserver, tmp_path) -> None:
    connection = connect(write_kubeconfig(tmp_path / "kubeconfig", apiserver.url), None, WHERE)
    failures = RECORDINGS / "dryrun" / "failures"
    query = {"dryRun": "All", "fieldManager": "mlgitops", "force": "true"}
    admitted = request(connection, "PATCH", "/apis/apps/v1/namespaces/psa-restricted-demo/deployments/debug",
                       action="dry-run", query=query, content_type="application/apply-patch+yaml",
                       body=(failures / "deployment-psa-restricted.apply.request.yaml").read_text())
    assert admitted.status == 201 and admitted.body["kind"] == "Deployment"
    assert admitted.warnings and all("restricted" in w for w in admitted.warnings), admitted.warnings
    refused = request(connection, "PATCH", "/apis/apps/v1/namespaces/ml-fraud-scorer/deployments/Fraud-Scorer",
                      action="dry-run", query=query, content_type="application/apply-patch+yaml",
                      body=(failures / "deployment-invalid-name.apply.request.yaml").read_text())
    assert refused.status == 422 and refused.body["reason"] == "Invalid"
