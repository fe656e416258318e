"""A webhook receiver that verifies every request with the independent
`standardwebhooks` library (the reference implementation of the spec), as a
partner's receiver would, and appends one JSON line per request to a file.

    WEBHOOK_SECRET=whsec_... python3 standard_webhooks_receiver.py <port> <out-file>
"""
import json
import os
import sys
from http.server import BaseHTTPRequestHandler, HTTPServer

from standardwebhooks.webhooks import Webhook

SECRET = os.environ["WEBHOOK_SECRET"]
PORT = int(sys.argv[1])
OUT = sys.argv[2]


class Receiver(BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("content-length", "0")))
        headers = {name.lower(): value for name, value in self.headers.items()}
        record = {"webhook_id": headers.get("webhook-id"), "request_id": headers.get("x-request-id")}
        try:
            record["payload"] = Webhook(SECRET).verify(body, headers)
            record["verified"] = True
        except Exception as error:  # the test reports what failed
            record["verified"] = False
            record["error"] = f"{type(error).__name__}: {error}"
        with open(OUT, "a", encoding="utf-8") as out:
            out.write(json.dumps(record) + "\n")
        self.send_response(204 if record["verified"] else 400)
        self.end_headers()

    def log_message(self, *args):
        pass


HTTPServer(("127.0.0.1", PORT), Receiver).serve_forever()
