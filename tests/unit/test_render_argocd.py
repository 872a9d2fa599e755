"""Argo CD objects: one AppProject per team, one Application per system, the root app of apps, per environment."""

from __future__ import annotations

import lzma
from pathlib import Path

import jsonschema
import pytest
import yaml

from compiler.driver import Workspace, compile_all, load_environments, validate_all
from compiler.emit import ARGOCD_DIR, assemble_argocd
from compiler.render.argocd import ROOT_KINDS, render_application, render_projects
from helpers import ROOT, edit, require_shared_schemas, run_cli, schema_errors

# The examples: fraud-scorer is a Deployment scaled by KEDA; the KServe systems' replicas are KServe's own business.
AUTOSCALED = {"fraud-scorer": True, "recommender": False, "support-assistant": False}
TEAMS = {"fraud-scorer": "payments-risk", "recommender": "personalization", "support-assistant": "customer-ai"}


def _argocd(environment, systems: list, autoscaled: dict[str, bool]) -> list[dict]:
    """`_argocd/` of one environment, assembled as `compile_all` does."""
    return assemble_argocd(render_projects(environment, systems),
                           [render_application(environment, s, autoscaled[s.name]) for s in systems])


def _render(repo: Path, autoscaled: dict[str, bool] | None = None) -> dict[str, list[dict]]:
    """The Argo CD objects of every environment, by environment name."""
    ws = Workspace(repo)
    environments = load_environments(ws)
    envs, systems = validate_all(ws)
    return {env: _argocd(environments[env], [s for s in systems if s.env == env], autoscaled or AUTOSCALED)
            for env in envs}


def _named(objects: list[dict], kind: str) -> dict[str, dict]:
    return {o["metadata"]["name"]: o for o in objects if o["kind"] == kind}


def _group(api_version: str) -> str:
    return api_version.rpartition("/")[0]


@pytest.fixture
def rendered(repo: Path) -> dict[str, list[dict]]:
    return _render(repo)


def test_a_compile_writes_what_these_tests_render(repo: Path, rendered: dict[str, list[dict]]) -> None:
    """The tests below read `_render`; a compile's `_argocd/` units are those very objects."""
    assert {u.env: u.objects for u in compile_all(Workspace(repo)).units if u.system == ARGOCD_DIR} == rendered


def test_every_object_is_valid_labelled_and_in_the_argocd_namespace(rendered: dict[str, list[dict]]) -> None:
    require_shared_schemas()
    assert sorted(rendered) == ["dev", "prod", "staging"]
    for env, objects in rendered.items():
        assert [(o["kind"], o["metadata"]["name"]) for o in objects] == sorted(
            ((o["kind"], o["metadata"]["name"]) for o in objects), key=lambda k: (k[0] != "AppProject", k[1]))
        assert len(objects) == 3 + 3 + 2  # team projects, applications, the root app and its project
        for obj in objects:
            meta = obj["metadata"]
            assert schema_errors(obj) == [], meta["name"]
            assert obj["apiVersion"] == "argoproj.io/v1alpha1"
            assert meta["namespace"] == "argocd"
            assert meta["labels"]["app.kubernetes.io/managed-by"] == "mlgitops"
            assert meta["labels"]["mlgitops.io/env"] == env
            assert meta["annotations"]["mlgitops.io/source"] in (f"environments/{env}.yaml",
                                                                 f"spec/{meta['name'].removeprefix(env + '-')}.yaml")


def test_automated_sync_prune_and_self_heal_only_where_the_environment_allows(
        rendered: dict[str, list[dict]]) -> None:
    for env, auto in (("dev", True), ("staging", True), ("prod", False)):
        for name, app in _named(rendered[env], "Application").items():
            policy = app["spec"]["syncPolicy"]
            assert "CreateNamespace=true" not in policy["syncOptions"]  # the output holds the Namespace itself
            assert {"PruneLast=true", "ApplyOutOfSyncOnly=true"} <= set(policy["syncOptions"])
            if auto:
                assert policy["automated"] == {"prune": True, "selfHeal": True}, name
                assert policy["retry"]["limit"] > 0 and policy["retry"]["backoff"]["factor"] == 2
            else:
                assert "automated" not in policy and "retry" not in policy, name
            # Cascade delete follows automation, and never on the root app.
            root = name == f"mlgitops-{env}"
            wanted = ["resources-finalizer.argocd.argoproj.io"] if auto and not root else None
            assert app["metadata"].get("finalizers") == wanted, name


