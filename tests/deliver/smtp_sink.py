"""A real SMTP server on loopback for `tests/cli/deliver.rs` and `benches/deliver.rs`.

aiosmtpd (Debian's python3-aiosmtpd) on 127.0.0.1 at a free port, printed as the first
line on stdout. Each accepted message is written raw to OUT/NNNN.eml with its envelope
recipients in OUT/NNNN.rcpt; every DATA answer is appended to OUT/answers.log as
`CODE MESSAGE-ID`.

  --fail-first N   answer 451 to the first N deliveries of each Message-ID, then 250
  --always CODE    answer CODE (e.g. 550) to every delivery
  --discard        accept without writing the message (benchmarks)
"""
import argparse
import email
import os
import socket
import sys
import threading

from aiosmtpd.controller import Controller


def main():
    p = argparse.ArgumentParser()
    p.add_argument("out")
    p.add_argument("--fail-first", type=int, default=0)
    p.add_argument("--always", type=int, default=0)
    p.add_argument("--discard", action="store_true")
    args = p.parse_args()
    os.makedirs(args.out, exist_ok=True)
    lock = threading.Lock()
    seen = {}
    count = [0]

    class Handler:
        async def handle_DATA(self, server, session, envelope):
            raw = envelope.original_content or envelope.content
            msgid = email.message_from_bytes(raw).get("Message-ID", "-")
            with lock:
                n = seen.get(msgid, 0) + 1
                seen[msgid] = n
                if args.always:
                    code = args.always
                elif n <= args.fail_first:
                    code = 451
                else:
                    code = 250
                with open(os.path.join(args.out, "answers.log"), "a") as log:
                    log.write(f"{code} {msgid}\n")
                if code == 250 and not args.discard:
                    count[0] += 1
                    base = os.path.join(args.out, f"{count[0]:04d}")
                    with open(base + ".eml", "wb") as f:
                        f.write(raw)
                    with open(base + ".rcpt", "w") as f:
                        f.write("\n".join(envelope.rcpt_tos) + "\n")
            if code == 250:
                return "250 2.0.0 OK queued"
            if code == 451:
                return "451 4.3.0 Try again later"
            return f"{code} 5.1.1 Mailbox unavailable"

    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    controller = Controller(Handler(), hostname="127.0.0.1", port=port, decode_data=False)
    controller.start()
    print(port, flush=True)
    try:
        sys.stdin.read()  # until the test closes our stdin (or kills us)
    finally:
        controller.stop()


if __name__ == "__main__":
    main()
