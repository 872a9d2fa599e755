"""Seed a local MLflow model registry (sqlite) with the example models, for `make run` and the demo.

Real MLflow, not a stub: registered models, versions with their runs and validation tags, and aliases, as a team's
training pipeline would leave them. Usage: python tools/seed_registry.py sqlite:///.mlgitops/registry.db
Idempotent: an already seeded registry is left as it is.

Deterministic: every run id is a uuid5 of the model and version (`run_id_of`), not MLflow's random uuid4, so the
committed `mlgitops.lock.yaml` (which records each pinned version's run id) verifies against a registry seeded on
any fresh clone. MLflow has no API to choose a run's id: the seed fixes `uuid.uuid4` for the one `create_run` call
(the sqlite store takes the id from it), and checks that the run got the id it was given.
"""

from __future__ import annotations

import sys
import uuid
from unittest import mock

from mlflow import MlflowClient

# model → [(version tags), ...] in registration order; aliases point at versions (1-based)
MODELS = {
    "recsys-ranker": {
        "versions": [{"validation.status": "approved", "validation.date": "2026-06-01"},
                     {"validation.status": "approved", "validation.date": "2026-11-15",
                      "dataset": "s3://features/recsys/v3"},
                     {"validation.status": "pending"}],
        "aliases": {"champion": 2, "challenger": 3},
    },
    "fraud-xgb": {
        "versions": [{"validation.status": "retired"}] * 6 + [
            {"validation.status": "approved", "validation.date": "2026-11-20",
             "dataset": "s3://payments-lake/transactions/daily"}],
        "aliases": {"production": 7},
    },
    "support-llm": {
        "versions": [{"validation.status": "approved", "validation.date": "2026-09-01"},
                     {"validation.status": "approved", "validation.date": "2026-11-10",
                      "dataset": "s3://support-corpus/conversations/2026-10"}],
        "aliases": {"production": 2},
    },
}


def run_id_of(name: str, number: int) -> str:
    return uuid.uuid5(uuid.NAMESPACE_URL, f"https://mlgitops.io/examples/{name}/{number}").hex


def seed(uri: str) -> None:
    client = MlflowClient(tracking_uri=uri, registry_uri=uri)
    if client.search_registered_models(max_results=1):
        return
    experiment = client.create_experiment("training")
    for name, model in MODELS.items():
        client.create_registered_model(name)
        for number, tags in enumerate(model["versions"], 1):
            wanted = run_id_of(name, number)
            with mock.patch("uuid.uuid4", return_value=uuid.UUID(wanted)):
                run = client.create_run(experiment, tags={"mlflow.runName": f"{name}-v{number}"})
            if run.info.run_id != wanted:
                raise SystemExit(f"{uri}: the registry chose run id {run.info.run_id} (seed a sqlite registry)")
            client.set_terminated(run.info.run_id)
            client.create_model_version(name, source=f"s3://ml-models/{name}/{number}", run_id=run.info.run_id,
                                        tags=tags)
        for alias, version in model["aliases"].items():
            client.set_registered_model_alias(name, alias, str(version))


if __name__ == "__main__":
    seed(sys.argv[1])
