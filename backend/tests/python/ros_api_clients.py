"""Drives statewall's binary API with the real Python clients (routeros_api, librouteros) and
prints what they returned or raised as one JSON object; backend/tests/ros_api.rs checks it.

    ros_api_clients.py CASE HOST PLAIN_PORT TLS_PORT USER PASSWORD
"""
import json
import ssl
import sys

import librouteros
import routeros_api
import routeros_api.exceptions
from librouteros.query import Key

case, host, plain_port, tls_port, user, password = sys.argv[1:7]
plain_port, tls_port = int(plain_port), int(tls_port)


def raised(f):
    """What calling f raised: the exception's class and text (or None if nothing)."""
    try:
        f()
    except Exception as e:  # noqa: BLE001 - the point is to report any exception
        out = {"class": type(e).__module__ + "." + type(e).__name__, "text": str(e)}
        original = getattr(e, "original_message", None)
        if original is not None:
            out["original_message"] = original.decode() if isinstance(original, bytes) else original
        if hasattr(e, "traps"):
            out["traps"] = [t.message for t in e.traps]
        if hasattr(e, "category"):
            out["category"] = e.category
        return out
    return None


def tls_context():
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


def routeros_api_pool(**kw):
    return routeros_api.RouterOsApiPool(
        host, username=user, password=password, port=tls_port, plaintext_login=True,
        use_ssl=True, ssl_verify=False, **kw)


def librouteros_plain(pw=None):
    return librouteros.connect(host, user, password if pw is None else pw, port=plain_port)


result = {}
if case == "set-udp-timeout":
    pool = routeros_api_pool()
    api = pool.get_api()
    tracking = api.get_resource("/ip/firewall/connection/tracking")
    result["before"] = tracking.get()[0]["udp-timeout"]
    tracking.set(udp_timeout="30s")
    result["after"] = tracking.get()[0]["udp-timeout"]
    pool.disconnect()
elif case == "select-where":
    api = librouteros_plain()
    conns = api.path("ip", "firewall", "connection")
    result["tcp"] = list(conns.select(Key("src-address"), Key("dst-address"), Key("protocol"))
                         .where(Key("protocol") == "tcp"))
    result["not_tcp"] = sorted(r["protocol"] for r in conns.select(Key("protocol"))
                               .where(Key("protocol") != "tcp"))
    result["in"] = sorted(r["dst-address"] for r in conns.select(Key("dst-address"))
                          .where(Key("protocol").In("udp", "icmp")))
    result["all"] = len(list(conns))
    # count-only, as librouteros reads it: the !done's attributes as a row.
    result["count_librouteros"] = list(api("/ip/firewall/connection/print", **{"count-only": ""}))
    api.close()
    # ... and as routeros_api does: `=count-only` without a value, the ret in done_message.
    pool = routeros_api_pool()
    reply = pool.get_api().get_resource("/ip/firewall/connection").call(
        "print", {"count-only": None}, {"protocol": "tcp"})
    result["count_routeros_api"] = reply.done_message
    pool.disconnect()
    # TLS with librouteros too.
    api = librouteros.connect(host, user, password, port=tls_port,
                              ssl_wrapper=tls_context().wrap_socket)
    result["tls_identity"] = list(api.path("system", "identity"))
    api.close()
elif case == "errors":
    result["librouteros_wrong_password"] = raised(lambda: librouteros_plain(pw="wrong"))
    result["routeros_api_wrong_password"] = raised(
        lambda: routeros_api.RouterOsApiPool(host, username=user, password="wrong",
                                             port=plain_port, plaintext_login=True).get_api())
    result["routeros_api_challenge_login"] = raised(
        lambda: routeros_api.RouterOsApiPool(host, username=user, password=password,
                                             port=plain_port).get_api())
    api = librouteros_plain()
    result["librouteros_unknown_command"] = raised(
        lambda: list(api("/ip/firewall/connection/frobnicate")))
    result["librouteros_unknown_menu"] = raised(lambda: list(api("/ip/nope/print")))
    result["librouteros_bad_value"] = raised(
        lambda: list(api("/ip/firewall/connection/tracking/set", **{"icmp-timeout": "soon"})))
    # The connection is still good after traps.
    result["after_traps"] = len(list(api.path("ip", "firewall", "connection")))
    api.close()
    pool = routeros_api_pool()
    result["routeros_api_unknown_command"] = raised(
        lambda: pool.get_api().get_resource("/ip/firewall/connection").call("frobnicate"))
    pool.disconnect()
else:
    sys.exit(f"unknown case {case}")
print(json.dumps(result, default=str))
