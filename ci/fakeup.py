#!/usr/bin/env python3
"""Fake OpenAI-compatible upstream for gatewatch's LiteLLM integration tests.

Standard library only. Binds 127.0.0.1 (never another interface).

  POST .../chat/completions   JSON answer, or SSE when "stream": true
                              (chunks, a final chunk with finish_reason and
                              usage, then `data: [DONE]`)
  GET  .../models             OpenAI model list
  anything else               404 in the OpenAI error shape

Every request appends one JSON line to LOG: time, method, path, the
Authorization header as received (the keys in tests are fake), and for POST
the model and stream flag. Keys listed one per line in REJECT (re-read on every
request; a missing file rejects nothing) get an OpenAI-style 401
`invalid_api_key`, like a provider that revoked a rotated-out key.

Usage: fakeup.py --port PORT --log LOG --reject REJECT [--parent-pid PID]
  --port 0 binds a free port. The first line on stdout is always
  `fakeup listening on 127.0.0.1:<port>`.
  --parent-pid: exit when that process is gone (no orphan after a crashed test).
"""

import argparse
import json
import os
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

MODELS = ("gpt-4o", "gpt-4o-mini", "gpt-3.5-turbo")
TOKENS = ("Hel", "lo", " from", " fakeup")


def parse_args(argv):
    p = argparse.ArgumentParser(description="fake OpenAI upstream (loopback only)")
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--log", required=True)
    p.add_argument("--reject", required=True)
    p.add_argument("--parent-pid", type=int, default=0)
    return p.parse_args(argv)


ARGS = parse_args(sys.argv[1:])
LOG_LOCK = threading.Lock()


def bearer_key(auth):
    auth = (auth or "").strip()
    return auth[len("Bearer "):].strip() if auth.startswith("Bearer ") else auth


def rejected(auth):
    try:
        with open(ARGS.reject, encoding="utf-8") as f:
            keys = {line.strip() for line in f if line.strip()}
    except OSError:
        return False
    return bearer_key(auth) in keys


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "fakeup/1"

    def log_message(self, *args):
        pass

    def _record(self, **extra):
        entry = {
            "t": round(time.time(), 3),
            "method": self.command,
            "path": self.path,
            "auth": self.headers.get("Authorization"),
        }
        entry.update(extra)
        with LOG_LOCK, open(ARGS.log, "a", encoding="utf-8") as f:
            f.write(json.dumps(entry) + "\n")

    def _json(self, code, obj):
        body = json.dumps(obj).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _reject(self):
        self._json(401, {"error": {
            "message": "Incorrect API key provided. You can find your API key at "
                       "https://platform.openai.com/account/api-keys.",
            "type": "invalid_request_error", "param": None, "code": "invalid_api_key"}})

    def _not_found(self):
        self._json(404, {"error": {"message": f"no route {self.path}", "type": "invalid_request_error",
                                   "param": None, "code": "not_found"}})

    def do_GET(self):
        self._record()
        if rejected(self.headers.get("Authorization")):
            return self._reject()
        if self.path.split("?")[0].rstrip("/").endswith("/models"):
            return self._json(200, {"object": "list", "data": [
                {"id": m, "object": "model", "created": 1700000000, "owned_by": "fakeup"} for m in MODELS]})
        return self._not_found()

    def do_POST(self):
        n = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(n) if n else b""
        try:
            req = json.loads(raw or b"{}")
        except ValueError:
            req = {}
        if not isinstance(req, dict):
            req = {}
        model = req.get("model", "unknown")
        stream = bool(req.get("stream"))
        self._record(model=model, stream=stream)
        if rejected(self.headers.get("Authorization")):
            return self._reject()
        if not self.path.split("?")[0].rstrip("/").endswith("/chat/completions"):
            return self._not_found()
        created = int(time.time())
        if not stream:
            return self._json(200, {
                "id": "chatcmpl-fakeup", "object": "chat.completion", "created": created, "model": model,
                "choices": [{"index": 0, "message": {"role": "assistant", "content": "Hello from fakeup"},
                             "finish_reason": "stop"}],
                "usage": {"prompt_tokens": 5, "completion_tokens": 3, "total_tokens": 8}})
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Connection", "close")
        self.end_headers()

        def chunk(delta, finish, usage=None):
            c = {"id": "chatcmpl-fakeup", "object": "chat.completion.chunk", "created": created, "model": model,
                 "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}
            if usage is not None:
                c["usage"] = usage
            self.wfile.write(b"data: " + json.dumps(c).encode() + b"\n\n")
            self.wfile.flush()

        for i, tok in enumerate(TOKENS):
            delta = {"content": tok}
            if i == 0:
                delta["role"] = "assistant"
            chunk(delta, None)
            time.sleep(0.02)
        chunk({}, "stop", {"prompt_tokens": 5, "completion_tokens": len(TOKENS), "total_tokens": 5 + len(TOKENS)})
        self.wfile.write(b"data: [DONE]\n\n")
        self.wfile.flush()
        self.close_connection = True


def watch_parent(pid):
    while True:
        time.sleep(1)
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            os._exit(0)
        except PermissionError:
            pass


def main():
    server = ThreadingHTTPServer(("127.0.0.1", ARGS.port), Handler)
    server.daemon_threads = True
    if ARGS.parent_pid > 0:
        threading.Thread(target=watch_parent, args=(ARGS.parent_pid,), daemon=True).start()
    print(f"fakeup listening on 127.0.0.1:{server.server_address[1]}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