def test_one_project_per_team_with_exactly_its_namespaces(repo: Path) -> None:
    # A second system of the personalization team shares its project.
    (repo / "spec" / "ranker.yaml").write_text((repo / "spec" / "recommender.yaml").read_text())
    edit(repo, "spec/ranker.yaml", "name: recommender\n", "name: ranker\n")
    rendered = _render(repo, {**AUTOSCALED, "ranker": False})
    for env, objects in rendered.items():
        server = f"https://{env}-eu.k8s.example.com"
        projects = _named(objects, "AppProject")
        assert sorted(projects) == sorted([f"{env}-customer-ai", f"{env}-payments-risk", f"{env}-personalization",
                                           f"mlgitops-{env}"])
        wanted = {"customer-ai": ["ml-support-assistant"], "payments-risk": ["ml-fraud-scorer"],
                  "personalization": ["ml-ranker", "ml-recommender"]}
        for team, namespaces in wanted.items():
            project = projects[f"{env}-{team}"]
            spec = project["spec"]
            assert project["metadata"]["labels"]["mlgitops.io/team"] == team
            assert team in spec["description"]
            assert spec["sourceRepos"] == ["https://github.com/example/ml-platform.git"]
            assert spec["destinations"] == [{"server": server, "namespace": ns} for ns in namespaces]
            assert spec["clusterResourceWhitelist"] == [{"group": "", "kind": "Namespace", "name": ns}
                                                        for ns in namespaces]
            allowed = {(r["group"], r["kind"]) for r in spec["namespaceResourceWhitelist"]}
            assert ("", "Secret") not in allowed and not any(k == "*" for _, k in allowed)
            assert not any(g == "argoproj.io" and k in ("Application", "AppProject") for g, k in allowed)
            assert project["metadata"]["annotations"]["argocd.argoproj.io/sync-wave"] == "-1"
        assert _named(objects, "Application")[f"{env}-ranker"]["spec"]["project"] == f"{env}-personalization"


def test_each_application_syncs_its_generated_directory_into_its_namespace(rendered: dict[str, list[dict]]) -> None:
    for env, objects in rendered.items():
        apps = _named(objects, "Application")
        assert sorted(apps) == sorted([f"{env}-{s}" for s in TEAMS] + [f"mlgitops-{env}"])
        for system, team in TEAMS.items():
            app = apps[f"{env}-{system}"]
            assert app["spec"]["project"] == f"{env}-{team}"
            assert app["spec"]["source"] == {"repoURL": "https://github.com/example/ml-platform.git",
                                             "targetRevision": "main", "path": f"generated/{env}/{system}"}
            assert app["spec"]["destination"] == {"server": f"https://{env}-eu.k8s.example.com",
                                                  "namespace": f"ml-{system}"}
            labels, annotations = app["metadata"]["labels"], app["metadata"]["annotations"]
            assert labels["app.kubernetes.io/part-of"] == system
            assert labels["mlgitops.io/team"] == team
            assert annotations["mlgitops.io/source"] == f"spec/{system}.yaml"
            assert annotations["argocd.argoproj.io/sync-wave"] == "0"  # after the projects (-1)


def test_ignore_replicas_only_where_an_autoscaler_owns_them(repo: Path) -> None:
    # `autoscaled` as the pipeline can derive it: the system rendered an HPA or a KEDA ScaledObject.
    units = compile_all(Workspace(repo)).units
    autoscaled = {u.system: any(o["kind"] in ("HorizontalPodAutoscaler", "ScaledObject") for o in u.objects)
                  for u in units if u.env == "prod" and u.system != ARGOCD_DIR}
    assert autoscaled == AUTOSCALED
    rendered = _render(repo, autoscaled)
    for env, objects in rendered.items():
        for system, owned in autoscaled.items():
            spec = _named(objects, "Application")[f"{env}-{system}"]["spec"]
            if owned:
                assert spec["ignoreDifferences"] == [{"group": "apps", "kind": "Deployment",
                                                      "jsonPointers": ["/spec/replicas"]}]
                assert "RespectIgnoreDifferences=true" in spec["syncPolicy"]["syncOptions"]
            else:
                assert "ignoreDifferences" not in spec
                assert "RespectIgnoreDifferences=true" not in spec["syncPolicy"]["syncOptions"]


def test_root_app_of_apps_syncs_the_argocd_directory_into_argo_cds_own_cluster(
        rendered: dict[str, list[dict]]) -> None:
    for env, objects in rendered.items():
        root = _named(objects, "Application")[f"mlgitops-{env}"]
        assert root["spec"]["project"] == f"mlgitops-{env}"
        assert root["spec"]["source"]["path"] == f"generated/{env}/_argocd"
        assert root["spec"]["destination"] == {"server": "https://kubernetes.default.svc", "namespace": "argocd"}
        assert root["metadata"]["annotations"]["mlgitops.io/source"] == f"environments/{env}.yaml"
        assert ("automated" in root["spec"]["syncPolicy"]) is (env != "prod")


