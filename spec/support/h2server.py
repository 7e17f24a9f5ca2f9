#!/usr/bin/python3
"""An HTTP/2 peer that misbehaves on purpose, for spec/57-h2_goaway_spec.lua.

    python3 spec/support/h2server.py PORTFILE LOGFILE CERT KEY [goaway=K] [max_streams=N]

TLS on 127.0.0.1 (ephemeral port and pid, written to PORTFILE as "PORT PID"), ALPN "h2" only.
goaway=K   the first connection takes K complete requests (or what has come
           after 2 s) and then sends GOAWAY(last_stream_id=0, NO_ERROR) and
           closes without answering: every stream on it is declared
           unprocessed. Later connections answer normally.
max_streams=N  advertises SETTINGS_MAX_CONCURRENT_STREAMS=N.
delay_ms=N     holds each answer N ms (at most 5000), so requests overlap.
Answering normally: POST .../registry-webhooks/create stores a webhook and
answers {"webhook": {...}} echoing the body; GET .../registry-webhooks/list
answers {"webhooks": [...]}; anything else is a 404 JSON error.
LOGFILE gets one line per event, for the spec to count:
    open <conn>                      a connection negotiated h2
    recv <conn> <stream> <method> <path> <model_name or ->
    answered <conn> <stream> <status>
    goaway <conn> <streams refused>
    refused <conn> <stream>          RST_STREAM(REFUSED_STREAM): past max_streams
    late <conn> <bytes>              what the client sent after the GOAWAY (dropped)
    peak <conn> <most streams open at once>
Bounded: a body past 64 KiB is cut there; the process exits after 120 s idle.
"""
import json
import os
import socket
import ssl
import sys
import threading
import time

import h2.config
import h2.connection
import h2.errors
import h2.events
import h2.exceptions
import h2.settings

BASE = "/api/2.0/mlflow/registry-webhooks/"
MAX_BODY = 65536

portfile, logfile, cert, key = sys.argv[1:5]
opts = dict(a.split("=", 1) for a in sys.argv[5:])
goaway_after = int(opts.get("goaway", "0"))
max_streams = int(opts.get("max_streams", "0"))
delay = min(int(opts.get("delay_ms", "0")), 5000) / 1000.0

lock = threading.Lock()
log = open(logfile, "w", buffering=1)
state = {"conns": 0, "next_id": 1000, "hooks": [], "last": time.time()}


def note(line):
    with lock:
        log.write(line + "\n")
        state["last"] = time.time()


def answer(body_bytes, method, path):
    if method == "POST" and path == BASE + "create":
        try:
            req = json.loads(body_bytes or b"{}")
        except ValueError:
            return 400, {"error_code": "MALFORMED_REQUEST", "message": "bad JSON"}
        with lock:
            state["next_id"] += 1
            now = int(time.time() * 1000)
            wh = {"id": str(state["next_id"]), "creation_timestamp": now,
                  "last_updated_timestamp": now, "status": req.get("status", "ACTIVE")}
            for k in ("model_name", "events", "description", "http_url_spec", "job_spec"):
                if k in req:
                    wh[k] = req[k]
            if "http_url_spec" in wh:
                wh["http_url_spec"] = {k: v for k, v in wh["http_url_spec"].items() if k != "secret"}
            state["hooks"].append(wh)
        return 200, {"webhook": wh}
    if method == "GET" and path.split("?", 1)[0] == BASE + "list":
        with lock:
            return 200, {"webhooks": list(state["hooks"])}
    return 404, {"error_code": "ENDPOINT_NOT_FOUND", "message": "no such endpoint"}


def send_answer(conn, n, stream, status, payload):
    conn.send_headers(stream, [(":status", str(status)), ("content-type", "application/json"),
                               ("content-length", str(len(payload)))])
    conn.send_data(stream, payload, end_stream=True)
    note("answered %d %d %d" % (n, stream, status))


