"""schemathesis, every check, against /api/schema and the app it describes.

The run goes over HTTP to pytest-django's live server (the app in a thread of this
process) on the real test PostgreSQL and Redis, with the settings of schemathesis.toml
(the file `st run` reads in the repo root). A bounded number of examples per
operation keeps it to about a minute; SCHEMATHESIS_MAX_EXAMPLES raises it.
"""

from __future__ import annotations

import os
from pathlib import Path

import schemathesis
from schemathesis.engine import Status
from schemathesis.engine import events as st_events

from accounts.tokens import access_token_issue
from gamification.catalogue import ensure_catalogue
from gamification.models import Badge
from tests import schemathesis_hooks  # noqa: F401  (registers the run's hooks)
from tests.factories import UserFactory

ROOT = Path(__file__).resolve().parent.parent
MAX_EXAMPLES = int(os.environ.get("SCHEMATHESIS_MAX_EXAMPLES", "25"))
SEED = int(os.environ.get("SCHEMATHESIS_SEED", "20260720"))


def _failures(event) -> list[str]:
    """Readable failures of a finished scenario: operation, check, and the request."""
    out = []
    for case_id, checks in event.recorder.checks.items():
        for check in checks:
            if check.status != Status.FAILURE or check.failure_info is None:
                continue
            failure = check.failure_info.failure
            interaction = event.recorder.interactions.get(case_id)
            response = interaction.response if interaction is not None else None
            body = getattr(response, "content", b"") or b""
            text = body.decode("utf-8", "replace") if isinstance(body, bytes) else str(body)
            answer = f"{response.status_code} {text[:300]}" if response else "-"
            out.append(
                f"{event.label}: {check.name}: {failure.title}\n"
                f"  {failure.message}\n  {check.failure_info.code_sample}\n  -> {answer}"
            )
    return out


def test_schemathesis_finds_no_failure_with_every_check(live_server):
    ensure_catalogue(Badge)  # transaction=True tests start from truncated tables
    user = UserFactory()
    config = schemathesis.Config.from_path(ROOT / "schemathesis.toml")
    project = config.projects.override  # as the CLI applies its options
    headers = {
        "Authorization": f"Bearer {access_token_issue(user).token}",
        # One request per HTTP connection: the live server's request thread (and its
        # database connection) ends with it, so none is left when the test DB is dropped.
        "Connection": "close",
    }
    project.update(headers=headers, workers=1)
    project.generation.update(max_examples=MAX_EXAMPLES, database="none", no_shrink=True)
    project.checks.update(included_check_names=["all"])
    config.update(seed=SEED, max_failures=None)  # reproducible: the CLI's --seed
    config.cache.enabled = False  # no replay of earlier runs' failures, nothing written
    schema = schemathesis.openapi.from_url(f"{live_server.url}/api/schema", config=config)

    failures: list[str] = []
    errors: list[str] = []
    scenarios = cases = 0
    statuses: set[int] = set()
    for event in schemathesis.engine.from_schema(schema).execute():
        if isinstance(event, st_events.ScenarioFinished):
            scenarios += 1
            cases += len(event.recorder.cases)
            statuses |= {
                i.response.status_code for i in event.recorder.interactions.values() if i.response
            }
            failures.extend(_failures(event))
        elif isinstance(event, st_events.NonFatalError | st_events.FatalError):
            errors.append(str(getattr(event, "info", event)))
    assert scenarios >= 38, "every operation of the schema ran"
    assert cases >= 38 * MAX_EXAMPLES, cases
    # The token worked (2xx on signed-in routes too) and inputs were refused (4xx).
    assert {200, 201, 400, 401, 404} <= statuses, statuses
    assert not errors, "\n".join(errors)
    assert not failures, "\n\n".join(failures)
