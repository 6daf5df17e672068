"""A real SMTP server for the notification tests, on aiosmtpd (PyPI).

Usage: python3 smtp_sink.py PORT DIR [--slow-first SECONDS] [--refuse ADDRESS]

Every message is written to DIR as NNNN.eml the moment its data has arrived (before the
answer), so a client that dies while waiting for the answer still leaves the message
here, as a real server that took it would. With --slow-first the first message's answer
is held back SECONDS (and DIR/receiving is written when it arrives); --refuse answers
550 for one recipient. DIR/ready is written once the server listens.
"""

import asyncio
import os
import sys
import time

from aiosmtpd.controller import Controller


class Sink:
    def __init__(self, directory, slow_first, refuse):
        self.directory = directory
        self.slow_first = slow_first
        self.refuse = refuse
        self.count = 0

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.refuse and address.lower() == self.refuse.lower():
            return "550 5.1.1 mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.count += 1
        n = self.count
        name = os.path.join(self.directory, "%04d.eml" % n)
        with open(name + ".tmp", "wb") as f:
            f.write(("X-Sink-To: %s\r\n" % ",".join(envelope.rcpt_tos)).encode())
            f.write(envelope.original_content or envelope.content)
        os.rename(name + ".tmp", name)
        if n == 1 and self.slow_first:
            open(os.path.join(self.directory, "receiving"), "w").close()
            await asyncio.sleep(self.slow_first)
        return "250 Message accepted"


def main():
    port = int(sys.argv[1])
    directory = sys.argv[2]
    slow_first = 0.0
    refuse = None
    args = sys.argv[3:]
    while args:
        flag = args.pop(0)
        if flag == "--slow-first":
            slow_first = float(args.pop(0))
        elif flag == "--refuse":
            refuse = args.pop(0)
    os.makedirs(directory, exist_ok=True)
    controller = Controller(
        Sink(directory, slow_first, refuse), hostname="127.0.0.1", port=port
    )
    controller.start()
    open(os.path.join(directory, "ready"), "w").close()
    try:
        while True:
            time.sleep(3600)
    finally:
        controller.stop()


if __name__ == "__main__":
    main()
