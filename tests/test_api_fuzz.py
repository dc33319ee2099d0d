"""Schemathesis over the OpenAPI schema, in-process through Django's WSGI app: no 5xx, every status documented.

Bounded: a few examples per operation and no deadline, so it adds well under a minute to the suite.
"""
import json

import pytest
import schemathesis
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiJsonRenderer
from hypothesis import HealthCheck, Phase, given, settings
from rest_framework.authtoken.models import Token
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import status_code_conformance

from luna.wsgi import application
from operations import tasks

pytestmark = pytest.mark.django_db(transaction=True)  # each request commits: one DB error cannot poison the next
EXAMPLES_PER_OPERATION = 25


def api_schema():
    raw = SchemaGenerator().get_schema(request=None, public=True)
    return schemathesis.openapi.from_dict(json.loads(OpenApiJsonRenderer().render(raw)))


def test_no_request_breaks_the_api(demo_sessions, dead_letters, users, monkeypatch):
    monkeypatch.setattr(tasks, "enqueue", lambda action, template_id: "fuzz-task")  # no broker involved
    headers = {"Authorization": f"Token {Token.objects.create(user=users['admin']).key}"}
    failures, called = [], set()
    operations = [result.ok() for result in api_schema().get_all_operations()]
    for operation in operations:
        @settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None, database=None, derandomize=True,
                  phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
        @given(case=operation.as_strategy())
        def check(case):
            response = case.call(app=application, headers=headers, base_url="http://testserver")
            called.add((case.method, case.path))
            case.validate_response(response, checks=[not_a_server_error, status_code_conformance])

        try:
            check()
        except Exception as exc:  # collect every operation's failure, then report them together
            failures.append(f"{operation.method.upper()} {operation.path}: {str(exc)[:1500]}")
    assert not failures, "\n\n".join(failures)
    assert len(operations) >= 20 and len(called) == len(operations), "every operation was exercised"