def serve(sock, n):
    cfg = h2.config.H2Configuration(client_side=False, header_encoding="utf-8")
    conn = h2.connection.H2Connection(config=cfg)
    if max_streams:
        conn.update_settings({h2.settings.SettingCodes.MAX_CONCURRENT_STREAMS: max_streams})
    conn.initiate_connection()
    sock.sendall(conn.data_to_send())
    if max_streams:
        # the limit is on the wire; h2 itself would answer a stream past it
        # by killing the connection (PROTOCOL_ERROR), where servers such as
        # nginx refuse just that stream (RST_STREAM REFUSED_STREAM): do that
        conn.local_settings = h2.settings.Settings(client=False)
    refuse = goaway_after > 0 and n == 1
    streams, done, open_now, peak = {}, [], 0, 0
    started = time.time()
    sock.settimeout(0.01)
    due = []  # answers held back by delay_ms: (time, stream, status, payload)
    try:
        while True:
            now = time.time()
            for d in [d for d in due if d[0] <= now]:
                due.remove(d)
                send_answer(conn, n, d[1], d[2], d[3])
                open_now -= 1
            sock.sendall(conn.data_to_send())
            if refuse and (len(done) >= goaway_after or (done and time.time() - started > 2)):
                conn.close_connection(error_code=0, last_stream_id=0)
                sock.sendall(conn.data_to_send())
                note("goaway %d %d" % (n, len(streams)))
                # a graceful end, as nginx's lingering close: read (and drop)
                # what the client still sends until it closes, so the kernel
                # does not answer unread bytes with a RST
                deadline, late = time.time() + 2, 0
                while time.time() < deadline:
                    try:
                        data = sock.recv(65536)
                    except socket.timeout:
                        continue
                    if not data:
                        break
                    late += len(data)
                note("late %d %d" % (n, late))
                return
            try:
                data = sock.recv(65536)
            except socket.timeout:
                continue
            if not data:
                return
            for ev in conn.receive_data(data):
                if isinstance(ev, h2.events.RequestReceived):
                    if max_streams and open_now >= max_streams:
                        conn.reset_stream(ev.stream_id, error_code=h2.errors.ErrorCodes.REFUSED_STREAM)
                        note("refused %d %d" % (n, ev.stream_id))
                        continue
                    h = dict(ev.headers)
                    streams[ev.stream_id] = {"method": h.get(":method"), "path": h.get(":path"), "body": b""}
                    open_now += 1
                    peak = max(peak, open_now)
                elif isinstance(ev, h2.events.DataReceived):
                    s = streams.get(ev.stream_id)
                    if s is not None and len(s["body"]) + len(ev.data) <= MAX_BODY:
                        s["body"] += ev.data
                    conn.acknowledge_received_data(ev.flow_controlled_length, ev.stream_id)
                elif isinstance(ev, h2.events.StreamEnded):
                    s = streams.get(ev.stream_id)
                    if s is None:  # refused above
                        continue
                    model = "-"
                    try:
                        model = json.loads(s["body"]).get("model_name", "-")
                    except (ValueError, AttributeError):
                        pass
                    note("recv %d %d %s %s %s" % (n, ev.stream_id, s["method"], s["path"], model))
                    if refuse:
                        done.append(ev.stream_id)
                        continue
                    status, obj = answer(s["body"], s["method"], s["path"])
                    payload = json.dumps(obj).encode()
                    if delay:
                        due.append((time.time() + delay, ev.stream_id, status, payload))
                        continue
                    send_answer(conn, n, ev.stream_id, status, payload)
                    open_now -= 1
                elif isinstance(ev, h2.events.StreamReset) and streams.pop(ev.stream_id, None):
                    open_now -= 1
                elif isinstance(ev, h2.events.ConnectionTerminated):
                    return
            sock.sendall(conn.data_to_send())
    except (OSError, ssl.SSLError, h2.exceptions.ProtocolError):
        return
    finally:
        note("peak %d %d" % (n, peak))
        try:
            sock.close()
        except OSError:
            pass


def main():
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    ctx.set_alpn_protocols(["h2"])
    lsock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    lsock.bind(("127.0.0.1", 0))
    lsock.listen(64)
    lsock.settimeout(1)
    with open(portfile + ".tmp", "w") as f:
        f.write("%d %d" % (lsock.getsockname()[1], os.getpid()))
    os.rename(portfile + ".tmp", portfile)
    print(lsock.getsockname()[1], flush=True)
    while time.time() - state["last"] < 120:
        try:
            raw, _ = lsock.accept()
        except socket.timeout:
            continue
        try:
            raw.settimeout(5)
            tls = ctx.wrap_socket(raw, server_side=True)
        except (OSError, ssl.SSLError):
            raw.close()
            continue
        if tls.selected_alpn_protocol() != "h2":
            tls.close()
            continue
        with lock:
            state["conns"] += 1
            n = state["conns"]
        note("open %d" % n)
        threading.Thread(target=serve, args=(tls, n), daemon=True).start()


main()
