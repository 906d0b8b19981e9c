"""Contract violations the check knows about and lets pass, each with its reason.

Only for what cannot be fixed in docs/openapi.yaml: the server is wrong and the fix is pending, or
Prism is wrong. When the document is wrong, fix the document instead. An entry excuses a finding
when all of its given fields match; anything else still fails the run. The run lists entries that
matched nothing (fixed, or their tests did not run): remove those.
"""
from __future__ import annotations

import dataclasses
import re


@dataclasses.dataclass(frozen=True)
class Known:
    kind: str              # response | accepted-invalid-request | undocumented-route
    operation: str         # "METHOD /template" as in docs/openapi.yaml, e.g. "POST /api/v1/orders"
    reason: str            # why it is let pass, and what would end it
    status: int | None = None      # the server's status; None: any
    where: str = ""                # prefix of the violation's location, e.g. "response.body.items"
    message: str = ""              # regular expression searched in Prism's message

    def matches(self, finding) -> bool:
        record = finding.record
        return (finding.kind == self.kind
                and record.operation.startswith(self.operation + " ")
                and (self.status is None or record.status == self.status)
                and finding.where.startswith(self.where)
                and (not self.message
                     or re.search(self.message, str(finding.violation.get("message", ""))) is not None))

    def describe(self) -> str:
        status = "" if self.status is None else f" -> {self.status}"
        where = f" {self.where}" if self.where else ""
        message = f" /{self.message}/" if self.message else ""
        return f"[{self.kind}] {self.operation}{status}{where}{message}: {self.reason}"


KNOWN: list[Known] = [
    Known("undocumented-route", "OPTIONS /api/v1/orders",
          "a CORS preflight (the Fetch standard's protocol, answered for any path before routing for a "
          "--cors-origin): OpenAPI describes the API's operations, not the browser's preflight; "
          "tests/integration/test_cors.py checks it", status=204),
    Known("response", "POST /oauth/authorize",
          "Prism cannot match the documented 303 of the sign-in form's post to its response (the same 303 "
          "of GET /oauth/authorize matches); tests/integration/test_browser_sign_in.py checks its Location",
          status=303, message="Unable to match the returned status code"),
]
