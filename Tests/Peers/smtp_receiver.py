#!/usr/bin/env python3
"""An SMTP server on loopback (aiosmtpd) for the email notification tests.

Prints its port on the first line of stdout, then serves until killed. Each message received is written
to --maildir as N.eml, with its envelope in N.json. With --user and --password it requires AUTH (PLAIN
or LOGIN, over the plain connection: this is loopback) and refuses other credentials.
"""
import argparse
import asyncio
import json
import os
import socket
import time

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

parser = argparse.ArgumentParser()
parser.add_argument("--maildir", required=True)
parser.add_argument("--user")
parser.add_argument("--password")
args = parser.parse_args()
os.makedirs(args.maildir, exist_ok=True)


class Handler:
    count = 0

    async def handle_DATA(self, server, session, envelope):
        Handler.count += 1
        base = os.path.join(args.maildir, str(Handler.count))
        with open(base + ".eml", "wb") as message:
            message.write(envelope.original_content or envelope.content)
        with open(base + ".json", "w") as meta:
            json.dump({"from": envelope.mail_from, "to": envelope.rcpt_tos,
                       "login": session.authenticated}, meta)
        return "250 OK"


def authenticator(server, session, envelope, mechanism, auth_data):
    good = isinstance(auth_data, LoginPassword) and auth_data.login.decode() == args.user \
        and auth_data.password.decode() == args.password
    return AuthResult(success=good, handled=False)


with socket.socket() as probe:
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
options = {}
if args.user:
    options = dict(authenticator=authenticator, auth_required=True, auth_require_tls=False)
controller = Controller(Handler(), hostname="127.0.0.1", port=port, **options)
controller.start()
print(port, flush=True)
try:
    while True:
        time.sleep(3600)
finally:
    controller.stop()
