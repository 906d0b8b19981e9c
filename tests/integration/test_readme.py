"""The README's curl walkthroughs, run as written against a fresh server (only the address is
changed), so the README stays true."""
import pathlib
import re
import subprocess

import pytest

README = pathlib.Path(__file__).resolve().parents[2] / "README.md"


def shell_blocks_after(heading: str) -> str:
    text = README.read_text()
    start = text.index(heading)
    return re.search(r"```sh\n(.*?)```", text[start:], re.S).group(1)


def run_block(server, block: str) -> str:
    script = block.replace("http://127.0.0.1:8080", f"http://{server.host}:{server.port}")
    # The README waits a second for background work; a sanitizer build under load gets more.
    script = script.replace("sleep 1 ", "sleep 3 ")
    result = subprocess.run(["bash", "-eo", "pipefail", "-c", script], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr + result.stdout
    return result.stdout


# The operator account the walkthrough signs in as.
WALKTHROUGH_OPERATOR = {"DELIVERYHUB_BOOTSTRAP_OPERATOR_EMAIL": "ops@example.com",
                        "DELIVERYHUB_BOOTSTRAP_OPERATOR_PASSWORD": "change me please"}


@pytest.mark.walkthrough
def test_readme_walkthroughs(make_server):
    check_walkthroughs(make_server(extra_env=WALKTHROUGH_OPERATOR))


def check_walkthroughs(srv) -> None:
    """Runs both walkthroughs against srv (anything with .host and .port, started with
    WALKTHROUGH_OPERATOR; tests/image runs them against the container) and checks what they
    print."""
    first = run_block(srv, shell_blocks_after("## Walkthrough with curl"))
    assert '"email": "ana@example.com"' in first
    assert "precondition-failed" in first

    flow = run_block(srv, shell_blocks_after("### The whole flow"))
    assert '{"status":"confirmed","total":2500' in flow
    assert '"history":["pending","payment_authorized","confirmed","dispatched","delivered"]' in flow
    assert '{"status":"captured","amount":2500,"captured_amount":2500}' in flow
    assert '{"status":"resolved","resolution":{"amount":500,"type":"refund"}}' in flow
    assert '{"status":"partially_refunded","refunded_amount":500}' in flow
    assert '{"status":"delivered","refunded_amount":500}' in flow
