#!/usr/bin/python3
"""A real SMTP server for the tests, on aiosmtpd: delivers into a
Maildir, optionally requires STARTTLS and AUTH, speaks implicit TLS,
or refuses chosen recipients with 550.

  smtpd.py --port N --maildir DIR [--cert C --key K (--starttls|--smtps)]
           [--user U --password-file F] [--reject ADDR]... [--pidfile F]
"""
import argparse
import asyncio
import mailbox
import os
import signal
import ssl
import sys
import time

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


class Handler:
    def __init__(self, maildir, reject):
        self.box = mailbox.Maildir(maildir, create=True)
        self.reject = {r.lower() for r in reject}

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.lower() in self.reject:
            return "550 5.1.1 mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        msg = (
            "X-MailFrom: %s\r\nX-RcptTo: %s\r\nX-TLS: %s\r\nX-Auth: %s\r\n"
            % (
                envelope.mail_from,
                ", ".join(envelope.rcpt_tos),
                "yes" if (session.ssl or
                          server.transport.get_extra_info("ssl_object"))
                else "no",
                session.authenticated and "yes" or "no",
            )
        ).encode() + envelope.original_content
        self.box.add(msg)
        return "250 Message accepted"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--maildir", required=True)
    ap.add_argument("--cert")
    ap.add_argument("--key")
    ap.add_argument("--starttls", action="store_true")
    ap.add_argument("--smtps", action="store_true")
    ap.add_argument("--user")
    ap.add_argument("--password-file")
    ap.add_argument("--reject", action="append", default=[])
    ap.add_argument("--pidfile")
    a = ap.parse_args()

    ctx = None
    if a.cert:
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ctx.load_cert_chain(a.cert, a.key)

    kw = {}
    if a.user:
        with open(a.password_file) as f:
            secret = f.readline().rstrip("\n")

        def authenticator(server, session, envelope, mechanism, auth_data):
            ok = (
                isinstance(auth_data, LoginPassword)
                and auth_data.login.decode() == a.user
                and auth_data.password.decode() == secret
            )
            # handled=False: aiosmtpd answers a failure itself (535).
            return AuthResult(success=ok, handled=False)

        kw["authenticator"] = authenticator
        # Implicit TLS is TLS too (aiosmtpd only counts STARTTLS).
        kw["auth_require_tls"] = not a.smtps
        kw["auth_required"] = True
    if ctx and a.starttls:
        kw["tls_context"] = ctx
        kw["require_starttls"] = True
    if ctx and a.smtps:
        kw["ssl_context"] = ctx

    c = Controller(Handler(a.maildir, a.reject), hostname="127.0.0.1",
                   port=a.port, ready_timeout=10, **kw)
    c.start()
    if a.pidfile:
        with open(a.pidfile + ".tmp", "w") as f:
            f.write("%d\n" % os.getpid())
        os.rename(a.pidfile + ".tmp", a.pidfile)
    stop = []
    signal.signal(signal.SIGTERM, lambda *x: stop.append(1))
    signal.signal(signal.SIGINT, lambda *x: stop.append(1))
    while not stop:
        time.sleep(0.1)
    c.stop()


if __name__ == "__main__":
    main()