def test_the_root_app_has_a_project_of_its_own_limited_to_argo_cds_namespace_and_kinds(
        rendered: dict[str, list[dict]]) -> None:
    for env, objects in rendered.items():
        project = _named(objects, "AppProject")[f"mlgitops-{env}"]
        windows = [{"kind": "allow", "schedule": "0 8 * * 1-5", "duration": "10h", "applications": ["*"],
                    "manualSync": True, "timeZone": "Europe/Dublin", "description": PROD_WINDOW}]
        assert project["spec"] == {
            "description": f"mlgitops: the root app of {env}, which syncs the projects and applications of "
                           f"generated/{env}/_argocd into Argo CD's namespace",
            "sourceRepos": ["https://github.com/example/ml-platform.git"],
            "destinations": [{"server": "https://kubernetes.default.svc", "namespace": "argocd"}],
            "clusterResourceWhitelist": [],  # Argo CD permits no cluster-scoped kind with an empty list
            "namespaceResourceWhitelist": [{"group": "argoproj.io", "kind": "AppProject"},
                                           {"group": "argoproj.io", "kind": "Application"}],
            **({"syncWindows": windows} if env == "prod" else {}),  # the environment's, as for every project
        }
        assert "mlgitops.io/team" not in project["metadata"]["labels"]
        assert project["metadata"]["annotations"] == {"mlgitops.io/source": f"environments/{env}.yaml",
                                                      "argocd.argoproj.io/sync-wave": "-1"}


PROD_WINDOW = ("automated syncs only 0 8 * * 1-5 for 10h (Europe/Dublin); manual syncs at any time (manualSync); "
               "automated sync is off here, so this window applies only once it is turned on")


def test_sync_windows_run_in_the_regions_zone_and_say_what_they_let_through(repo: Path) -> None:
    """Without `timeZone` Argo CD reads a window's schedule in UTC; `manualSync` lets a person's sync through
    whatever the window says (argo-cd v3.3.0 docs/user-guide/sync_windows.md)."""
    edit(repo, "environments/staging.yaml", "autoSync: true",
         'autoSync: true\n  syncWindows: [{kind: deny, schedule: "0 0 24 12 *", duration: 48h, manualSync: false}]')
    rendered = _render(repo)
    [prod] = _named(rendered["prod"], "AppProject")["prod-personalization"]["spec"]["syncWindows"]
    assert (prod["timeZone"], prod["description"]) == ("Europe/Dublin", PROD_WINDOW)
    [staging] = _named(rendered["staging"], "AppProject")["staging-personalization"]["spec"]["syncWindows"]
    assert staging["description"] == "no automated syncs 0 0 24 12 * for 48h (Europe/Dublin); no manual syncs either"


def test_an_argo_cd_that_cannot_name_a_projects_namespaces_is_refused_at_its_line(repo: Path) -> None:
    """`clusterResourceWhitelist[].name` is new in Argo CD v3.3.0 (argo-cd e77acec, #24674): an older one drops it,
    and each team's project could then create and delete any Namespace of the cluster."""
    edit(repo, "environments/prod.yaml", 'argocd: {version: "3.3"}', 'argocd: {version: "3.2"}')
    result = run_cli(repo, "compile", "--offline", "--env", "prod")
    assert result.exit_code == 2
    [line] = [line for line in result.stderr.splitlines() if "Argo CD 3.2" in line]
    row = (repo / "environments/prod.yaml").read_text().splitlines().index('  argocd: {version: "3.2"}') + 1
    assert line.startswith(f"environments/prod.yaml:{row}:12: platform.argocd.version: "), line
    assert "upgrade Argo CD to 3.3 or later" in line and line.endswith("[E211]"), line


def test_the_root_project_permits_every_object_of_argocd_and_nothing_else(rendered: dict[str, list[dict]]) -> None:
    """What Argo CD checks before it applies each object of the root app (`AppProject.IsResourcePermitted`): its
    kind in the namespaced whitelist, its namespace among the destinations."""
    for env, objects in rendered.items():
        spec = _named(objects, "AppProject")[f"mlgitops-{env}"]["spec"]
        allowed = {(r["group"], r["kind"]) for r in spec["namespaceResourceWhitelist"]}
        destinations = {(d["server"], d["namespace"]) for d in spec["destinations"]}
        assert allowed == set(ROOT_KINDS)
        for obj in objects:
            assert (_group(obj["apiVersion"]), obj["kind"]) in allowed
            assert ("https://kubernetes.default.svc", obj["metadata"]["namespace"]) in destinations


