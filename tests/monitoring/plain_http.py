"""A JSON-over-HTTP call with the standard library, for the monitoring tests that drive a server
without the integration suite's fixtures; and the shop those tests order from."""
import functools
import json
import uuid
from dataclasses import dataclass
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


@dataclass
class Shop:
    """What a customer needs to order: a product (sku) in a zone with a courier, the customer's
    access token and an address in that zone."""
    sku: str
    token: str
    address_id: str


def set_up_shop(api: str, operator: str, operator_password: str, name: str, prefix_digit: str,
                courier_capacity: int, timeout: float = 30) -> Shop:
    """As the operator: a zone (postal prefix `prefix_digit` + four random digits), a product, a
    courier; then a new customer with an address there. Asserts each step's status. `timeout`:
    each call's."""
    call = functools.partial(http, timeout=timeout)
    status, tokens = call("POST", api + "/oauth/token", {"grant_type": "password", "username": operator,
                                                          "password": operator_password}, form=True)
    assert status == 200, tokens
    operator_token = tokens["access_token"]
    prefix = prefix_digit + str(uuid.uuid4().int % 10_000).zfill(4)
    status, zone = call("POST", api + "/api/v1/zones", {"name": name, "postal_prefixes": [prefix]}, operator_token)
    assert status == 201, zone
    sku = name[:3].upper() + "-" + uuid.uuid4().hex[:6].upper()
    status, product = call("POST", api + "/api/v1/catalog/products",
                           {"sku": sku, "name": "Lamp", "price": 1000, "currency": "EUR"}, operator_token)
    assert status == 201, product
    status, courier = call("POST", api + "/api/v1/couriers",
                           {"name": "Carla", "email": f"courier-{uuid.uuid4().hex[:8]}@example.com",
                            "password": "courier password", "zone_id": zone["id"], "capacity": courier_capacity},
                           operator_token)
    assert status == 201, courier
    email, password = f"cus-{uuid.uuid4().hex[:8]}@example.com", "customer password 1"
    status, customer = call("POST", api + "/api/v1/customers", {"email": email, "password": password, "name": "Ana"})
    assert status == 201, customer
    status, tokens = call("POST", api + "/oauth/token", {"grant_type": "password", "username": email,
                                                          "password": password}, form=True)
    assert status == 200, tokens
    token = tokens["access_token"]
    status, address = call("POST", api + f"/api/v1/customers/{customer['id']}/addresses",
                           {"label": "Home", "line1": "Calle 1", "city": "Madrid", "postal_code": prefix + "1",
                            "country": "ES"}, token)
    assert status == 201, address
    return Shop(sku, token, address["id"])

