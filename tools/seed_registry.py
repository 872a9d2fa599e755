"""Seed a local MLflow model registry (sqlite) with the example models, for `make run` and the demo.

Real MLflow, not a stub: registered models, versions with their runs and validation tags, and aliases, as a team's
training pipeline would leave them. Usage: python tools/seed_registry.py sqlite:///.mlgitops/registry.db
Idempotent: an already seeded registry is left as it is.
"""

from __future__ import annotations

import sys

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


def seed(uri: str) -> None:
    client = MlflowClient(tracking_uri=uri, registry_uri=uri)
    if client.search_registered_models(max_results=1):
        return
    experiment = client.create_experiment("training")
    for name, model in MODELS.items():
        client.create_registered_model(name)
        for number, tags in enumerate(model["versions"], 1):
            run = client.create_run(experiment, tags={"mlflow.runName": f"{name}-v{number}"})
            client.set_terminated(run.info.run_id)
            client.create_model_version(name, source=f"s3://ml-models/{name}/{number}", run_id=run.info.run_id,
                                        tags=tags)
        for alias, version in model["aliases"].items():
            client.set_registered_model_alias(name, alias, str(version))


if __name__ == "__main__":
    seed(sys.argv[1])