def test_no_application_is_in_the_default_project_and_each_names_a_project_beside_it(compiled: dict) -> None:
    applications = {path: obj for path, obj in compiled.items() if obj["kind"] == "Application"}
    assert len(applications) == 3 * (3 + 1)
    for path, app in applications.items():
        env = path.split("/")[0]
        projects = {o["metadata"]["name"] for p, o in compiled.items()
                    if p.startswith(f"{env}/_argocd/") and o["kind"] == "AppProject"}
        assert app["spec"]["project"] != "default", path
        assert app["spec"]["project"] in projects, path


def test_the_root_objects_are_valid_against_argo_cds_current_crds(rendered: dict[str, list[dict]]) -> None:
    """../shared/crds holds Argo CD 3.5.1's CRDs: what a current cluster serves (the strict schemas are older)."""
    crds = ROOT.parent / "shared" / "crds"
    if not crds.is_dir():
        pytest.skip("../shared/crds is not beside the repository")
    for kind, file in (("AppProject", "argoproj.io_appprojects.yaml.xz"),
                       ("Application", "argoproj.io_applications.yaml.xz")):
        crd = yaml.safe_load(lzma.decompress((crds / file).read_bytes()))
        assert crd["spec"]["scope"] == "Namespaced"  # both live in Argo CD's namespace
        [version] = [v for v in crd["spec"]["versions"] if v["name"] == "v1alpha1"]
        validator = jsonschema.Draft7Validator(version["schema"]["openAPIV3Schema"])
        for env, objects in rendered.items():
            root = _named(objects, kind)[f"mlgitops-{env}"]
            assert [e.message for e in validator.iter_errors(root)] == [], (env, kind)


def test_names_are_unique_across_environments_sharing_one_argo_cd(rendered: dict[str, list[dict]]) -> None:
    keys = [(o["kind"], o["metadata"]["namespace"], o["metadata"]["name"]) for objs in rendered.values() for o in objs]
    assert len(keys) == len(set(keys)) == 24


def test_projects_permit_every_object_the_systems_render(repo: Path) -> None:
    rendered = _render(repo)
    for unit in [u for u in compile_all(Workspace(repo)).units if u.system != ARGOCD_DIR]:
        project = _named(rendered[unit.env], "AppProject")[f"{unit.env}-{TEAMS[unit.system]}"]["spec"]
        namespaced = {(r["group"], r["kind"]) for r in project["namespaceResourceWhitelist"]}
        cluster = {(r["group"], r["kind"], r["name"]) for r in project["clusterResourceWhitelist"]}
        kinds = [(_group(o["apiVersion"]), o["kind"], o["metadata"]) for o in unit.objects]
        assert ("", "Namespace") in [(g, k) for g, k, _ in kinds]  # why the apps don't use CreateNamespace
        for group, kind, meta in kinds:
            if "namespace" in meta:
                assert (group, kind) in namespaced, f"{unit.env}/{unit.system}: {group}/{kind} not whitelisted"
            else:
                assert (group, kind, meta["name"]) in cluster, f"{unit.env}/{unit.system}: {kind} {meta['name']}"


def test_environment_settings_drive_the_objects(repo: Path) -> None:
    edit(repo, "environments/staging.yaml", "namespace: argocd", "namespace: gitops")
    edit(repo, "environments/staging.yaml", "targetRevision: main", "targetRevision: release-7")
    edit(repo, "environments/staging.yaml", "autoSync: true", "autoSync: false")
    edit(repo, "environments/staging.yaml", "namespacePrefix: ml-", "namespacePrefix: stg-")
    objects = _render(repo)["staging"]
    assert {o["metadata"]["namespace"] for o in objects} == {"gitops"}
    apps = _named(objects, "Application")
    assert apps["mlgitops-staging"]["spec"]["destination"]["namespace"] == "gitops"
    assert {a["spec"]["source"]["targetRevision"] for a in apps.values()} == {"release-7"}
    assert not any("automated" in a["spec"]["syncPolicy"] or "finalizers" in a["metadata"] for a in apps.values())
    assert apps["staging-recommender"]["spec"]["destination"]["namespace"] == "stg-recommender"
    assert _named(objects, "AppProject")["staging-personalization"]["spec"]["destinations"][0]["namespace"] == \
        "stg-recommender"


def test_output_is_deterministic_whatever_the_input_order(repo: Path) -> None:
    ws = Workspace(repo)
    environment = load_environments(ws)["dev"]
    systems = [s for s in validate_all(ws)[1] if s.env == "dev"]
    assert _argocd(environment, systems, AUTOSCALED) == _argocd(environment, systems[::-1], AUTOSCALED)


def test_systems_of_another_environment_are_refused(repo: Path) -> None:
    ws = Workspace(repo)
    _, systems = validate_all(ws)
    with pytest.raises(ValueError, match="prod"):
        render_projects(load_environments(ws)["dev"], systems)
