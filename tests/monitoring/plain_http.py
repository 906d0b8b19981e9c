"""A JSON-over-HTTP call with the standard library, for the monitoring tests that drive a server
without the integration suite's fixtures."""
import json
import urllib.error
import urllib.parse
import urllib.request


def http(method, url, body=None, token=None, form=False, headers=None, timeout=30):
    """(status, parsed JSON body or None); a 4xx/5xx is returned, not raised."""
    data, hdrs = None, dict(headers or {})
    if body is not None:
        data = (urllib.parse.urlencode(body) if form else json.dumps(body)).encode()
        hdrs["Content-Type"] = "application/x-www-form-urlencoded" if form else "application/json"
    if token:
        hdrs["Authorization"] = f"Bearer {token}"
    request = urllib.request.Request(url, data=data, method=method, headers=hdrs)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as resp:
            text = resp.read()
            return resp.status, (json.loads(text) if text else None)
    except urllib.error.HTTPError as error:
        text = error.read()
        return error.code, (json.loads(text) if text else None)
