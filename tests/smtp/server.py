"""A real SMTP server for the tests (aiosmtpd, from PyPI), speaking SMTP over TCP.

    python3 tests/smtp/server.py --port 2525 --out DIR [--refuse-first N] [--always-refuse ADDR]...

Every accepted message is written to DIR as one .eml file (the bytes received, with an
X-Envelope-To header first). --refuse-first N answers the first N recipients with 451
(try again later); --always-refuse ADDR answers that address with 550 (permanent).
Prints "ready" once listening.
"""

import argparse
import itertools
import os
import threading
import time

from aiosmtpd.controller import Controller


class Handler:
    def __init__(self, out, refuse_first, always_refuse):
        self.out = out
        self.refuse_left = refuse_first
        self.always = {a.lower() for a in always_refuse}
        self.seq = itertools.count()
        self.lock = threading.Lock()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.lower() in self.always:
            return "550 5.1.1 mailbox unavailable"
        with self.lock:
            if self.refuse_left > 0:
                self.refuse_left -= 1
                return "451 4.3.0 try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            n = next(self.seq)
        name = os.path.join(self.out, "%d-%06d.eml" % (os.getpid(), n))
        tmp = name + ".tmp"
        with open(tmp, "wb") as f:
            f.write(("X-Envelope-To: %s\r\n" % ",".join(envelope.rcpt_tos)).encode())
            f.write(envelope.original_content or envelope.content)
        os.rename(tmp, name)
        return "250 Message accepted"


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--refuse-first", type=int, default=0)
    p.add_argument("--always-refuse", action="append", default=[])
    a = p.parse_args()
    os.makedirs(a.out, exist_ok=True)
    c = Controller(Handler(a.out, a.refuse_first, a.always_refuse), hostname="127.0.0.1", port=a.port)
    c.start()
    print("ready", flush=True)
    try:
        while True:
            time.sleep(3600)
    finally:
        c.stop()


if __name__ == "__main__":
    main()
