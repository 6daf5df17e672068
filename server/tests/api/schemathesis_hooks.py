"""Schemathesis hooks for the API contract test (server/tests/api/contract.rs).

The fuzzer behaves like a client that follows the Idempotency-Key rules: a well-formed
key it generated is replaced by a fresh one on every call. Generated keys repeat (the
document's example, the shortest string of the pattern), and the server rightly answers
a key reused for another request with 422 idempotency_key_reused, which would read as a
valid request refused. Malformed keys are sent as generated, so their 400 is still
checked.
"""

import re
import uuid

import schemathesis

WELL_FORMED = re.compile(r"^[!-~]{1,128}$")


@schemathesis.hook
def before_call(context, case, kwargs):
    headers = case.headers or {}
    for name in list(headers):
        if name.lower() == "idempotency-key" and isinstance(headers[name], str):
            if WELL_FORMED.match(headers[name]):
                headers[name] = str(uuid.uuid4())
